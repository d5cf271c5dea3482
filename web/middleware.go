package web

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/handlers"
	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/people"
)

func (s *Server) requestLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		level := slog.LevelInfo
		if c.Response().Status >= 500 {
			level = slog.LevelError
		}
		took := time.Since(start)
		s.log.Log(c.Request().Context(), level, "request",
			"method", c.Request().Method, "path", c.Request().URL.Path,
			"status", c.Response().Status, "duration_ms", took.Milliseconds())
		s.metrics.HTTPRequest(c.Request().Method, c.Path(), c.Response().Status, took)
		return nil
	}
}

// loadSessionUser puts the session's user, if any, on the request. The
// cookie's token must name a live session row of an active user; anything
// else (logged out, expired, revoked, deactivated) is anonymous.
func (s *Server) loadSessionUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		// Static files and the API never need the session's user.
		if isAPI(c) || strings.HasPrefix(c.Request().URL.Path, "/static/") {
			return next(c)
		}
		token := handlers.SessionToken(s.sessions, c)
		if token == "" {
			return next(c)
		}
		ctx := c.Request().Context()
		sess, err := people.LookupSession(ctx, s.db, token, time.Now(), s.limits)
		if errors.Is(err, models.ErrNotFound) {
			return next(c)
		}
		if err != nil {
			return err
		}
		u, err := models.UserByID(ctx, s.db, sess.UserID)
		if err != nil {
			return err
		}
		if !u.Active() {
			// Deactivation deletes sessions too; this covers a state
			// changed by other means, and reactivation must not revive it.
			if err := people.DeleteSession(ctx, s.db, sess.ID); err != nil {
				return err
			}
			return next(c)
		}
		handlers.SetUser(c, u)
		handlers.SetSession(c, sess)
		return next(c)
	}
}

// requireLogin sends anonymous browsers to the sign-in page.
func requireLogin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if handlers.CurrentUser(c) == nil {
			if c.Request().Method == http.MethodGet {
				return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request().URL.RequestURI()))
			}
			return &handlers.Error{Status: http.StatusUnauthorized, Message: "Sign in first."}
		}
		return next(c)
	}
}

// apiAuth accepts `Authorization: Bearer <api key>` and nothing else.
func (s *Server) apiAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		auth := c.Request().Header.Get(echo.HeaderAuthorization)
		key, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok || strings.TrimSpace(key) == "" {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="automations"`)
			return &handlers.Error{Status: http.StatusUnauthorized, Message: "send an API key as Authorization: Bearer <key>"}
		}
		// The team and project the path names come with the key, in the
		// same query; teamAccess and projectAccess check them.
		team, project := c.Param("team"), c.Param("project")
		a, err := models.APIKeyAccessFor(c.Request().Context(), s.db, strings.TrimSpace(key), team, project)
		if errors.Is(err, models.ErrNotFound) {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="automations", error="invalid_token"`)
			return &handlers.Error{Status: http.StatusUnauthorized, Message: "API key is invalid or revoked"}
		}
		if err != nil {
			return err
		}
		handlers.SetUser(c, a.User)
		if team != "" {
			c.Set(prefetchedKey, &prefetched{team: team, project: project, access: a})
		}
		return next(c)
	}
}

// teamAccess is the role check for routes under a :team. Non-members (who
// cannot even view the team) get 404 so team names do not leak; members
// below need get 403. Both change nothing.
func (s *Server) teamAccess(need models.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			t, role, err := s.checkTeam(c, need)
			if err != nil {
				return err
			}
			handlers.SetTeamAccess(c, t, role)
			return next(c)
		}
	}
}

func (s *Server) checkTeam(c echo.Context, need models.Role) (*models.Team, models.Role, error) {
	u := handlers.CurrentUser(c)
	// A missing team and one the user may not see get the same answer,
	// so team names cannot be probed.
	noTeam := &handlers.Error{Status: http.StatusNotFound, Message: "No such team, or you are not a member of it."}
	t, role, err := s.teamWithRole(c, u)
	if errors.Is(err, models.ErrNotFound) {
		return nil, "", noTeam
	}
	if err != nil {
		return nil, "", err
	}
	if !models.CanView(u, role) {
		return nil, "", noTeam
	}
	if !models.Allowed(u, role, need) {
		return nil, "", handlers.Forbidden()
	}
	return t, role, nil
}

// projectAccess is teamAccess for routes under :team/:project: the role is
// the user's role in the project's team.
func (s *Server) projectAccess(need models.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			t, role, err := s.checkTeam(c, need)
			if err != nil {
				return err
			}
			p, err := s.project(c, t)
			if errors.Is(err, models.ErrNotFound) {
				return &handlers.Error{Status: http.StatusNotFound, Message: "No such project in team " + t.Name + ".", Cause: err}
			}
			if err != nil {
				return err
			}
			handlers.SetProjectAccess(c, t, p, role)
			return next(c)
		}
	}
}

// artifactAccess is the role check for routes under /artifacts/:id: the
// version's project (its team's roles) or registry (its members) decides.
// A version the user cannot see answers 404, like a missing one.
func (s *Server) artifactAccess(need models.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			notFound := &handlers.Error{Status: http.StatusNotFound, Message: "No such artifact version, or you cannot see it."}
			id, err := strconv.ParseInt(c.Param("id"), 10, 64)
			if err != nil {
				return notFound
			}
			u := handlers.CurrentUser(c)
			ctx := c.Request().Context()
			v, scope, err := models.VersionScope(ctx, s.db, id)
			if errors.Is(err, models.ErrNotFound) {
				return notFound
			}
			if err != nil {
				return err
			}
			var role models.Role
			if scope.InRegistry() {
				role, err = models.RegistryRole(ctx, s.db, scope.Registry.ID, u.ID)
			} else {
				role, err = models.TeamRole(ctx, s.db, scope.Team.ID, u.ID)
			}
			if err != nil {
				return err
			}
			if !models.CanView(u, role) {
				return notFound
			}
			if !models.Allowed(u, role, need) {
				return handlers.Forbidden()
			}
			handlers.SetArtifactAccess(c, v, scope, role)
			return next(c)
		}
	}
}

// registryAccess is teamAccess for routes under a :registry.
func (s *Server) registryAccess(need models.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			u := handlers.CurrentUser(c)
			ctx := c.Request().Context()
			// Missing and not visible answer alike (see checkTeam).
			noRegistry := &handlers.Error{Status: http.StatusNotFound, Message: "No such registry, or you are not a member of it."}
			r, err := models.RegistryByName(ctx, s.db, c.Param("registry"))
			if errors.Is(err, models.ErrNotFound) {
				return noRegistry
			}
			if err != nil {
				return err
			}
			role, err := models.RegistryRole(ctx, s.db, r.ID, u.ID)
			if err != nil {
				return err
			}
			if !models.CanView(u, role) {
				return noRegistry
			}
			if !models.Allowed(u, role, need) {
				return handlers.Forbidden()
			}
			handlers.SetRegistryAccess(c, r, role)
			return next(c)
		}
	}
}
