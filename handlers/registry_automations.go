package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/views"
)

// RegistryAutomations is GET /registries/:registry/automations.
func (h *Handler) RegistryAutomations(c echo.Context) error {
	shell := views.RegistryShellProps{Registry: currentRegistry(c), Trail: []views.Link{{Label: "Automations"}}}
	return h.Render(c, http.StatusOK, views.RegistryAutomationsPlaceholder(shell))
}
