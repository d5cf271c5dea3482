package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/views"
)

// SecretNew is GET /teams/:team/secrets/new: the New secret form as a page.
// Team Settings opens the same form in a modal dialog; this page is where
// its link leads without JavaScript.
func (h *Handler) SecretNew(c echo.Context) error {
	return h.Render(c, http.StatusOK, views.NewSecretPage(currentTeam(c).Name, views.NewForm()))
}
