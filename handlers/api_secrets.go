package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
)

type secretJSON struct {
	Name      string `json:"name"`
	CreatedBy string `json:"created_by"`
	UpdatedBy string `json:"updated_by"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

func toSecretJSON(s models.Secret) secretJSON {
	return secretJSON{Name: s.Name, CreatedBy: s.CreatedBy, UpdatedBy: s.UpdatedBy,
		CreatedAt: s.CreatedAt.UTC().Format(timeFormat), UpdatedAt: s.UpdatedAt.UTC().Format(timeFormat)}
}

const timeFormat = "2006-01-02T15:04:05Z07:00"

// APISecretsList is GET /api/v1/teams/:team/secrets: names only.
func (h *Handler) APISecretsList(c echo.Context) error {
	list, err := models.SecretsOf(c.Request().Context(), h.db, currentTeam(c).ID)
	if err != nil {
		return err
	}
	out := make([]secretJSON, len(list))
	for i, s := range list {
		out[i] = toSecretJSON(s)
	}
	return c.JSON(http.StatusOK, map[string]any{"secrets": out})
}

// APISecretCreate is POST /api/v1/teams/:team/secrets {name, value}.
func (h *Handler) APISecretCreate(c echo.Context) error {
	var body struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	s, err := h.createSecret(c, currentTeam(c), body.Name, body.Value)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toSecretJSON(*s))
}

// APISecretUpdate is PATCH /api/v1/teams/:team/secrets/:name {value}: rotation.
func (h *Handler) APISecretUpdate(c echo.Context) error {
	var body struct {
		Value string `json:"value"`
	}
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	ctx, t, name := c.Request().Context(), currentTeam(c), c.Param("name")
	if err := h.updateSecret(c, t, name, body.Value); err != nil {
		return err
	}
	s, err := models.SecretByName(ctx, h.db, t.ID, name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toSecretJSON(*s))
}

// APISecretDelete is DELETE /api/v1/teams/:team/secrets/:name.
func (h *Handler) APISecretDelete(c echo.Context) error {
	if err := h.deleteSecret(c, currentTeam(c), c.Param("name")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
