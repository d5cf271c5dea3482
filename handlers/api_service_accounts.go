package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/people"
)

type serviceAccountJSON struct {
	ID         int64       `json:"id"`
	Name       string      `json:"name"`
	Role       models.Role `json:"role"`
	CreatedAt  time.Time   `json:"created_at"`
	KeyPrefix  string      `json:"key_prefix"`
	LastUsedAt *time.Time  `json:"last_used_at"`
	APIKey     string      `json:"api_key,omitempty"` // only in the answer to create
}

func toServiceAccountJSON(sa *people.ServiceAccount) serviceAccountJSON {
	return serviceAccountJSON{ID: sa.ID, Name: sa.Name, Role: sa.Role, CreatedAt: sa.CreatedAt.UTC(),
		KeyPrefix: sa.KeyPrefix, LastUsedAt: sa.LastUsedAt}
}

// APIServiceAccountsList is GET /api/v1/teams/:team/service-accounts (no keys).
func (h *Handler) APIServiceAccountsList(c echo.Context) error {
	list, err := people.ServiceAccountsOf(c.Request().Context(), h.db, currentTeam(c).ID)
	if err != nil {
		return err
	}
	out := make([]serviceAccountJSON, len(list))
	for i := range list {
		out[i] = toServiceAccountJSON(&list[i])
	}
	return c.JSON(http.StatusOK, map[string]any{"service_accounts": out})
}

// APIServiceAccountCreate is POST /api/v1/teams/:team/service-accounts
// {name, role} → 201 {id, name, role, api_key}; the key is shown once.
func (h *Handler) APIServiceAccountCreate(c echo.Context) error {
	var body struct {
		Name string `json:"name"`
		Role string `json:"role"`
	}
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	sa, key, err := h.createServiceAccount(c, body.Name, models.Role(body.Role))
	if err != nil {
		return err
	}
	out := toServiceAccountJSON(sa)
	out.APIKey = key
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, out)
}

// APIServiceAccountDelete is DELETE /api/v1/teams/:team/service-accounts/:name:
// the account is deactivated and its keys revoked.
func (h *Handler) APIServiceAccountDelete(c echo.Context) error {
	if _, err := h.deleteServiceAccount(c); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
