package handlers

import (
	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/audit"
)

// Changes to a team's secrets, webhooks, Slack integrations and queues,
// each recorded in the team's audit log in the transaction that makes it.
// Secret values never reach an entry: only names do.

func (h *Handler) createSecret(c echo.Context, t *models.Team, name, value string) (*models.Secret, error) {
	var s *models.Secret
	err := h.audited(c, teamLog(t), func(tx *gorm.DB, e *audit.Entry) error {
		var err error
		if s, err = models.CreateSecret(c.Request().Context(), tx, h.secrets, t.ID, name, value, CurrentUser(c)); err != nil {
			return err
		}
		e.Kind, e.Target = auditSecretCreate, s.Name
		e.After = audit.JSON(map[string]any{"name": s.Name})
		return nil
	})
	return s, err
}

func (h *Handler) updateSecret(c echo.Context, t *models.Team, name, value string) error {
	return h.audited(c, teamLog(t), func(tx *gorm.DB, e *audit.Entry) error {
		if err := models.UpdateSecret(c.Request().Context(), tx, h.secrets, t.ID, name, value, CurrentUser(c)); err != nil {
			return err
		}
		e.Kind, e.Target = auditSecretUpdate, name
		e.After = audit.JSON(map[string]any{"name": name, "value": "replaced"})
		return nil
	})
}

func (h *Handler) deleteSecret(c echo.Context, t *models.Team, name string) error {
	return h.audited(c, teamLog(t), func(tx *gorm.DB, e *audit.Entry) error {
		if err := models.DeleteSecret(c.Request().Context(), tx, t.ID, name); err != nil {
			return err
		}
		e.Kind, e.Target = auditSecretDelete, name
		e.Before = audit.JSON(map[string]any{"name": name})
		return nil
	})
}

// webhookSummary is what the log keeps of a webhook: its URL and the
// names of the secrets it may use.
func webhookSummary(w *models.Webhook) map[string]any {
	return map[string]any{"name": w.Name, "url": w.URL, "access_token_secret": w.AccessTokenSecret,
		"signing_secret": w.SigningSecret, "secrets": w.Secrets}
}

// precheckURL runs the webhook URL check (which may resolve the host)
// before the transaction begins, so a slow lookup never holds the
// database's write lock; the model then gets the answer already known.
func precheckURL(spec models.WebhookSpec) models.WebhookSpec {
	check := spec.CheckURL
	if check == nil {
		return spec
	}
	checked, result := spec.URL, check(spec.URL)
	spec.CheckURL = func(u string) error {
		if u == checked {
			return result
		}
		return check(u)
	}
	return spec
}

func (h *Handler) createWebhook(c echo.Context, t *models.Team, spec models.WebhookSpec) (*models.Webhook, error) {
	spec = precheckURL(spec)
	var w *models.Webhook
	err := h.audited(c, teamLog(t), func(tx *gorm.DB, e *audit.Entry) error {
		var err error
		if w, err = models.CreateWebhook(c.Request().Context(), tx, t.ID, spec, CurrentUser(c)); err != nil {
			return err
		}
		e.Kind, e.Target = auditWebhookCreate, w.Name
		e.After = audit.JSON(webhookSummary(w))
		return nil
	})
	return w, err
}

func (h *Handler) updateWebhook(c echo.Context, t *models.Team, before *models.Webhook, spec models.WebhookSpec) (*models.Webhook, error) {
	spec = precheckURL(spec)
	var w *models.Webhook
	err := h.audited(c, teamLog(t), func(tx *gorm.DB, e *audit.Entry) error {
		var err error
		if w, err = models.UpdateWebhook(c.Request().Context(), tx, before.ID, spec); err != nil {
			return err
		}
		e.Kind, e.Target = auditWebhookUpdate, w.Name
		e.Before, e.After = audit.JSON(webhookSummary(before)), audit.JSON(webhookSummary(w))
		return nil
	})
	return w, err
}

func (h *Handler) deleteWebhook(c echo.Context, t *models.Team, w *models.Webhook) error {
	return h.audited(c, teamLog(t), func(tx *gorm.DB, e *audit.Entry) error {
		if err := models.DeleteWebhook(c.Request().Context(), tx, w.ID); err != nil {
			return err
		}
		e.Kind, e.Target = auditWebhookDelete, w.Name
		e.Before = audit.JSON(webhookSummary(w))
		return nil
	})
}

func slackSummary(s *models.SlackIntegration) map[string]any {
	return map[string]any{"workspace": s.WorkspaceName, "channel": "#" + s.ChannelName, "channel_id": s.ChannelID}
}

func (h *Handler) createSlackIntegration(c echo.Context, t *models.Team, src *slackSource, channelID, channelName string) (*models.SlackIntegration, error) {
	var s *models.SlackIntegration
	err := h.audited(c, teamLog(t), func(tx *gorm.DB, e *audit.Entry) error {
		var err error
		s, err = models.CreateSlackIntegration(c.Request().Context(), tx, h.secrets, t.ID, src.workspace, src.workspaceName,
			channelID, channelName, src.token, CurrentUser(c))
		if err != nil {
			return err
		}
		e.Kind, e.Target = auditSlackCreate, "#"+s.ChannelName
		e.After = audit.JSON(slackSummary(s))
		return nil
	})
	return s, err
}

func (h *Handler) deleteSlackIntegration(c echo.Context, t *models.Team, s *models.SlackIntegration) error {
	return h.audited(c, teamLog(t), func(tx *gorm.DB, e *audit.Entry) error {
		if err := models.DeleteSlackIntegration(c.Request().Context(), tx, s.ID); err != nil {
			return err
		}
		e.Kind, e.Target = auditSlackDelete, "#"+s.ChannelName
		e.Before = audit.JSON(slackSummary(s))
		return nil
	})
}

func (h *Handler) createQueue(c echo.Context, t *models.Team, name string) (*models.Queue, error) {
	var q *models.Queue
	err := h.audited(c, teamLog(t), func(tx *gorm.DB, e *audit.Entry) error {
		var err error
		if q, err = models.CreateQueue(c.Request().Context(), tx, t, name, CurrentUser(c)); err != nil {
			return err
		}
		e.Kind, e.Target = auditQueueCreate, q.Name
		e.After = audit.JSON(map[string]any{"name": q.Name})
		return nil
	})
	return q, err
}

func (h *Handler) deleteQueue(c echo.Context, t *models.Team, q *models.Queue) error {
	return h.audited(c, teamLog(t), func(tx *gorm.DB, e *audit.Entry) error {
		if err := models.DeleteQueue(c.Request().Context(), tx, q); err != nil {
			return err
		}
		e.Kind, e.Target = auditQueueDelete, q.Name
		e.Before = audit.JSON(map[string]any{"name": q.Name})
		return nil
	})
}
