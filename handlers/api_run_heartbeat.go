package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models/runs"
)

// APIRunHeartbeat is POST /api/v1/runs/{id}/heartbeat: the run is alive
// (RUN_HEARTBEAT_TIMEOUT without one, or history, marks it crashed).
func (h *Handler) APIRunHeartbeat(c echo.Context) error {
	s := currentRun(c)
	if err := runs.Heartbeat(c.Request().Context(), h.db, s.Run.ID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
