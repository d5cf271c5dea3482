package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/views"
)

// ProjectHistory is GET /projects/:team/:project/history: the deliveries
// of every automation of the project, newest first.
func (h *Handler) ProjectHistory(c echo.Context) error {
	shell, err := h.ProjectShell(c, "", views.Link{Label: "Automations history"})
	if err != nil {
		return err
	}
	p := currentProject(c)
	history, err := h.scopeHistory(c, views.ProjectURL(shell.Team, shell.Project)+"/history", models.HistoryFilter{ProjectID: &p.ID})
	if err != nil {
		return err
	}
	return h.Render(c, http.StatusOK, views.ProjectHistoryPage(shell, history))
}

// RegistryHistory is GET /registries/:registry/history: the deliveries of
// every automation of the registry, registry-wide and of one collection.
func (h *Handler) RegistryHistory(c echo.Context) error {
	r := currentRegistry(c)
	history, err := h.scopeHistory(c, views.RegistryURL(r.Name)+"/history", models.HistoryFilter{RegistryID: &r.ID})
	if err != nil {
		return err
	}
	shell := views.RegistryShellProps{Registry: r, Trail: []views.Link{{Label: "Automations history"}}}
	return h.Render(c, http.StatusOK, views.RegistryHistoryPage(shell, history))
}

// scopeHistory reads the route's project or registry history page.
func (h *Handler) scopeHistory(c echo.Context, path string, f models.HistoryFilter) (views.HistoryProps, error) {
	u := CurrentUser(c)
	nav := listNav(c, path)
	f.State, f.Query = models.DeliveryState(nav.State), nav.Query
	rows, more, err := h.historyRows(c.Request().Context(), u, f, pageOf(nav), models.CanAdmin(u, currentRole(c)))
	nav.More = more
	return views.HistoryProps{Nav: nav, Rows: rows, Scope: true}, err
}
