package jobs

import (
	"gorm.io/gorm"

	"github.com/automations-dev/automations/jobs/sender"
	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/secretbox"
)

// ActionDeps are what the actions need to act.
type ActionDeps struct {
	DB      *gorm.DB
	Secrets *secretbox.Box
	Sender  *sender.Sender
}

// NewActions returns every action by the action type it runs.
func NewActions(d ActionDeps) map[string]Action {
	return map[string]Action{
		models.ActionWebhook: NewWebhookAction(d.DB, d.Secrets, d.Sender),
		models.ActionLaunch:  &LaunchAction{DB: d.DB},
	}
}
