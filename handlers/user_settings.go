package handlers

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/people"
	"github.com/automations-dev/automations/views"
)

// UserSettings is GET /settings: links to Team Settings of the teams the
// user administers, then the user's API keys, sessions and password.
func (h *Handler) UserSettings(c echo.Context) error {
	return h.renderUserSettings(c, http.StatusOK, views.UserSettingsProps{})
}

// renderUserSettings fills in what the page always shows (keys, sessions)
// around what the caller sets (a new key, forms with errors).
func (h *Handler) renderUserSettings(c echo.Context, status int, p views.UserSettingsProps) error {
	ctx := c.Request().Context()
	u := CurrentUser(c)
	keys, err := models.APIKeysOf(ctx, h.db, u.ID)
	if err != nil {
		return err
	}
	sessions, err := people.UserSessions(ctx, h.db, u.ID, time.Now(), h.limits)
	if err != nil {
		return err
	}
	p.Keys, p.Sessions = keys, sessions
	teams, err := models.TeamsOf(ctx, h.db, u)
	if err != nil {
		return err
	}
	for _, t := range teams {
		if models.CanAdmin(u, t.Role) {
			p.AdminTeams = append(p.AdminTeams, t.Name)
		}
	}
	if cur := CurrentSession(c); cur != nil {
		p.CurrentSessionID = cur.ID
	}
	if p.Form.Values == nil {
		p.Form = views.NewForm()
	}
	if p.PasswordForm.Values == nil {
		p.PasswordForm = views.NewForm()
	}
	// A freshly minted key must not be cached anywhere on the way back.
	c.Response().Header().Set("Cache-Control", "no-store")
	return h.Render(c, status, views.UserSettingsPage(p))
}

// APIKeyCreate is POST /settings/api-keys: mints a key and shows it once.
func (h *Handler) APIKeyCreate(c echo.Context) error {
	name := strings.TrimSpace(c.FormValue("name"))
	key, err := h.createAPIKey(c, name)
	if errs, status, ok := fieldErrors(err); ok {
		return h.renderUserSettings(c, status, views.UserSettingsProps{Form: views.Form{Values: map[string]string{"name": name}, Errors: errs}})
	}
	if err != nil {
		return err
	}
	return h.renderUserSettings(c, http.StatusCreated, views.UserSettingsProps{NewKey: key})
}

// APIKeyRevoke is POST /settings/api-keys/:id/revoke.
func (h *Handler) APIKeyRevoke(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return newError(http.StatusNotFound, "", "No such API key.")
	}
	if err := h.revokeAPIKey(c, id); err != nil {
		return err
	}
	h.flash(c, "success", "API key revoked.")
	return redirect(c, "/settings")
}
