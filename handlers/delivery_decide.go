package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/audit"
	"github.com/automations-dev/automations/views"
)

// decideDelivery approves or rejects the delivery named by :id (its
// public id). §9: an admin of the automation's scope, or a site admin; a
// delivery whose automation was deleted has nobody to decide it (it
// expires). The decision goes to the scope's audit log and the delivery.
func (h *Handler) decideDelivery(c echo.Context, approve bool, comment string) (*models.Delivery, *models.Automation, error) {
	ctx, u := c.Request().Context(), CurrentUser(c)
	d, err := models.DeliveryByUID(ctx, h.db, c.Param("id"))
	if err != nil {
		return nil, nil, err
	}
	if d.AutomationID == nil {
		return nil, nil, models.ErrNotFound
	}
	a, scope, err := h.automationFor(c, *d.AutomationID, models.RoleAdmin)
	if err != nil {
		return nil, nil, err
	}
	entry := audit.Entry{Target: "delivery " + d.UID + " of automation " + a.Name}
	if scope.Team != nil {
		entry.TeamID = &scope.Team.ID
	} else if scope.Registry != nil {
		entry.RegistryID = &scope.Registry.ID
	}
	if err := models.DecideDelivery(ctx, h.db, d, models.Decision{Approve: approve, By: u, Comment: comment, Audit: entry}); err != nil {
		return nil, nil, err
	}
	if approve {
		h.wakeDeliveries()
	}
	return d, a, nil
}

// apiDecide is the API's approve and reject: optional {comment}.
func (h *Handler) apiDecide(c echo.Context, approve bool) error {
	var body struct {
		Comment string `json:"comment"`
	}
	if c.Request().ContentLength != 0 {
		if err := bindJSON(c, &body); err != nil {
			return err
		}
	}
	d, a, err := h.decideDelivery(c, approve, body.Comment)
	if err != nil {
		return err
	}
	detail, err := h.deliveryDetail(c.Request().Context(), CurrentUser(c), a)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, models.VisibleDelivery(detail, *d))
}

// formDecide is the buttons' approve and reject: a comment field and where
// to go back to (the home page's list or the automation page).
func (h *Handler) formDecide(c echo.Context, approve bool) error {
	_, a, err := h.decideDelivery(c, approve, c.FormValue("comment"))
	if err != nil {
		return err
	}
	verb := "rejected"
	if approve {
		verb = "approved"
	}
	h.flash(c, "success", "Delivery of "+a.Name+" "+verb+".")
	next := views.AutomationURL(a.ID)
	if c.FormValue("next") != "" {
		next = safeNext(c.FormValue("next"))
	}
	return redirect(c, next)
}
