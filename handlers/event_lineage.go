package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/runs"
	"github.com/automations-dev/automations/views"
)

// EventLineage is GET /events/:id: what an event caused. Every automation
// of its project or registry, matched (with its delivery or launch item
// and outcome) or not and why; anyone who can view the scope may look.
func (h *Handler) EventLineage(c echo.Context) error {
	ctx, u := c.Request().Context(), CurrentUser(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return models.ErrNotFound
	}
	ev, err := models.EventByID(ctx, h.db, id)
	if err != nil {
		return err
	}
	scope, err := h.eventScope(ctx, u, ev)
	if err != nil {
		return err
	}
	if !scope.CanView(u) {
		return models.ErrNotFound // an event one cannot see answers like a missing one
	}
	list, err := h.listAutomations(ctx, scope)
	if err != nil {
		return err
	}
	ds, err := models.DeliveriesOfEvent(ctx, h.db, ev.ID)
	if err != nil {
		return err
	}
	p := views.LineageProps{Event: previewEvent(ev), Alias: ev.Vars.Alias, Scope: scope.Label(), CanDecide: scope.CanAdmin(u)}
	if p.VersionURL, err = models.ArtifactPagePath(ctx, h.db, ev); err != nil {
		return err
	}
	byAutomation := map[int64][]models.DeliveryWithAttempts{}
	for _, d := range ds {
		detail, err := h.deliveryDetail(ctx, u, &models.Automation{TeamID: d.TeamID})
		if err != nil {
			return err
		}
		visible := models.VisibleDeliveries(detail, []models.DeliveryWithAttempts{d})[0]
		if d.AutomationID == nil {
			p.Orphans = append(p.Orphans, visible)
			continue
		}
		byAutomation[*d.AutomationID] = append(byAutomation[*d.AutomationID], visible)
	}
	target := ev.MatchTarget()
	for i := range list {
		a := &list[i].Automation
		row := views.LineageAutomation{ID: a.ID, Name: a.Name, Trigger: a.EventType, Deliveries: byAutomation[a.ID]}
		if len(row.Deliveries) > 0 {
			row.Matched = true
			delete(byAutomation, a.ID)
		} else if m, ok := a.Explain(target); !ok {
			row.Rule, row.Detail = m.Rule, m.Detail
		} else if a.CreatedAt.After(ev.CreatedAt) {
			row.Rule, row.Detail = "created later", "the automation was created after this event"
		} else {
			row.Rule, row.Detail = "changed since", "it matches as configured now, but did not when the event happened"
		}
		if row.Matched {
			p.Matched = append(p.Matched, row)
		} else {
			p.Unmatched = append(p.Unmatched, row)
		}
	}
	// Deliveries of automations no longer in the scope's list.
	for _, rest := range byAutomation {
		p.Orphans = append(p.Orphans, rest...)
	}
	if p.RunItems, err = models.RunItemsOfEvent(ctx, h.db, ev.ID); err != nil {
		return err
	}
	if p.Runs, err = h.lineageRuns(ctx, p.RunItems); err != nil {
		return err
	}
	return h.Render(c, http.StatusOK, views.EventLineagePage(p))
}

// lineageRunEvents caps the events listed per produced run.
const lineageRunEvents = 20

// lineageRuns follows launch items to the runs their agents started and
// the events those runs caused (the chain: alias → launch → run → …).
func (h *Handler) lineageRuns(ctx context.Context, items []models.RunItemWithQueue) ([]views.LineageRun, error) {
	var out []views.LineageRun
	for _, it := range items {
		if it.RunID == nil {
			continue
		}
		r, err := runs.ByID(ctx, h.db, *it.RunID)
		if errors.Is(err, models.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		s, err := runs.LoadScope(ctx, h.db, r)
		if err != nil {
			return nil, err
		}
		evs, err := runs.EventsOfRun(ctx, h.db, r.ID, lineageRunEvents)
		if err != nil {
			return nil, err
		}
		lr := views.LineageRun{Item: it.ID, State: r.State,
			Run: views.Link{Label: r.DisplayName, Href: runs.RunPath(s.Team.Name, s.Project.Name, r.ID)}}
		for _, e := range evs {
			lr.Events = append(lr.Events, views.Link{Label: e.Type, Href: views.EventURL(e.ID)})
		}
		out = append(out, lr)
	}
	return out, nil
}

// eventScope is the project or registry an event happened in, with u's role.
func (h *Handler) eventScope(ctx context.Context, u *models.User, ev *models.Event) (*automationScope, error) {
	if ev.ProjectID != nil {
		p, err := models.ProjectByID(ctx, h.db, *ev.ProjectID)
		if err != nil {
			return nil, err
		}
		t, err := models.TeamByID(ctx, h.db, p.TeamID)
		if err != nil {
			return nil, err
		}
		role, err := models.TeamRole(ctx, h.db, t.ID, u.ID)
		return &automationScope{Type: models.ScopeProject, Team: t, Project: p, Role: role}, err
	}
	if ev.RegistryID == nil {
		return nil, models.ErrNotFound
	}
	r, err := models.RegistryByID(ctx, h.db, *ev.RegistryID)
	if err != nil {
		return nil, err
	}
	role, err := models.RegistryRole(ctx, h.db, r.ID, u.ID)
	return &automationScope{Type: models.ScopeRegistry, Registry: r, Role: role}, err
}
