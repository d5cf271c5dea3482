package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/audit"
)

// enableTarget is the integration a Re-enable names, of the current team.
type enableTarget struct {
	ref    models.IntegrationRef
	name   string
	health models.IntegrationHealth
}

func (h *Handler) webhookEnableTarget(c echo.Context) (*enableTarget, error) {
	w, err := models.WebhookByName(c.Request().Context(), h.db, currentTeam(c).ID, c.Param("name"))
	if err != nil {
		return nil, err
	}
	return &enableTarget{ref: models.IntegrationRef{Kind: models.IntegrationWebhook, ID: w.ID}, name: w.Name, health: w.Health}, nil
}

func (h *Handler) slackEnableTarget(c echo.Context) (*enableTarget, error) {
	notFound := &Error{Status: http.StatusNotFound, Message: "This team has no such Slack integration."}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return nil, notFound
	}
	s, err := models.SlackIntegrationByID(c.Request().Context(), h.db, id)
	if errors.Is(err, models.ErrNotFound) || (err == nil && s.TeamID != currentTeam(c).ID) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	return &enableTarget{ref: models.IntegrationRef{Kind: models.IntegrationSlack, ID: s.ID}, name: "#" + s.ChannelName, health: s.Health}, nil
}

// parseHeld reads the held-deliveries choice: send (the default) or discard.
func parseHeld(v string) (bool, error) {
	switch v {
	case "", "send":
		return true, nil
	case "discard":
		return false, nil
	}
	return false, models.Invalid("held", "must be send or discard")
}

// enable re-enables the integration, moves its held deliveries, records
// the change in the audit log, and wakes the worker.
func (h *Handler) enable(c echo.Context, t *enableTarget, send bool) (int64, error) {
	ctx := c.Request().Context()
	team, u := currentTeam(c), CurrentUser(c)
	var moved int64
	err := h.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if moved, err = models.EnableIntegration(ctx, tx, t.ref, team.ID, send); err != nil {
			return err
		}
		choice := "send"
		if !send {
			choice = "discard"
		}
		return audit.Record(ctx, tx, audit.Entry{
			TeamID: &team.ID, ActorID: &u.ID, ActorName: u.Email, Kind: t.ref.Kind + ".enable", Target: t.name,
			Before: audit.JSON(map[string]any{"enabled": !t.health.Disabled(), "reason": t.health.DisabledReason}),
			After:  audit.JSON(map[string]any{"enabled": true, "held": choice, "deliveries": moved}),
		})
	})
	if err != nil {
		return 0, err
	}
	if send && moved > 0 {
		h.wakeDeliveries()
	}
	return moved, nil
}

type enableBody struct {
	Held string `json:"held"`
}

func (h *Handler) apiEnable(c echo.Context, target func(echo.Context) (*enableTarget, error)) error {
	var body enableBody
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	t, err := target(c)
	if err != nil {
		return err
	}
	send, err := parseHeld(body.Held)
	if err != nil {
		return err
	}
	moved, err := h.enable(c, t, send)
	if err != nil {
		return err
	}
	out := map[string]any{"enabled": true, "held_sent": 0, "held_discarded": 0}
	if send {
		out["held_sent"] = moved
	} else {
		out["held_discarded"] = moved
	}
	return c.JSON(http.StatusOK, out)
}

// APIWebhookEnable is POST /api/v1/teams/:team/webhooks/:name/enable {held: send|discard}.
func (h *Handler) APIWebhookEnable(c echo.Context) error {
	return h.apiEnable(c, h.webhookEnableTarget)
}

// APISlackIntegrationEnable is POST /api/v1/teams/:team/slack/integrations/:id/enable {held: send|discard}.
func (h *Handler) APISlackIntegrationEnable(c echo.Context) error {
	return h.apiEnable(c, h.slackEnableTarget)
}

func (h *Handler) formEnable(c echo.Context, target func(echo.Context) (*enableTarget, error), section string) error {
	t, err := target(c)
	if err != nil {
		return err
	}
	team := currentTeam(c)
	send, err := parseHeld(c.FormValue("held"))
	if h.flashRefusal(c, err) {
		return redirect(c, settingsURL(team.Name, section))
	}
	moved, err := h.enable(c, t, send)
	if err != nil {
		return err
	}
	verb := "sent again"
	if !send {
		verb = "discarded"
	}
	h.flash(c, "success", fmt.Sprintf("%s re-enabled; %d held %s %s.", t.name, moved, pluralWord(moved, "delivery", "deliveries"), verb))
	return redirect(c, settingsURL(team.Name, section))
}

// WebhookEnable is POST /teams/:team/webhooks/:name/enable (Re-enable).
func (h *Handler) WebhookEnable(c echo.Context) error {
	return h.formEnable(c, h.webhookEnableTarget, "webhooks")
}

// SlackIntegrationEnable is POST /teams/:team/slack/integrations/:id/enable (Re-enable).
func (h *Handler) SlackIntegrationEnable(c echo.Context) error {
	return h.formEnable(c, h.slackEnableTarget, "slack")
}

func pluralWord(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// disabledIntegration is the banner of an automation whose integration is
// disabled: shown to admins of the integration's team (who may re-enable
// it) and site admins; nil for everyone else and for healthy integrations.
func (h *Handler) disabledIntegration(ctx context.Context, u *models.User, a *models.Automation) (*models.DisabledIntegrationNotice, bool, error) {
	role, err := models.TeamRole(ctx, h.db, a.TeamID, u.ID)
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return nil, false, err
	}
	if !models.CanAdmin(u, role) {
		return nil, false, nil
	}
	n, err := models.DisabledIntegrationOf(ctx, h.db, a)
	return n, true, err
}
