package handlers

import (
	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/audit"
)

// Personal API keys belong to no team: their entries are site-wide, read
// by site admins. Only a key's name and prefix are recorded.

func (h *Handler) createAPIKey(c echo.Context, name string) (string, error) {
	var key string
	err := h.audited(c, siteLog(), func(tx *gorm.DB, e *audit.Entry) error {
		u := CurrentUser(c)
		k, row, err := models.CreateAPIKey(c.Request().Context(), tx, u.ID, name)
		if err != nil {
			return err
		}
		key = k
		e.Kind, e.Target = auditAPIKeyCreate, u.Email
		e.After = audit.JSON(map[string]any{"name": row.Name, "prefix": row.Prefix})
		return nil
	})
	return key, err
}

func (h *Handler) revokeAPIKey(c echo.Context, keyID int64) error {
	return h.audited(c, siteLog(), func(tx *gorm.DB, e *audit.Entry) error {
		u, ctx := CurrentUser(c), c.Request().Context()
		keys, err := models.APIKeysOf(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		if err := models.RevokeAPIKey(ctx, tx, u.ID, keyID); err != nil {
			return err
		}
		for _, k := range keys {
			if k.ID == keyID {
				e.Kind, e.Target = auditAPIKeyRevoke, u.Email
				e.Before = audit.JSON(map[string]any{"name": k.Name, "prefix": k.Prefix})
			}
		}
		return nil
	})
}
