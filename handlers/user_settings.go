package handlers

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/views"
)

// UserSettings is GET /settings: the user's API keys.
func (h *Handler) UserSettings(c echo.Context) error {
	return h.renderUserSettings(c, http.StatusOK, "", views.NewForm())
}

func (h *Handler) renderUserSettings(c echo.Context, status int, newKey string, form views.Form) error {
	keys, err := models.APIKeysOf(c.Request().Context(), h.db, CurrentUser(c).ID)
	if err != nil {
		return err
	}
	// A freshly minted key must not be cached anywhere on the way back.
	c.Response().Header().Set("Cache-Control", "no-store")
	return h.Render(c, status, views.UserSettingsPage(views.UserSettingsProps{Keys: keys, NewKey: newKey, Form: form}))
}

// APIKeyCreate is POST /settings/api-keys: mints a key and shows it once.
func (h *Handler) APIKeyCreate(c echo.Context) error {
	name := strings.TrimSpace(c.FormValue("name"))
	key, err := h.createAPIKey(c, name)
	if errs, status, ok := fieldErrors(err); ok {
		return h.renderUserSettings(c, status, "", views.Form{Values: map[string]string{"name": name}, Errors: errs})
	}
	if err != nil {
		return err
	}
	return h.renderUserSettings(c, http.StatusCreated, key, views.NewForm())
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
