package handlers

import (
	"context"

	"github.com/automations-dev/automations/models"
)

// deliveryDetail is what u may read of the delivery history of a: the
// whole of it only as a site admin or an admin of the team that owns the
// automation's integration (DESIGN.md §13).
func (h *Handler) deliveryDetail(ctx context.Context, u *models.User, a *models.Automation) (models.DeliveryDetail, error) {
	if u.SiteAdmin {
		return models.DeliveryFull, nil
	}
	role, err := models.TeamRole(ctx, h.db, a.TeamID, u.ID)
	if err != nil {
		return models.DeliverySummary, err
	}
	return models.DeliveryDetailFor(u, role), nil
}

// visibleHistory reads a's newest deliveries and attempts cut down to
// what u may read; every page, fragment and API answer of history uses it.
func (h *Handler) visibleHistory(ctx context.Context, u *models.User, a *models.Automation) ([]models.DeliveryWithAttempts, models.DeliveryDetail, error) {
	detail, err := h.deliveryDetail(ctx, u, a)
	if err != nil {
		return nil, detail, err
	}
	ds, err := models.DeliveriesOfAutomation(ctx, h.db, a.ID, deliveryHistoryLimit)
	if err != nil {
		return nil, detail, err
	}
	return models.VisibleDeliveries(detail, ds), detail, nil
}
