package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/automations-dev/automations/models"
)

// automationScope is where an automation lives, resolved to its rows, with
// the signed-in user's role there (the project's team or the registry).
type automationScope struct {
	Type       models.ScopeType
	Team       *models.Team // project scope: the project's team
	Project    *models.Project
	Registry   *models.Registry
	Collection *models.Collection // registry_collection scope, or a project's filter
	Role       models.Role
	// Editing is the automation being changed, nil when creating one.
	Editing *models.Automation
}

// Label names the scope for people: "team/project", "registry r", …
func (s *automationScope) Label() string {
	switch s.Type {
	case models.ScopeProject:
		l := "Project " + s.Team.Name + "/" + s.Project.Name
		if s.Collection != nil {
			l += ", collection " + s.Collection.Name
		}
		return l
	case models.ScopeRegistryCollection:
		return "Registry " + s.Registry.Name + ", collection " + s.Collection.Name
	default:
		return "Registry " + s.Registry.Name + " (every collection, also future ones)"
	}
}

// ListURL is the page listing the scope's automations.
func (s *automationScope) ListURL() string {
	switch s.Type {
	case models.ScopeProject:
		return "/projects/" + s.Team.Name + "/" + s.Project.Name + "/automations"
	case models.ScopeRegistryCollection:
		return "/registries/" + s.Registry.Name + "/collections/" + s.Collection.Name
	default:
		return "/registries/" + s.Registry.Name + "/automations"
	}
}

// NewURL is where the Create automation wizard of the scope lives.
func (s *automationScope) NewURL() string {
	if s.Type == models.ScopeRegistryCollection {
		return s.ListURL() + "/automations/new"
	}
	return s.ListURL() + "/new"
}

// CanView and CanAdmin apply §9: viewers of the project or registry see
// automations; admins of the team or registry (and site admins) change them.
func (s *automationScope) CanView(u *models.User) bool  { return models.CanView(u, s.Role) }
func (s *automationScope) CanAdmin(u *models.User) bool { return models.CanAdmin(u, s.Role) }

// apply copies the scope's ids into a spec.
func (s *automationScope) apply(spec *models.AutomationSpec) {
	spec.Scope, spec.ProjectID, spec.RegistryID, spec.CollectionID = s.Type, nil, nil, nil
	if s.Project != nil {
		spec.ProjectID = &s.Project.ID
	}
	if s.Registry != nil {
		spec.RegistryID = &s.Registry.ID
	}
	if s.Collection != nil {
		spec.CollectionID = &s.Collection.ID
	}
}

// scopeNames is a scope as the API and forms name it.
type scopeNames struct {
	Type       string `json:"type"`
	Project    string `json:"project,omitempty"` // "team/project"
	Registry   string `json:"registry,omitempty"`
	Collection string `json:"collection,omitempty"`
}

// adminScope is resolveScope for a body that creates or tries out an
// automation: the caller must administer the scope (§9), or it is forbidden.
func (h *Handler) adminScope(ctx context.Context, u *models.User, n scopeNames) (*automationScope, error) {
	scope, err := h.resolveScope(ctx, u, n)
	if err != nil {
		return nil, err
	}
	if !scope.CanAdmin(u) {
		return nil, Forbidden()
	}
	return scope, nil
}

// resolveScope turns names into rows and u's role. A team or registry that
// does not exist and one u cannot see give the same answer (so names
// cannot be probed); projects and collections are looked up only once u
// can see their team or registry.
func (h *Handler) resolveScope(ctx context.Context, u *models.User, n scopeNames) (*automationScope, error) {
	s := &automationScope{Type: models.ScopeType(n.Type)}
	var err error
	switch s.Type {
	case models.ScopeProject:
		team, project, ok := strings.Cut(n.Project, "/")
		if !ok || team == "" || project == "" {
			return nil, models.Invalid("scope.project", "name the project as team/project")
		}
		hidden := &Error{Status: http.StatusNotFound, Field: "scope.project", Message: "scope.project: no team " + team + " that you are a member of"}
		if s.Team, s.Role, err = models.TeamByNameWithRole(ctx, h.db, team, u.ID); errors.Is(err, models.ErrNotFound) {
			return nil, hidden
		} else if err != nil {
			return nil, err
		}
		if !s.CanView(u) {
			return nil, hidden
		}
		if s.Project, err = models.ProjectByName(ctx, h.db, s.Team.ID, project); err != nil {
			return nil, scopeNotFound("scope.project", err)
		}
		if n.Collection != "" {
			if s.Collection, err = models.CollectionInProject(ctx, h.db, s.Project.ID, n.Collection); err != nil {
				return nil, scopeNotFound("scope.collection", err)
			}
		}
	case models.ScopeRegistry, models.ScopeRegistryCollection:
		if n.Registry == "" {
			return nil, models.Invalid("scope.registry", "is required")
		}
		hidden := &Error{Status: http.StatusNotFound, Field: "scope.registry", Message: "scope.registry: no registry " + n.Registry + " that you are a member of"}
		if s.Registry, err = models.RegistryByName(ctx, h.db, n.Registry); errors.Is(err, models.ErrNotFound) {
			return nil, hidden
		} else if err != nil {
			return nil, err
		}
		if s.Role, err = models.RegistryRole(ctx, h.db, s.Registry.ID, u.ID); err != nil {
			return nil, err
		}
		if !s.CanView(u) {
			return nil, hidden
		}
		if s.Type == models.ScopeRegistryCollection {
			if n.Collection == "" {
				return nil, models.Invalid("scope.collection", "is required for a registry_collection automation")
			}
			if s.Collection, err = models.CollectionInRegistry(ctx, h.db, s.Registry.ID, n.Collection); err != nil {
				return nil, scopeNotFound("scope.collection", err)
			}
		}
	default:
		return nil, models.Invalid("scope.type", "%q is not a scope: use project, registry or registry_collection", n.Type)
	}
	return s, nil
}

// scopeOf resolves a stored automation's scope and u's role there.
func (h *Handler) scopeOf(ctx context.Context, u *models.User, a *models.Automation) (*automationScope, error) {
	s := &automationScope{Type: a.ScopeType}
	var err error
	if a.ProjectID != nil {
		if s.Project, err = models.ProjectByID(ctx, h.db, *a.ProjectID); err != nil {
			return nil, err
		}
		if s.Team, err = models.TeamByID(ctx, h.db, s.Project.TeamID); err != nil {
			return nil, err
		}
		if s.Role, err = models.TeamRole(ctx, h.db, s.Team.ID, u.ID); err != nil {
			return nil, err
		}
	}
	if a.RegistryID != nil {
		if s.Registry, err = models.RegistryByID(ctx, h.db, *a.RegistryID); err != nil {
			return nil, err
		}
		if s.Role, err = models.RegistryRole(ctx, h.db, s.Registry.ID, u.ID); err != nil {
			return nil, err
		}
	}
	if a.CollectionID != nil {
		if s.Collection, err = models.CollectionByID(ctx, h.db, *a.CollectionID); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// names is the scope as the API shows it.
func (s *automationScope) names() scopeNames {
	n := scopeNames{Type: string(s.Type)}
	if s.Project != nil {
		n.Project = s.Team.Name + "/" + s.Project.Name
	}
	if s.Registry != nil {
		n.Registry = s.Registry.Name
	}
	if s.Collection != nil {
		n.Collection = s.Collection.Name
	}
	return n
}

func scopeNotFound(field string, err error) error {
	if errors.Is(err, models.ErrNotFound) {
		return &Error{Status: 404, Field: field, Message: fmt.Sprintf("%s: %v", field, err), Cause: err}
	}
	return err
}
