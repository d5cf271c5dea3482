package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/views"
)

func webhookPageURL(team, name string) string { return "/teams/" + team + "/webhooks/" + name }

// WebhookPage is GET /teams/:team/webhooks/:name: the webhook's settings,
// its Activity chart, Retry failed and Rotate signing secret. Team admins
// only, like everything that shows the endpoint (DESIGN.md §13).
func (h *Handler) WebhookPage(c echo.Context) error {
	w, err := models.WebhookByName(c.Request().Context(), h.db, currentTeam(c).ID, c.Param("name"))
	if err != nil {
		return err
	}
	rotate := views.NewForm()
	rotate.Values["overlap"] = models.DefaultRotationOverlap.String()
	return h.renderWebhookPage(c, http.StatusOK, w, rotate, defaultRetryForm())
}

func (h *Handler) renderWebhookPage(c echo.Context, status int, w *models.Webhook, rotate, retry views.Form) error {
	ctx, t := c.Request().Context(), currentTeam(c)
	secrets, err := models.SecretsOf(ctx, h.db, t.ID)
	if err != nil {
		return err
	}
	chart, err := h.chartProps(ctx, c, models.RetryTarget{WebhookID: w.ID}, webhookPageURL(t.Name, w.Name)+"/chart", "webhook "+w.Name)
	if err != nil {
		return err
	}
	return h.Render(c, status, views.WebhookPage(views.WebhookPageProps{
		Team: t.Name, Webhook: *w, Secrets: secrets, Chart: chart, RotateForm: rotate, RetryForm: retry, Now: time.Now(),
	}))
}
