package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/runcond"
	"github.com/automations-dev/automations/models/runs"
	"github.com/automations-dev/automations/views"
)

// runChartPoints is how many of a metric's newest values the page draws.
const runChartPoints = 500

// RunPage is GET /projects/:team/:project/runs/:id: the run's state and
// config, a chart and a table per metric, and the automations that fired
// for it with their deliveries as the viewer may see them.
func (h *Handler) RunPage(c echo.Context) error {
	ctx, u := c.Request().Context(), CurrentUser(c)
	t, p := currentTeam(c), currentProject(c)
	noRun := newError(http.StatusNotFound, "", "No such run in project "+t.Name+"/"+p.Name+".")
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return noRun
	}
	r, err := runs.ByID(ctx, h.db, id)
	if errors.Is(err, models.ErrNotFound) || (err == nil && r.ProjectID != p.ID) {
		return noRun
	}
	if err != nil {
		return err
	}
	scope, err := runs.LoadScope(ctx, h.db, r)
	if err != nil {
		return err
	}
	shell, err := h.ProjectShell(c, "", views.Link{Label: "Runs", Href: views.ProjectURL(t.Name, p.Name) + "/runs"}, views.Link{Label: r.DisplayName})
	if err != nil {
		return err
	}
	var cfg bytes.Buffer
	_ = json.Indent(&cfg, []byte(r.Config), "", "  ") // stored compact by runs.Create
	props := views.RunPageProps{
		Shell: shell, Name: r.Name, DisplayName: r.DisplayName, State: r.State, User: scope.UserHandle(),
		Created: r.CreatedAt, Heartbeat: r.HeartbeatAt, Tags: r.TagList(), Config: cfg.String(),
	}
	hist, err := runs.History(ctx, h.db, r.ID, runChartPoints)
	if err != nil {
		return err
	}
	for _, name := range sortedKeys(hist) {
		props.Charts = append(props.Charts, metricChart(name, hist[name]))
	}
	fired, err := runs.FiredFor(ctx, h.db, scope, 100)
	if err != nil {
		return err
	}
	roles := map[int64]models.Role{}
	for _, f := range fired {
		role, seen := roles[f.TeamID]
		if !seen {
			if role, err = models.TeamRole(ctx, h.db, f.TeamID, u.ID); err != nil {
				return err
			}
			roles[f.TeamID] = role
		}
		d := models.VisibleDelivery(models.DeliveryDetailFor(u, role), f.Delivery)
		row := views.FiredRow{AutomationName: d.AutomationName, EventType: f.EventType, EventURL: views.EventURL(d.EventID), State: string(d.State),
			Attempts: d.Attempts, ErrorClass: d.LastErrorClass, Error: d.LastError, Time: d.CreatedAt}
		if d.AutomationID != nil {
			row.AutomationURL = views.AutomationURL(*d.AutomationID)
		}
		if f.EventType == runcond.RunState {
			row.Detail = "→ " + f.Vars.RunState
		} else {
			row.Detail = f.Vars.MetricName + " = " + f.Vars.MetricValue + " at step " + f.Vars.MetricStep
		}
		props.Fired = append(props.Fired, row)
	}
	return h.Render(c, http.StatusOK, views.RunPage(props))
}
