package handlers

import "github.com/labstack/echo/v4"

// DeliveryApprove is POST /deliveries/:id/approve (the Approve button):
// the delivery is queued now.
func (h *Handler) DeliveryApprove(c echo.Context) error { return h.formDecide(c, true) }

// APIDeliveryApprove is POST /api/v1/deliveries/:id/approve {comment?}.
func (h *Handler) APIDeliveryApprove(c echo.Context) error { return h.apiDecide(c, true) }
