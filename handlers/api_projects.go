package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
)

type projectJSON struct {
	ID        int64     `json:"id"`
	Team      string    `json:"team"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// APIProjectsList is GET /api/v1/teams/:team/projects.
func (h *Handler) APIProjectsList(c echo.Context) error {
	t := currentTeam(c)
	ps, err := models.ProjectsOfTeam(c.Request().Context(), h.db, t.ID)
	if err != nil {
		return err
	}
	out := make([]projectJSON, len(ps))
	for i, p := range ps {
		out[i] = projectJSON{ID: p.ID, Team: t.Name, Name: p.Name, CreatedAt: p.CreatedAt}
	}
	return c.JSON(http.StatusOK, map[string]any{"projects": out})
}

// APIProjectCreate is POST /api/v1/teams/:team/projects (team members).
func (h *Handler) APIProjectCreate(c echo.Context) error {
	var body struct {
		Name string `json:"name"`
	}
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	t := currentTeam(c)
	p, err := models.CreateProject(c.Request().Context(), h.db, t, body.Name, CurrentUser(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, projectJSON{ID: p.ID, Team: t.Name, Name: p.Name, CreatedAt: p.CreatedAt})
}
