package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/runs"
)

type runUpdateInput struct {
	State string `json:"state"`
}

// APIRunUpdate is PATCH /api/v1/runs/{id}: {state} finished, failed,
// crashed or killed, firing RUN_STATE.
func (h *Handler) APIRunUpdate(c echo.Context) error {
	ctx, u := c.Request().Context(), CurrentUser(c)
	var in runUpdateInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.State == "" {
		return models.Invalid("state", "is required: finished, failed, crashed or killed")
	}
	s := currentRun(c)
	_, err := runs.SetState(ctx, h.db, h.runEnv(), s, in.State, u)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.runJSON(s.Run, s.Team.Name, s.Project.Name, s.UserHandle()))
}
