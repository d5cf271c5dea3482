package handlers

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/views"
)

// parseSpan reads a duration as people write it: Go's 90m, 24h, 1h30m,
// and whole days as 7d. Empty is def.
func parseSpan(field, s string, def time.Duration) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return def, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, models.Invalid(field, "%q is not a duration; write it like 24h, 90m or 7d", s)
	}
	return d, nil
}

// rotateWebhook parses and applies a rotation of the route's webhook.
func (h *Handler) rotateWebhook(c echo.Context, secret, overlap string) (*models.Webhook, error) {
	ctx, t := c.Request().Context(), currentTeam(c)
	w, err := models.WebhookByName(ctx, h.db, t.ID, c.Param("name"))
	if err != nil {
		return nil, err
	}
	d, err := parseSpan("overlap", overlap, models.DefaultRotationOverlap)
	if err != nil {
		return w, err
	}
	rotated, err := models.RotateSigningSecret(ctx, h.db, w.ID, models.Rotation{Secret: strings.TrimSpace(secret), Overlap: d}, CurrentUser(c))
	if err != nil {
		return w, err
	}
	return rotated, nil
}

// WebhookRotateSecret is POST /teams/:team/webhooks/:name/rotate-secret,
// the webhook page's Rotate signing secret form.
func (h *Handler) WebhookRotateSecret(c echo.Context) error {
	t := currentTeam(c)
	w, err := h.rotateWebhook(c, c.FormValue("secret"), c.FormValue("overlap"))
	if errs, status, ok := fieldErrors(err); ok {
		form := views.Form{Values: map[string]string{"secret": c.FormValue("secret"), "overlap": c.FormValue("overlap")}, Errors: errs}
		return h.renderWebhookPage(c, status, w, form, defaultRetryForm())
	}
	if err != nil {
		return err
	}
	msg := "Webhook " + w.Name + " now signs with " + w.SigningSecret + "."
	if w.RotationInProgress(time.Now()) {
		msg += " " + w.PreviousSigningSecret + " also signs until " + w.PreviousSigningUntil.UTC().Format("2006-01-02 15:04 UTC") + "."
	}
	h.flash(c, "success", msg)
	return redirect(c, webhookPageURL(t.Name, w.Name))
}

type rotateBody struct {
	Secret  string `json:"secret"`
	Overlap string `json:"overlap"`
}

// APIWebhookRotateSecret is POST /api/v1/teams/:team/webhooks/:name/rotate-secret
// {secret, overlap}: secret names the team secret that signs from now on;
// overlap (default 24h) is how long the current one keeps signing too.
func (h *Handler) APIWebhookRotateSecret(c echo.Context) error {
	var body rotateBody
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	w, err := h.rotateWebhook(c, body.Secret, body.Overlap)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toWebhookJSON(w))
}
