package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
)

// waitingLimit is how many waiting deliveries the lists show.
const waitingLimit = 50

type awaitingJSON struct {
	models.Delivery
	Version string `json:"version"`
	Author  string `json:"author"`
}

// APIAwaitingApproval is GET /api/v1/deliveries/awaiting-approval: the
// deliveries the caller may approve or reject, soonest to expire first.
func (h *Handler) APIAwaitingApproval(c echo.Context) error {
	ctx, u := c.Request().Context(), CurrentUser(c)
	list, err := models.AwaitingApprovalFor(ctx, h.db, u, waitingLimit)
	if err != nil {
		return err
	}
	out := make([]awaitingJSON, len(list))
	for i, w := range list {
		// Waiting deliveries have no attempts: the summary shows all of them.
		out[i] = awaitingJSON{Delivery: models.VisibleDelivery(models.DeliverySummary, w.Delivery), Version: w.EventVersion, Author: w.EventAuthor}
	}
	return c.JSON(http.StatusOK, map[string]any{"deliveries": out})
}
