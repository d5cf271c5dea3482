package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/views"
)

// chartProps reads the Activity chart of target for the ?range= of the
// request (24h unless 7d or 30d).
func (h *Handler) chartProps(ctx context.Context, c echo.Context, target models.RetryTarget, url, subject string) (views.ChartProps, error) {
	ch, err := models.DeliveryChartOf(ctx, h.db, target, models.ChartRangeByName(c.QueryParam("range")), time.Now())
	if err != nil {
		return views.ChartProps{}, err
	}
	return views.ChartProps{URL: url, Subject: subject, Chart: ch}, nil
}

// AutomationChart is GET /automations/:id/chart: the Activity section
// alone, for htmx (range switch, refresh while deliveries are in flight).
// Anyone who may view the automation sees it: counts and durations, no
// request or response detail.
func (h *Handler) AutomationChart(c echo.Context) error {
	a, _, err := h.loadAutomation(c)
	if err != nil {
		return err
	}
	p, err := h.chartProps(c.Request().Context(), c, models.RetryTarget{AutomationID: a.ID}, views.AutomationURL(a.ID)+"/chart", "automation "+a.Name)
	if err != nil {
		return err
	}
	return h.Render(c, http.StatusOK, views.DeliveryChartSection(p))
}

// WebhookChart is GET /teams/:team/webhooks/:name/chart: the webhook
// page's Activity section alone (team admins).
func (h *Handler) WebhookChart(c echo.Context) error {
	ctx, t := c.Request().Context(), currentTeam(c)
	w, err := models.WebhookByName(ctx, h.db, t.ID, c.Param("name"))
	if err != nil {
		return err
	}
	p, err := h.chartProps(ctx, c, models.RetryTarget{WebhookID: w.ID}, webhookPageURL(t.Name, w.Name)+"/chart", "webhook "+w.Name)
	if err != nil {
		return err
	}
	return h.Render(c, http.StatusOK, views.DeliveryChartSection(p))
}
