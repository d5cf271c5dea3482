package web

import (
	"fmt"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
)

// prefetched is the team and project an API request's path names, read by
// apiAuth with the key in one query, so that teamAccess and projectAccess
// need no query of their own. Session requests have none and query.
type prefetched struct {
	team, project string // the names looked up
	access        *models.APIKeyAccess
}

const prefetchedKey = "web.prefetched"

func prefetchedFor(c echo.Context) *prefetched {
	p, _ := c.Get(prefetchedKey).(*prefetched)
	if p == nil || p.team != c.Param("team") {
		return nil
	}
	return p
}

// teamWithRole is the team the path names and u's role in it
// (models.TeamByNameWithRole, or what apiAuth already read).
func (s *Server) teamWithRole(c echo.Context, u *models.User) (*models.Team, models.Role, error) {
	if p := prefetchedFor(c); p != nil && p.access.User.ID == u.ID {
		if p.access.Team == nil {
			return nil, models.RoleNone, fmt.Errorf("team %s: %w", p.team, models.ErrNotFound)
		}
		return p.access.Team, p.access.Role, nil
	}
	return models.TeamByNameWithRole(c.Request().Context(), s.db, c.Param("team"), u.ID)
}

// project is the project of t the path names (models.ProjectByName, or
// what apiAuth already read).
func (s *Server) project(c echo.Context, t *models.Team) (*models.Project, error) {
	if p := prefetchedFor(c); p != nil && p.project == c.Param("project") && p.access.Team != nil && p.access.Team.ID == t.ID {
		if p.access.Project == nil {
			return nil, fmt.Errorf("project %s: %w", p.project, models.ErrNotFound)
		}
		return p.access.Project, nil
	}
	return models.ProjectByName(c.Request().Context(), s.db, t.ID, c.Param("project"))
}
