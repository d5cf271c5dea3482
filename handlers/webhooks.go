package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/jobs/sender"
	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/views"
)

// checkWebhookURL is the save-time URL rule of DESIGN.md §6, from the
// sender (which knows ALLOWED_TARGETS), as an error on the url field.
func (h *Handler) checkWebhookURL(raw string) error {
	err := h.sender.ValidateURL(raw)
	var ie *sender.InvalidURLError
	if errors.As(err, &ie) {
		return models.Invalid("url", "%s", ie.Reason)
	}
	return err
}

func (h *Handler) webhookSpecFromForm(c echo.Context) models.WebhookSpec {
	var granted []string
	if form, err := c.FormParams(); err == nil {
		granted = form["secrets"]
	}
	return models.WebhookSpec{
		Name:              c.FormValue("name"),
		URL:               c.FormValue("url"),
		AccessTokenSecret: c.FormValue("access_token_secret"),
		SigningSecret:     c.FormValue("signing_secret"),
		Secrets:           granted,
		MaxConcurrent:     limitField(c.FormValue("max_concurrent")),
		MaxPerMinute:      limitField(c.FormValue("max_per_minute")),
		CheckURL:          h.checkWebhookURL,
	}
}

// limitField reads a limit field; anything not a whole number becomes -1,
// which the limits' validation refuses with its message.
func limitField(s string) int {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

func webhookForm(s models.WebhookSpec, errs map[string]string) views.Form {
	return views.Form{Values: map[string]string{
		"name": s.Name, "url": s.URL, "access_token_secret": s.AccessTokenSecret, "signing_secret": s.SigningSecret,
		"max_concurrent": limitValue(s.MaxConcurrent, models.DefaultMaxConcurrent), "max_per_minute": limitValue(s.MaxPerMinute, 0),
	}, Errors: errs}
}

func limitValue(n, zero int) string {
	if n == 0 {
		n = zero
	}
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// WebhookCreate is POST /teams/:team/webhooks: the New webhook form.
func (h *Handler) WebhookCreate(c echo.Context) error {
	t := currentTeam(c)
	spec := h.webhookSpecFromForm(c)
	w, err := h.createWebhook(c, t, spec)
	if errs, status, ok := fieldErrors(err); ok {
		panel := views.SettingsPanel{Open: views.PanelNewWebhook, Form: webhookForm(spec, errs), Granted: spec.Secrets}
		return h.renderSettings(c, status, views.NewForm(), panel, views.NewForm())
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", "Webhook "+w.Name+" created.")
	return redirect(c, settingsURL(t.Name, "webhooks"))
}

// WebhookEdit is GET /teams/:team/webhooks/:name/edit: the page with the
// webhook's edit form open.
func (h *Handler) WebhookEdit(c echo.Context) error {
	t := currentTeam(c)
	w, err := models.WebhookByName(c.Request().Context(), h.db, t.ID, c.Param("name"))
	if err != nil {
		return err
	}
	spec := models.WebhookSpec{Name: w.Name, URL: w.URL, AccessTokenSecret: w.AccessTokenSecret, SigningSecret: w.SigningSecret,
		MaxConcurrent: w.MaxConcurrent, MaxPerMinute: w.MaxPerMinute}
	panel := views.SettingsPanel{Open: views.PanelEditWebhook, Name: w.Name, Form: webhookForm(spec, map[string]string{}), Granted: w.Secrets}
	return h.renderSettings(c, http.StatusOK, views.NewForm(), panel, views.NewForm())
}

// WebhookUpdate is POST /teams/:team/webhooks/:name: the edit form.
func (h *Handler) WebhookUpdate(c echo.Context) error {
	ctx, t := c.Request().Context(), currentTeam(c)
	w, err := models.WebhookByName(ctx, h.db, t.ID, c.Param("name"))
	if err != nil {
		return err
	}
	spec := h.webhookSpecFromForm(c)
	updated, err := h.updateWebhook(c, t, w, spec)
	if errs, status, ok := fieldErrors(err); ok {
		panel := views.SettingsPanel{Open: views.PanelEditWebhook, Name: w.Name, Form: webhookForm(spec, errs), Granted: spec.Secrets}
		return h.renderSettings(c, status, views.NewForm(), panel, views.NewForm())
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", "Webhook "+updated.Name+" saved.")
	return redirect(c, settingsURL(t.Name, "webhooks"))
}

// WebhookDelete is POST /teams/:team/webhooks/:name/delete. A refusal (an
// automation uses it) comes back as a flash naming the automations.
func (h *Handler) WebhookDelete(c echo.Context) error {
	ctx, t := c.Request().Context(), currentTeam(c)
	w, err := models.WebhookByName(ctx, h.db, t.ID, c.Param("name"))
	if err != nil {
		return err
	}
	err = h.deleteWebhook(c, t, w)
	if h.flashRefusal(c, err) {
		return redirect(c, settingsURL(t.Name, "webhooks"))
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", "Webhook "+w.Name+" deleted.")
	return redirect(c, settingsURL(t.Name, "webhooks"))
}
