package handlers

import (
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/runs"
)

type runCreateInput struct {
	Name        string          `json:"name"`
	DisplayName string          `json:"display_name"`
	Config      json.RawMessage `json:"config"`
	Tags        []string        `json:"tags"`
}

// APIRunCreate is POST /api/v1/projects/{team}/{project}/runs: start a run
// (state running), firing RUN_STATE running.
func (h *Handler) APIRunCreate(c echo.Context) error {
	ctx, u := c.Request().Context(), CurrentUser(c)
	var in runCreateInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	t, p := currentTeam(c), currentProject(c)
	r, err := runs.Create(ctx, h.db, h.runEnv(), t, p, runs.NewRun{
		Name: in.Name, DisplayName: in.DisplayName, Config: in.Config, Tags: in.Tags,
	}, u)
	if err != nil {
		return err
	}
	out := h.runJSON(r, t.Name, p.Name, models.AuthorHandle(u))
	out.Token = r.Token
	return c.JSON(http.StatusCreated, out)
}
