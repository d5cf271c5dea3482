package handlers

import "github.com/labstack/echo/v4"

// DeliveryReject is POST /deliveries/:id/reject (the Reject button): the
// delivery is never sent.
func (h *Handler) DeliveryReject(c echo.Context) error { return h.formDecide(c, false) }

// APIDeliveryReject is POST /api/v1/deliveries/:id/reject {comment?}.
func (h *Handler) APIDeliveryReject(c echo.Context) error { return h.apiDecide(c, false) }
