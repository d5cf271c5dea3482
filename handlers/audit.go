package handlers

import (
	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/audit"
)

// Audit kinds (DESIGN.md §13). Before and After never hold secret values.
const (
	auditMemberAdd            = "member.add"
	auditMemberRole           = "member.role"
	auditMemberRemove         = "member.remove"
	auditSecretCreate         = "secret.create"
	auditSecretUpdate         = "secret.update"
	auditSecretDelete         = "secret.delete"
	auditWebhookCreate        = "webhook.create"
	auditWebhookUpdate        = "webhook.update"
	auditWebhookDelete        = "webhook.delete"
	auditSlackCreate          = "slack.create"
	auditSlackDelete          = "slack.delete"
	auditAutomationCreate     = "automation.create"
	auditAutomationUpdate     = "automation.update"
	auditAutomationEnable     = "automation.enable"
	auditAutomationDisable    = "automation.disable"
	auditAutomationDelete     = "automation.delete"
	auditQueueCreate          = "queue.create"
	auditQueueDelete          = "queue.delete"
	auditServiceAccountCreate = "service_account.create"
	auditServiceAccountDelete = "service_account.delete"
	auditAPIKeyCreate         = "api_key.create"
	auditAPIKeyRevoke         = "api_key.revoke"
)

// actorName is who the audit log says acted: the display name, as the
// user.* entries of models/people record it (a service account's is its
// name, a person's their name or else their email).
func actorName(u *models.User) string { return u.DisplayName() }

// teamLog, registryLog and siteLog say whose log an entry appears in.
func teamLog(t *models.Team) audit.Entry {
	id := t.ID
	return audit.Entry{TeamID: &id}
}

func registryLog(r *models.Registry) audit.Entry {
	id := r.ID
	return audit.Entry{RegistryID: &id}
}

func siteLog() audit.Entry { return audit.Entry{} }

// audited runs act and records the entry act fills in, in one transaction,
// so an entry exists exactly when its change does. act sets Kind, Target,
// Before and After on e; an empty Kind records nothing (nothing changed).
// act must do its writes through tx.
func (h *Handler) audited(c echo.Context, e audit.Entry, act func(tx *gorm.DB, e *audit.Entry) error) error {
	ctx := c.Request().Context()
	if u := CurrentUser(c); u != nil {
		e.ActorID, e.ActorName = &u.ID, actorName(u)
	}
	return h.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := act(tx, &e); err != nil {
			return err
		}
		if e.Kind == "" {
			return nil
		}
		return audit.Record(ctx, tx, e)
	})
}
