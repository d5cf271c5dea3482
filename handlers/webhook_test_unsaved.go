package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/views"
)

// WebhookTestUnsaved is POST /teams/:team/webhook-test: the Test button of
// the New and Edit webhook forms (seed 000 step 7). It sends the form's
// unsaved values (URL, access token, secret, granted secrets) and the
// optional test payload through the Test panel's code, and saves nothing.
// htmx gets the result fragment; a plain post gets the page with the form
// still open, its values kept and the result under it. "editing" names the
// saved webhook an Edit form is about.
func (h *Handler) WebhookTestUnsaved(c echo.Context) error {
	ctx, t := c.Request().Context(), currentTeam(c)
	spec := h.webhookSpecFromForm(c)
	template := c.FormValue("test_payload")
	panel := views.SettingsPanel{Open: views.PanelNewWebhook, Granted: spec.Secrets, TestPayload: template}
	if editing := c.FormValue("editing"); editing != "" {
		w, err := models.WebhookByName(ctx, h.db, t.ID, editing)
		if err != nil {
			return err
		}
		panel.Open, panel.Name = views.PanelEditWebhook, w.Name
	}

	w, resolved, err := models.ResolveUnsavedWebhook(ctx, h.db, h.secrets, t.ID, spec)
	var result views.WebhookTestResult
	if err == nil {
		result, err = h.sendTest(ctx, t, CurrentUser(c), w, resolved, template)
	}
	status := http.StatusOK
	errs := map[string]string{}
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		result = views.WebhookTestResult{Error: fieldLabel(ve.Field) + ": " + ve.Message}
		errs[ve.Field] = ve.Message
		status = http.StatusUnprocessableEntity
	case err != nil:
		return err
	}
	if isHTMX(c) {
		// 200 so htmx swaps the message in beside the button.
		return h.Render(c, http.StatusOK, views.WebhookTestResultView(result))
	}
	panel.Form = webhookForm(spec, errs)
	panel.FormTest = &result
	return h.renderSettings(c, status, views.NewForm(), panel, views.NewForm())
}

// fieldLabel names a webhook form field as the form labels it.
func fieldLabel(field string) string {
	switch field {
	case "url":
		return "URL"
	case "access_token_secret":
		return "Access token"
	case "signing_secret":
		return "Secret"
	case "secrets":
		return "Secrets"
	case "payload":
		return "Payload"
	case "name":
		return "Name"
	}
	return field
}
