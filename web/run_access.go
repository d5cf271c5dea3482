package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/handlers"
	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/runs"
)

// runAccess is the role check for routes under /runs/:id: the run's
// project team decides (§9: members and the team's service accounts log
// runs, viewers read them). A run the user cannot see answers 404, like a
// missing one.
func (s *Server) runAccess(need models.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			notFound := &handlers.Error{Status: http.StatusNotFound, Message: "No such run, or you cannot see it."}
			id, err := strconv.ParseInt(c.Param("id"), 10, 64)
			if err != nil {
				return notFound
			}
			ctx := c.Request().Context()
			r, err := runs.ByID(ctx, s.db, id)
			if errors.Is(err, models.ErrNotFound) {
				return notFound
			}
			if err != nil {
				return err
			}
			scope, err := runs.LoadScope(ctx, s.db, r)
			if err != nil {
				return err
			}
			u := handlers.CurrentUser(c)
			role, err := models.TeamRole(ctx, s.db, scope.Team.ID, u.ID)
			if err != nil {
				return err
			}
			if !models.CanView(u, role) {
				return notFound
			}
			if !models.Allowed(u, role, need) {
				return handlers.Forbidden()
			}
			handlers.SetRunAccess(c, scope, role)
			return next(c)
		}
	}
}

// runTokenOrAPIKey authenticates the routes a launch job calls for its own
// run (history, heartbeat): a run token (runs.TokenPrefix) acts as the
// run's author for that run only; anything else is an API key (apiAuth).
// The role check that follows (runAccess) still applies to the author, so
// a token stops working when its author leaves the team.
func (s *Server) runTokenOrAPIKey(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		token, ok := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
		token = strings.TrimSpace(token)
		if !ok || !strings.HasPrefix(token, runs.TokenPrefix) {
			return s.apiAuth(next)(c)
		}
		invalid := &handlers.Error{Status: http.StatusUnauthorized, Message: "run token is invalid for this run"}
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil {
			return invalid
		}
		ctx := c.Request().Context()
		r, err := runs.ByToken(ctx, s.db, id, token)
		if errors.Is(err, models.ErrNotFound) || (err == nil && r.UserID == nil) {
			return invalid
		}
		if err != nil {
			return err
		}
		u, err := models.UserByID(ctx, s.db, *r.UserID)
		if errors.Is(err, models.ErrNotFound) || (err == nil && !u.Active()) {
			return invalid
		}
		if err != nil {
			return err
		}
		handlers.SetUser(c, u)
		return next(c)
	}
}

// isRunHistory picks the history route, whose batches may be larger than
// the server's general body limit.
func isRunHistory(c echo.Context) bool {
	p := c.Request().URL.Path
	return c.Request().Method == http.MethodPost && strings.HasPrefix(p, "/api/v1/runs/") && strings.HasSuffix(p, "/history")
}
