package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
)

// deliveryHandoff is what an event-writing request does with the
// deliveries its transaction commits (models.DeliveryHandoff): those leased
// to the in-process worker are handed to it in memory; any others are
// queued for a claim, so the worker (and, on PostgreSQL, every worker
// process through NOTIFY) is woken.
type deliveryHandoff struct {
	worker *Worker // nil in a web-only process: every delivery is queued
	wake   func()
}

func (h *deliveryHandoff) Reserve(n int) (models.LocalLease, int) {
	if h.worker == nil {
		return models.LocalLease{}, 0
	}
	return h.worker.Reserve(n)
}

func (h *deliveryHandoff) HasRoom() bool { return h.worker != nil && h.worker.HasRoom() }

func (h *deliveryHandoff) Unreserve(n int) {
	if h.worker != nil {
		h.worker.Unreserve(n)
	}
}

func (h *deliveryHandoff) Committed(local []models.Delivery, queued int) {
	if len(local) > 0 {
		h.worker.HandOff(local)
	}
	if queued > 0 && h.wake != nil {
		h.wake()
	}
}

// SetLocalWorker makes requests hand the deliveries of the events they
// commit to w, the in-process worker, as far as it has room (serve).
// Call it before serving.
func (s *Server) SetLocalWorker(w *Worker) {
	if w != nil {
		s.handoff = &deliveryHandoff{worker: w, wake: s.handoff.wake}
	}
}

// withDeliveryHandoff gives requests that may write events the handoff
// their event transactions use (models.EventTransaction).
func (s *Server) withDeliveryHandoff(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		m := c.Request().Method
		if (s.handoff.wake == nil && s.handoff.worker == nil) || m == http.MethodGet || m == http.MethodHead {
			return next(c)
		}
		c.SetRequest(c.Request().WithContext(models.WithDeliveryHandoff(c.Request().Context(), s.handoff)))
		return next(c)
	}
}
