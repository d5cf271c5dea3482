package handlers

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/audit"
	"github.com/automations-dev/automations/views"
)

// sinceLayouts are the times "Retry failed since" accepts besides a
// duration back from now: RFC 3339, and the browser's datetime-local
// value (read as UTC, as the form says).
var sinceLayouts = []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"}

// parseSince reads since: a time (RFC 3339 or 2006-01-02T15:04, UTC) or
// a duration back from now (24h, 7d). It must not be in the future.
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, models.Invalid("since", "is required: a time such as 2026-11-30T09:00:00Z, or how far back, such as 24h")
	}
	for _, layout := range sinceLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			if t.After(now) {
				return time.Time{}, models.Invalid("since", "is in the future; pick a time in the past")
			}
			return t.UTC(), nil
		}
	}
	d, err := parseSpan("since", s, 0)
	if err != nil || d <= 0 {
		return time.Time{}, models.Invalid("since", "%q is neither a time such as 2026-11-30T09:00:00Z nor a duration such as 24h", s)
	}
	return now.Add(-d).UTC(), nil
}

// defaultRetryForm proposes the last 24 hours.
func defaultRetryForm() views.Form {
	f := views.NewForm()
	f.Values["since"] = time.Now().UTC().Add(-24 * time.Hour).Format("2006-01-02T15:04")
	return f
}

type retryFailedBody struct {
	Since string `json:"since"`
}

type retryFailedJSON struct {
	Queued int64 `json:"queued"`
}

// retryAutomation queues again the route automation's deliveries that
// failed since; like Redeliver, only admins of its scope may (§9).
func (h *Handler) retryAutomation(c echo.Context, since string) (*models.Automation, *automationScope, int64, error) {
	a, scope, err := h.loadAutomationToChange(c)
	if err != nil {
		return nil, nil, 0, err
	}
	t, err := parseSince(since, time.Now())
	if err != nil {
		return a, scope, 0, err
	}
	u := CurrentUser(c)
	entry := &audit.Entry{ActorID: &u.ID, ActorName: u.Email, Kind: "automation.retry_failed", Target: a.Name + " (#" + strconv.FormatInt(a.ID, 10) + ")"}
	if scope.Team != nil {
		entry.TeamID = &scope.Team.ID
	} else if scope.Registry != nil {
		entry.RegistryID = &scope.Registry.ID
	}
	n, err := models.RetryFailed(c.Request().Context(), h.db, models.RetryTarget{AutomationID: a.ID}, t, entry)
	if err != nil {
		return a, scope, 0, err
	}
	if n > 0 {
		h.wakeDeliveries()
	}
	h.log.Info("retry failed deliveries", "automation_id", a.ID, "since", t, "queued", n, "by", u.Email)
	return a, scope, n, nil
}

// APIAutomationRetryFailed is POST /api/v1/automations/:id/retry-failed
// {since} → {queued}.
func (h *Handler) APIAutomationRetryFailed(c echo.Context) error {
	var body retryFailedBody
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	_, _, n, err := h.retryAutomation(c, body.Since)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, retryFailedJSON{Queued: n})
}

// AutomationRetryFailed is POST /automations/:id/retry-failed, the
// automation page's "Retry failed since …".
func (h *Handler) AutomationRetryFailed(c echo.Context) error {
	a, scope, n, err := h.retryAutomation(c, c.FormValue("since"))
	if errs, status, ok := fieldErrors(err); ok && a != nil {
		form := views.Form{Values: map[string]string{"since": c.FormValue("since")}, Errors: errs}
		return h.renderAutomationDetails(c, status, a, scope, form)
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", queuedMessage(n))
	return redirect(c, views.AutomationURL(a.ID))
}

func queuedMessage(n int64) string {
	switch n {
	case 0:
		return "No failed deliveries since then: nothing to retry."
	case 1:
		return "Queued 1 failed delivery again."
	}
	return "Queued " + strconv.FormatInt(n, 10) + " failed deliveries again."
}

// retryWebhook queues again every delivery through the route's webhook
// that failed since, whichever automation made it: the endpoint's owners
// (the team's admins, who alone may see its deliveries in full, §13)
// recover their endpoint after an outage.
func (h *Handler) retryWebhook(c echo.Context, since string) (*models.Webhook, int64, error) {
	ctx, t, u := c.Request().Context(), currentTeam(c), CurrentUser(c)
	w, err := models.WebhookByName(ctx, h.db, t.ID, c.Param("name"))
	if err != nil {
		return nil, 0, err
	}
	at, err := parseSince(since, time.Now())
	if err != nil {
		return w, 0, err
	}
	entry := &audit.Entry{TeamID: &t.ID, ActorID: &u.ID, ActorName: u.Email, Kind: "webhook.retry_failed", Target: w.Name}
	n, err := models.RetryFailed(ctx, h.db, models.RetryTarget{WebhookID: w.ID}, at, entry)
	if err != nil {
		return w, 0, err
	}
	if n > 0 {
		h.wakeDeliveries()
	}
	h.log.Info("retry failed deliveries", "webhook_id", w.ID, "team", t.Name, "since", at, "queued", n, "by", u.Email)
	return w, n, nil
}

// APIWebhookRetryFailed is POST /api/v1/teams/:team/webhooks/:name/retry-failed
// {since} → {queued}.
func (h *Handler) APIWebhookRetryFailed(c echo.Context) error {
	var body retryFailedBody
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	_, n, err := h.retryWebhook(c, body.Since)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, retryFailedJSON{Queued: n})
}

// WebhookRetryFailed is POST /teams/:team/webhooks/:name/retry-failed.
func (h *Handler) WebhookRetryFailed(c echo.Context) error {
	w, n, err := h.retryWebhook(c, c.FormValue("since"))
	if errs, status, ok := fieldErrors(err); ok && w != nil {
		form := views.Form{Values: map[string]string{"since": c.FormValue("since")}, Errors: errs}
		rotate := views.NewForm()
		rotate.Values["overlap"] = models.DefaultRotationOverlap.String()
		return h.renderWebhookPage(c, status, w, rotate, form)
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", queuedMessage(n))
	return redirect(c, webhookPageURL(currentTeam(c).Name, w.Name))
}
