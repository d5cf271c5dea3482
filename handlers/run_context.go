package handlers

import (
	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/runs"
)

const runScopeKey = "automations.run"

// SetRunAccess records the run a route is about (with its project and
// team) and the user's role in the team, after web's role check passed.
func SetRunAccess(c echo.Context, s *runs.Scope, r models.Role) {
	SetProjectAccess(c, s.Team, s.Project, r)
	c.Set(runScopeKey, s)
}

func currentRun(c echo.Context) *runs.Scope {
	s, _ := c.Get(runScopeKey).(*runs.Scope)
	return s
}

// runEnv is what run events need from the server's configuration.
func (h *Handler) runEnv() runs.Env { return runs.Env{BaseURL: h.baseURL, Conditions: h.conditions} }
