package handlers

import (
	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models/people"
)

// SessionsRevokeOthers is POST /settings/sessions/revoke-others: "Sign out
// everywhere else" keeps only the browser that asked.
func (h *Handler) SessionsRevokeOthers(c echo.Context) error {
	var keep int64
	if cur := CurrentSession(c); cur != nil {
		keep = cur.ID
	}
	if err := people.DeleteOtherSessions(c.Request().Context(), h.db, CurrentUser(c).ID, keep); err != nil {
		return err
	}
	h.flash(c, "success", "Signed out of every other browser.")
	return redirect(c, "/settings")
}
