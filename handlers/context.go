package handlers

import (
	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
)

// Context keys set by web's middleware and read by the handlers.
const (
	userKey     = "automations.user"
	teamKey     = "automations.team"
	registryKey = "automations.registry"
	roleKey     = "automations.role"
	projectKey  = "automations.project"
	versionKey  = "automations.version"
	scopeKey    = "automations.scope"
)

// SetUser records the signed-in user (session or API key) on the request.
func SetUser(c echo.Context, u *models.User) { c.Set(userKey, u) }

// CurrentUser is the signed-in user, nil when anonymous.
func CurrentUser(c echo.Context) *models.User {
	u, _ := c.Get(userKey).(*models.User)
	return u
}

// SetTeamAccess records the team a route is about and the user's role in it,
// after web's role check passed.
func SetTeamAccess(c echo.Context, t *models.Team, r models.Role) {
	c.Set(teamKey, t)
	c.Set(roleKey, r)
}

// SetRegistryAccess records the registry a route is about and the user's role.
func SetRegistryAccess(c echo.Context, reg *models.Registry, r models.Role) {
	c.Set(registryKey, reg)
	c.Set(roleKey, r)
}

func currentTeam(c echo.Context) *models.Team {
	t, _ := c.Get(teamKey).(*models.Team)
	return t
}

func currentRegistry(c echo.Context) *models.Registry {
	r, _ := c.Get(registryKey).(*models.Registry)
	return r
}

func currentRole(c echo.Context) models.Role {
	r, _ := c.Get(roleKey).(models.Role)
	return r
}

// SetProjectAccess records the project a route is about, its team and the
// user's role in that team, after web's role check passed.
func SetProjectAccess(c echo.Context, t *models.Team, p *models.Project, r models.Role) {
	SetTeamAccess(c, t, r)
	c.Set(projectKey, p)
}

// SetArtifactAccess records the artifact version a route is about, where it
// lives and the user's role there (team or registry), after web's check.
func SetArtifactAccess(c echo.Context, v *models.ArtifactVersion, s *models.ArtifactScope, r models.Role) {
	c.Set(versionKey, v)
	c.Set(scopeKey, s)
	c.Set(roleKey, r)
}

func currentProject(c echo.Context) *models.Project {
	p, _ := c.Get(projectKey).(*models.Project)
	return p
}

func currentVersion(c echo.Context) (*models.ArtifactVersion, *models.ArtifactScope) {
	v, _ := c.Get(versionKey).(*models.ArtifactVersion)
	s, _ := c.Get(scopeKey).(*models.ArtifactScope)
	return v, s
}
