package handlers

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
)

// automationJSON is an automation as the API returns it.
type automationJSON struct {
	ID int64 `json:"id"`
	automationInput
	LastDeliveryState string    `json:"last_delivery_state,omitempty"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
}

func (h *Handler) automationJSON(ctx context.Context, a *models.Automation, scope *automationScope) (automationJSON, error) {
	t, err := h.actionTargetsOf(ctx, a)
	return automationJSONFrom(a, scope, t, ""), err
}

func automationJSONFrom(a *models.Automation, scope *automationScope, t actionTargets, lastState string) automationJSON {
	return automationJSON{ID: a.ID, automationInput: automationInputFrom(a, scope, t), LastDeliveryState: lastState,
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
}

// APIAutomationCreate is POST /api/v1/automations.
func (h *Handler) APIAutomationCreate(c echo.Context) error {
	ctx, u := c.Request().Context(), CurrentUser(c)
	var in automationInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	scope, err := h.adminScope(ctx, u, in.Scope)
	if err != nil {
		return err
	}
	spec, err := h.automationSpec(ctx, u, scope, in)
	if err != nil {
		return err
	}
	a, err := h.createAutomation(c, scope, spec)
	if err != nil {
		return err
	}
	out, err := h.automationJSON(ctx, a, scope)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

// APIAutomationsList is GET /api/v1/automations: the automations of one
// scope (?project=team/project or ?registry=name[&collection=name]), or of
// every project and registry the caller can see.
func (h *Handler) APIAutomationsList(c echo.Context) error {
	ctx, u := c.Request().Context(), CurrentUser(c)
	var scopes []*automationScope
	switch {
	case c.QueryParam("project") != "":
		s, err := h.resolveScope(ctx, u, scopeNames{Type: string(models.ScopeProject), Project: c.QueryParam("project")})
		if err != nil {
			return err
		}
		scopes = append(scopes, s)
	case c.QueryParam("registry") != "":
		n := scopeNames{Type: string(models.ScopeRegistry), Registry: c.QueryParam("registry"), Collection: c.QueryParam("collection")}
		if n.Collection != "" {
			n.Type = string(models.ScopeRegistryCollection)
		}
		s, err := h.resolveScope(ctx, u, n)
		if err != nil {
			return err
		}
		scopes = append(scopes, s)
	default:
		var err error
		if scopes, err = h.visibleScopes(ctx, u); err != nil {
			return err
		}
	}
	out := []automationJSON{}
	for _, s := range scopes {
		list, err := h.listAutomations(ctx, s)
		if err != nil {
			return err
		}
		targets, err := h.listingTargets(ctx, list)
		if err != nil {
			return err
		}
		for i := range list {
			a := &list[i]
			out = append(out, automationJSONFrom(&a.Automation, listedScope(s, a), targets[i], a.LastState))
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"automations": out})
}

// visibleScopes is every project and registry u can view.
func (h *Handler) visibleScopes(ctx context.Context, u *models.User) ([]*automationScope, error) {
	var out []*automationScope
	projects, err := models.ProjectsOf(ctx, h.db, u)
	if err != nil {
		return nil, err
	}
	for i := range projects {
		p := &projects[i]
		out = append(out, &automationScope{Type: models.ScopeProject, Project: &p.Project,
			Team: &models.Team{ID: p.TeamID, Name: p.TeamName}, Role: p.Role})
	}
	regs, err := models.RegistriesOf(ctx, h.db, u)
	if err != nil {
		return nil, err
	}
	for i := range regs {
		r := &regs[i]
		out = append(out, &automationScope{Type: models.ScopeRegistry, Registry: &r.Registry, Role: r.Role})
	}
	return out, nil
}

// listedScope is a listed automation's own scope: the listing's project
// or registry, with the automation's collection if it names one (a
// project's filter, or a registry collection) and none otherwise (a
// registry-wide automation listed under one of its collections).
func listedScope(s *automationScope, a *models.AutomationListing) *automationScope {
	own := *s
	own.Type, own.Collection = a.ScopeType, nil
	if a.CollectionID != nil {
		own.Collection = &models.Collection{ID: *a.CollectionID, Name: a.CollectionName}
	}
	return &own
}

// listAutomations lists a scope's automations: a project's, a registry's
// (all of them) or those that apply to one registry collection.
func (h *Handler) listAutomations(ctx context.Context, s *automationScope) ([]models.AutomationListing, error) {
	switch {
	case s.Project != nil:
		return models.ListAutomations(ctx, h.db, &s.Project.ID, nil, nil)
	case s.Type == models.ScopeRegistryCollection:
		return models.ListAutomations(ctx, h.db, nil, &s.Registry.ID, &s.Collection.ID)
	default:
		return models.ListAutomations(ctx, h.db, nil, &s.Registry.ID, nil)
	}
}

// loadAutomation reads the automation named by the :id parameter and its
// scope; one the caller cannot view is not found.
func (h *Handler) loadAutomation(c echo.Context) (*models.Automation, *automationScope, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return nil, nil, models.ErrNotFound
	}
	return h.automationFor(c, id, models.RoleViewer)
}

// loadAutomationToChange is loadAutomation for a change: the caller must
// administer the automation's scope (§9), or it is forbidden.
func (h *Handler) loadAutomationToChange(c echo.Context) (*models.Automation, *automationScope, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return nil, nil, models.ErrNotFound
	}
	a, scope, err := h.automationFor(c, id, models.RoleAdmin)
	if err != nil {
		return nil, nil, err
	}
	scope.Editing = a
	return a, scope, nil
}

// automationFor loads automation id and its scope for the caller: not
// found unless they can see it, forbidden when they can but need admin
// and are not.
func (h *Handler) automationFor(c echo.Context, id int64, need models.Role) (*models.Automation, *automationScope, error) {
	ctx, u := c.Request().Context(), CurrentUser(c)
	a, err := models.AutomationByID(ctx, h.db, id)
	if err != nil {
		return nil, nil, err
	}
	scope, err := h.scopeOf(ctx, u, a)
	if err != nil {
		return nil, nil, err
	}
	if !scope.CanView(u) {
		return nil, nil, models.ErrNotFound
	}
	if need == models.RoleAdmin && !scope.CanAdmin(u) {
		return nil, nil, Forbidden()
	}
	return a, scope, nil
}

// APIAutomationGet is GET /api/v1/automations/:id.
func (h *Handler) APIAutomationGet(c echo.Context) error {
	a, scope, err := h.loadAutomation(c)
	if err != nil {
		return err
	}
	out, err := h.automationJSON(c.Request().Context(), a, scope)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// APIAutomationUpdate is PATCH /api/v1/automations/:id: the fields sent
// replace the stored ones; the scope cannot move.
func (h *Handler) APIAutomationUpdate(c echo.Context) error {
	ctx, u := c.Request().Context(), CurrentUser(c)
	a, scope, err := h.loadAutomationToChange(c)
	if err != nil {
		return err
	}
	in, err := h.automationInputOf(ctx, a, scope)
	if err != nil {
		return err
	}
	before := in.Scope
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.Scope != before {
		return models.Invalid("scope", "an automation's scope cannot change: create a new automation instead")
	}
	spec, err := h.automationSpec(ctx, u, scope, in)
	if err != nil {
		return err
	}
	if err := h.updateAutomation(c, scope, a, spec); err != nil {
		return err
	}
	out, err := h.automationJSON(ctx, a, scope)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// APIAutomationDelete is DELETE /api/v1/automations/:id. Queued deliveries
// still go out.
func (h *Handler) APIAutomationDelete(c echo.Context) error {
	a, scope, err := h.loadAutomationToChange(c)
	if err != nil {
		return err
	}
	if err := h.deleteAutomation(c, scope, a); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// deliveryPageSize is how many deliveries one API page holds.
const deliveryPageSize = 50

// APIAutomationDeliveries is GET /api/v1/automations/:id/deliveries.
func (h *Handler) APIAutomationDeliveries(c echo.Context) error {
	a, _, err := h.loadAutomation(c)
	if err != nil {
		return err
	}
	n, _ := strconv.Atoi(c.QueryParam("page"))
	page := models.NewPage(n, deliveryPageSize)
	ds, more, err := h.visibleHistory(c.Request().Context(), CurrentUser(c), a, page)
	if err != nil {
		return err
	}
	out := map[string]any{"deliveries": ds}
	if more {
		out["next_page"] = page.Number + 1 // newest first: the next page is older
	}
	return c.JSON(http.StatusOK, out)
}

// APIRedeliver is POST /api/v1/deliveries/:id/redeliver (the delivery's
// public id): queue a finished delivery for a new attempt.
func (h *Handler) APIRedeliver(c echo.Context) error {
	d, a, _, err := h.redeliver(c)
	if err != nil {
		return err
	}
	detail, err := h.deliveryDetail(c.Request().Context(), CurrentUser(c), a)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, models.VisibleDelivery(detail, *d))
}

// redeliver checks that the caller administers the delivery's automation
// and queues a new attempt.
func (h *Handler) redeliver(c echo.Context) (*models.Delivery, *models.Automation, *automationScope, error) {
	ctx := c.Request().Context()
	d, err := models.DeliveryByUID(ctx, h.db, c.Param("id"))
	if err != nil {
		return nil, nil, nil, err
	}
	if d.AutomationID == nil {
		return nil, nil, nil, models.ErrNotFound // its automation was deleted: nobody owns it any more
	}
	a, scope, err := h.automationFor(c, *d.AutomationID, models.RoleAdmin)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := models.Redeliver(ctx, h.db, d.ID); err != nil {
		return nil, nil, nil, err
	}
	h.wakeDeliveries()
	d, err = models.DeliveryByUID(ctx, h.db, d.UID)
	return d, a, scope, err
}
