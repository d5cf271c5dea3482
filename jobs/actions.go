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
	// SlackAPIURL is Slack's API base (SLACK_API_URL); BaseURL is this
	// application's public URL, for links in Slack messages.
	SlackAPIURL string
	BaseURL     string
}

// NewActions returns every action by the action type it runs.
func NewActions(d ActionDeps) map[string]Action {
	return map[string]Action{
		models.ActionWebhook: NewWebhookAction(d.DB, d.Secrets, d.Sender),
		models.ActionSlack:   &SlackAction{DB: d.DB, Secrets: d.Secrets, APIURL: d.SlackAPIURL, BaseURL: d.BaseURL},
		models.ActionLaunch:  &LaunchAction{DB: d.DB},
	}
}
