package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/people"
)

// SessionRevoke is POST /settings/sessions/:id/revoke: it signs one of the
// user's browsers out. Revoking the current session is signing out.
func (h *Handler) SessionRevoke(c echo.Context) error {
	notFound := newError(http.StatusNotFound, "", "No such session.")
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return notFound
	}
	// Scoped to the signed-in user: another user's session id is not found.
	err = people.RevokeSession(c.Request().Context(), h.db, CurrentUser(c).ID, id)
	if errors.Is(err, models.ErrNotFound) {
		return notFound
	}
	if err != nil {
		return err
	}
	if cur := CurrentSession(c); cur != nil && cur.ID == id {
		if err := h.endSession(c); err != nil {
			return err
		}
		return redirect(c, "/login")
	}
	h.flash(c, "success", "Session revoked.")
	return redirect(c, "/settings")
}
