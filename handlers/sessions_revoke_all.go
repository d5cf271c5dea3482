package handlers

import (
	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models/people"
)

// SessionsRevokeAll is POST /settings/sessions/revoke-all: "Sign out
// everywhere", this browser included.
func (h *Handler) SessionsRevokeAll(c echo.Context) error {
	if err := people.DeleteUserSessions(c.Request().Context(), h.db, CurrentUser(c).ID); err != nil {
		return err
	}
	if err := h.endSession(c); err != nil {
		return err
	}
	return redirect(c, "/login")
}
