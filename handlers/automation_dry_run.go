package handlers

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/runcond"
	"github.com/automations-dev/automations/models/runs"
	"github.com/automations-dev/automations/views"
)

// dryRunListed is how many of the matching events a dry run lists.
const dryRunListed = 100

// dryRunInput is POST /api/v1/automations/dry-run: an automation as for
// create plus the days to look back (default 30, at most 365).
type dryRunInput struct {
	automationInput
	Days int `json:"days,omitempty"`
}

// dryRunFireJSON is one time a run automation would have fired: there is
// no stored event, so the run and (metric events) the step stand for it.
type dryRunFireJSON struct {
	Time        time.Time `json:"time"`
	RunID       int64     `json:"run_id"`
	RunName     string    `json:"run_name"`
	RunURL      string    `json:"run_url"`
	Author      string    `json:"author"`
	State       string    `json:"state,omitempty"`
	MetricValue *float64  `json:"metric_value,omitempty"`
	MetricStep  *int64    `json:"metric_step,omitempty"`
}

// APIAutomationDryRun is POST /api/v1/automations/dry-run → {matches,
// days, events, elapsed_ms} (the newest 100 listed): stored events
// {id, time, version, author} for artifact events, replayed fires
// {time, run_id, run_name, run_url, author, state | metric_value,
// metric_step} for run events (with partial when not every run was replayed).
func (h *Handler) APIAutomationDryRun(c echo.Context) error {
	ctx, u := c.Request().Context(), CurrentUser(c)
	var in dryRunInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	scope, err := h.adminScope(ctx, u, in.Scope)
	if err != nil {
		return err
	}
	spec, err := h.draftSpec(ctx, u, scope, in.automationInput)
	if err != nil {
		return err
	}
	r, err := h.dryRun(ctx, scope, spec, in.Days)
	if err != nil {
		return err
	}
	out := map[string]any{"matches": r.Matches, "days": r.Days, "elapsed_ms": r.Elapsed.Milliseconds()}
	if r.RunEvent {
		fires := make([]dryRunFireJSON, len(r.Runs))
		for i, f := range r.Runs {
			fires[i] = dryRunFireJSON{Time: f.Time, RunID: f.RunID, RunName: f.RunName, RunURL: strings.TrimRight(h.baseURL, "/") + f.RunURL,
				Author: f.Author, State: f.State}
			if f.Metric {
				fires[i].MetricValue, fires[i].MetricStep = &f.Value, &f.Step
			}
		}
		out["events"], out["partial"] = fires, r.Partial
		return c.JSON(http.StatusOK, out)
	}
	events := make([]previewEventJSON, len(r.Events))
	for i, e := range r.Events {
		events[i] = previewEventJSON{ID: e.ID, Time: e.Time, Version: e.Version, Author: e.Author}
	}
	out["events"] = events
	return c.JSON(http.StatusOK, out)
}

// dryRun counts what spec would have fired for in the last days, with the
// same rules as live events: stored artifact events through
// models.MatchingEvents, or the project's stored runs replayed through
// runs.DryRun.
func (h *Handler) dryRun(ctx context.Context, scope *automationScope, spec models.AutomationSpec, days int) (*views.DryRun, error) {
	if days == 0 {
		days = 30
	}
	if days < 1 || days > 365 {
		return nil, models.Invalid("days", "must be between 1 and 365")
	}
	started := time.Now()
	since := started.AddDate(0, 0, -days)
	if runcond.IsRunEvent(spec.EventType) {
		return h.dryRunRuns(ctx, scope, spec, days, since, started)
	}
	n, evs, err := models.MatchingEvents(ctx, h.db, spec.Draft(), models.EventScan{
		Since: since, Keep: dryRunListed, Count: true,
	})
	if err != nil {
		return nil, err
	}
	r := &views.DryRun{Days: days, Matches: n, Elapsed: time.Since(started)}
	for i := range evs {
		r.Events = append(r.Events, previewEvent(&evs[i]))
	}
	return r, nil
}

// dryRunRuns replays the project's stored runs for a run event (spec is
// validated, so its scope is a project and RunEvent is normalised).
func (h *Handler) dryRunRuns(ctx context.Context, scope *automationScope, spec models.AutomationSpec, days int, since, started time.Time) (*views.DryRun, error) {
	if scope.Project == nil || spec.RunEvent == nil {
		return nil, models.Invalid("scope.type", "run events watch a project")
	}
	res, err := runs.DryRun(ctx, h.db, scope.Project.ID, spec.EventType, spec.RunEvent, since, dryRunListed)
	if err != nil {
		return nil, err
	}
	r := &views.DryRun{Days: days, Matches: res.Count, RunEvent: true, Partial: res.Partial,
		MetricEvent: runcond.IsMetricEvent(spec.EventType)}
	for _, f := range res.Fires {
		r.Runs = append(r.Runs, views.DryRunFire{Time: f.At, RunID: f.RunID, RunName: f.RunName,
			RunURL: runs.RunPath(scope.Team.Name, scope.Project.Name, f.RunID), Author: f.Author, State: f.State,
			Metric: r.MetricEvent, Step: f.Step, Value: f.Value})
	}
	r.Elapsed = time.Since(started)
	return r, nil
}
