package handlers

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models/runs"
	"github.com/automations-dev/automations/views"
)

// runsPerPage is the Runs list's page size.
const runsPerPage = 25

// RunsList is GET /projects/:team/:project/runs: the project's runs,
// newest first, filtered by ?state= and ?q= (part of the name), ?page=N,
// with the last value of each ?metrics= chosen as a column.
func (h *Handler) RunsList(c echo.Context) error {
	shell, err := h.ProjectShell(c, "", views.Link{Label: "Runs"})
	if err != nil {
		return err
	}
	state, q := c.QueryParam("state"), c.QueryParam("q")
	page, _ := strconv.Atoi(c.QueryParam("page"))
	page = max(page, 1)
	p := currentProject(c)
	list, total, err := runs.List(c.Request().Context(), h.db, p.ID, runs.ListFilter{
		State: state, Search: q, Limit: runsPerPage, Offset: (page - 1) * runsPerPage,
	})
	if err != nil {
		return err
	}
	props := views.RunsPageProps{Shell: shell, Total: total, State: state, Search: q, States: runs.States(), Page: page}
	if err := h.runsListMetrics(c, list, &props); err != nil {
		return err
	}
	for _, r := range list {
		row := views.RunRow{ID: r.ID, Name: r.Name, DisplayName: r.DisplayName, State: r.State,
			User: r.UserName, Updated: r.UpdatedAt, URL: runs.RunPath(shell.Team, shell.Project, r.ID)}
		props.Runs = append(props.Runs, row)
	}
	pageURL := func(n int) string {
		v := url.Values{"page": {strconv.Itoa(n)}}
		if state != "" {
			v.Set("state", state)
		}
		if q != "" {
			v.Set("q", q)
		}
		if len(props.Metrics) > 0 {
			v["metrics"] = props.Metrics
		}
		return views.ProjectURL(shell.Team, shell.Project) + "/runs?" + v.Encode()
	}
	if page > 1 {
		props.PrevURL = pageURL(page - 1)
	}
	if int64(page*runsPerPage) < total {
		props.NextURL = pageURL(page + 1)
	}
	if err := h.fillMetricCells(c, list, &props); err != nil {
		return err
	}
	status := http.StatusOK
	if props.MetricsError != "" {
		status = http.StatusUnprocessableEntity
	}
	return h.Render(c, status, views.RunsPage(props))
}
