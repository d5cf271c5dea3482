package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/views"
)

// deliveryFor loads the delivery of the :id route (its public id) for the
// caller: not found unless they may view its automation's scope (or, for
// an automation since deleted, its event's project or registry). admin
// says whether they administer that scope.
func (h *Handler) deliveryFor(c echo.Context) (d *models.Delivery, admin bool, err error) {
	ctx, u := c.Request().Context(), CurrentUser(c)
	if d, err = models.DeliveryByUID(ctx, h.db, c.Param("id")); err != nil {
		return nil, false, err
	}
	if d.AutomationID != nil {
		_, scope, err := h.automationFor(c, *d.AutomationID, models.RoleViewer)
		if err != nil {
			return nil, false, err
		}
		return d, scope.CanAdmin(u), nil
	}
	ev, err := models.EventByID(ctx, h.db, d.EventID)
	if err != nil {
		return nil, false, err
	}
	role := models.RoleNone
	switch {
	case ev.ProjectID != nil:
		p, err := models.ProjectByID(ctx, h.db, *ev.ProjectID)
		if err != nil {
			return nil, false, err
		}
		if role, err = models.TeamRole(ctx, h.db, p.TeamID, u.ID); err != nil {
			return nil, false, err
		}
	case ev.RegistryID != nil:
		if role, err = models.RegistryRole(ctx, h.db, *ev.RegistryID, u.ID); err != nil {
			return nil, false, err
		}
	}
	if !models.CanView(u, role) {
		return nil, false, models.ErrNotFound
	}
	return d, models.CanAdmin(u, role), nil
}

// deliveryRow renders one history row (open, with a notice when given).
// scope says whether it sits in an Automations history tab.
func (h *Handler) deliveryRow(c echo.Context, d *models.Delivery, canAct, open bool, notice string, ok bool, done string) error {
	rows, _, err := h.historyRows(c.Request().Context(), CurrentUser(c), models.HistoryFilter{DeliveryID: &d.ID}, models.NewPage(1, 1), canAct)
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return models.ErrNotFound
	}
	r := rows[0]
	r.Open, r.Notice, r.NoticeOK, r.Done = open, notice, ok, done
	return h.Render(c, http.StatusOK, views.DeliveryRow(r, c.FormValue("scope") != ""))
}

// DeliveryRow is GET /deliveries/:id/row: one history row, which polls it
// while the delivery is in flight (?open=1 keeps it unfolded).
func (h *Handler) DeliveryRow(c echo.Context) error {
	d, admin, err := h.deliveryFor(c)
	if err != nil {
		return err
	}
	done := c.QueryParam("done")
	return h.deliveryRow(c, d, admin, c.QueryParam("open") != "", doneNotices[done], true, done)
}
