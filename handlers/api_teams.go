package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
)

type teamJSON struct {
	ID   int64       `json:"id"`
	Name string      `json:"name"`
	Role models.Role `json:"role,omitempty"`
}

// APITeamsList is GET /api/v1/teams: the caller's teams.
func (h *Handler) APITeamsList(c echo.Context) error {
	teams, err := models.TeamsOf(c.Request().Context(), h.db, CurrentUser(c))
	if err != nil {
		return err
	}
	out := make([]teamJSON, len(teams))
	for i, t := range teams {
		out[i] = teamJSON{ID: t.ID, Name: t.Name, Role: t.Role}
	}
	return c.JSON(http.StatusOK, map[string]any{"teams": out})
}

// APITeamCreate is POST /api/v1/teams (site admins).
func (h *Handler) APITeamCreate(c echo.Context) error {
	u := CurrentUser(c)
	if !u.SiteAdmin {
		return Forbidden()
	}
	var body struct {
		Name string `json:"name"`
	}
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	t, err := models.CreateTeam(c.Request().Context(), h.db, body.Name, u)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, teamJSON{ID: t.ID, Name: t.Name, Role: models.RoleAdmin})
}

type registryJSON struct {
	ID          int64       `json:"id"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Role        models.Role `json:"role,omitempty"`
}

// APIRegistriesList is GET /api/v1/registries.
func (h *Handler) APIRegistriesList(c echo.Context) error {
	regs, err := models.RegistriesOf(c.Request().Context(), h.db, CurrentUser(c))
	if err != nil {
		return err
	}
	out := make([]registryJSON, len(regs))
	for i, r := range regs {
		out[i] = registryJSON{ID: r.ID, Name: r.Name, Description: r.Description, Role: r.Role}
	}
	return c.JSON(http.StatusOK, map[string]any{"registries": out})
}

// APIRegistryCreate is POST /api/v1/registries (site admins).
func (h *Handler) APIRegistryCreate(c echo.Context) error {
	u := CurrentUser(c)
	if !u.SiteAdmin {
		return Forbidden()
	}
	var body struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	r, err := models.CreateRegistry(c.Request().Context(), h.db, body.Name, body.Description, u)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, registryJSON{ID: r.ID, Name: r.Name, Description: r.Description, Role: models.RoleAdmin})
}
