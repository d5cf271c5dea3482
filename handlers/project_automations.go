package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/views"
)

// ProjectAutomations is GET /projects/:team/:project/automations.
func (h *Handler) ProjectAutomations(c echo.Context) error {
	shell, err := h.ProjectShell(c, "", views.Link{Label: "Automations"})
	if err != nil {
		return err
	}
	return h.Render(c, http.StatusOK, views.ProjectAutomationsPlaceholder(shell))
}
