package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// APIRunGet is GET /api/v1/runs/{id}.
func (h *Handler) APIRunGet(c echo.Context) error {
	s := currentRun(c)
	return c.JSON(http.StatusOK, h.runJSON(s.Run, s.Team.Name, s.Project.Name, s.UserHandle()))
}
