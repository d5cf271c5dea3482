package handlers

import (
	"context"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/views"
)

// DeliveryRedeliver is POST /deliveries/:id/redeliver from the history:
// htmx gets the row back, open, saying what happened; a plain form a
// flash on the automation's page.
func (h *Handler) DeliveryRedeliver(c echo.Context) error {
	return h.deliveryAction(c, models.Redeliver, doneRedelivered)
}

// DeliveryRetryNow is POST /deliveries/:id/retry-now: a retrying delivery
// is attempted at once instead of at its scheduled time.
func (h *Handler) DeliveryRetryNow(c echo.Context) error {
	return h.deliveryAction(c, models.RetryNow, doneRetried)
}

// deliveryAction checks that the caller administers the delivery's
// automation, runs act and answers where the user clicked.
func (h *Handler) deliveryAction(c echo.Context, act func(context.Context, *gorm.DB, int64) error, code string) error {
	d, admin, err := h.deliveryFor(c)
	if err != nil {
		return err
	}
	if !admin {
		return Forbidden()
	}
	if d.AutomationID == nil {
		return models.ErrNotFound // its automation was deleted: nobody owns it any more
	}
	err = act(c.Request().Context(), h.db, d.ID)
	errs, _, refused := fieldErrors(err)
	if err != nil && !refused {
		return err
	}
	if err == nil {
		h.wakeDeliveries()
	}
	msg, ok := doneNotices[code], err == nil
	for _, m := range errs {
		msg = "Not done: " + m + "."
	}
	if isHTMX(c) {
		// htmx swaps only 2xx answers: a refusal comes back in the row too.
		if !ok {
			code = ""
		}
		return h.deliveryRow(c, d, admin, true, msg, ok, code)
	}
	kind := "success"
	if !ok {
		kind = "error"
	}
	h.flash(c, kind, msg)
	return redirect(c, views.AutomationURL(*d.AutomationID)+"#delivery-"+d.UID)
}

// Codes of row actions and what their rows say afterwards; a row's
// refreshes carry the code, never the text.
const (
	doneRedelivered = "redelivered"
	doneRetried     = "retried"
)

var doneNotices = map[string]string{
	doneRedelivered: "Queued for a new attempt: it starts in a moment and appears below.",
	doneRetried:     "Retrying now instead of at the scheduled time.",
}
