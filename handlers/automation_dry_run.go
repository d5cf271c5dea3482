package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
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

// APIAutomationDryRun is POST /api/v1/automations/dry-run → {matches,
// days, events: [{id, time, version, author}]} (the newest 100 listed).
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
	r, err := h.dryRun(ctx, spec, in.Days)
	if err != nil {
		return err
	}
	events := make([]previewEventJSON, len(r.Events))
	for i, e := range r.Events {
		events[i] = previewEventJSON{ID: e.ID, Time: e.Time, Version: e.Version, Author: e.Author}
	}
	return c.JSON(http.StatusOK, map[string]any{"matches": r.Matches, "days": r.Days, "events": events,
		"elapsed_ms": r.Elapsed.Milliseconds()})
}

// dryRun counts the stored events of the last days that spec would have
// fired for, with the same rule as live events (models.MatchingEvents).
func (h *Handler) dryRun(ctx context.Context, spec models.AutomationSpec, days int) (*views.DryRun, error) {
	if days == 0 {
		days = 30
	}
	if days < 1 || days > 365 {
		return nil, models.Invalid("days", "must be between 1 and 365")
	}
	started := time.Now()
	n, evs, err := models.MatchingEvents(ctx, h.db, spec.Draft(), models.EventScan{
		Since: started.AddDate(0, 0, -days), Keep: dryRunListed, Count: true,
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
