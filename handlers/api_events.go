package handlers

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
)

type eventJSON struct {
	ID           int64            `json:"id"`
	Type         string           `json:"type"`
	CollectionID int64            `json:"collection_id"`
	VersionID    int64            `json:"version_id"`
	CreatedAt    time.Time        `json:"created_at"`
	Vars         models.EventVars `json:"vars"`
}

// eventLimit reads ?limit= (default 50, at most 500).
func eventLimit(c echo.Context) (int, error) {
	s := c.QueryParam("limit")
	if s == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 500 {
		return 0, &Error{Status: http.StatusBadRequest, Field: "limit", Message: "limit must be a number from 1 to 500"}
	}
	return n, nil
}

func (h *Handler) apiEvents(c echo.Context, kind string, scopeID int64) error {
	limit, err := eventLimit(c)
	if err != nil {
		return err
	}
	evs, err := models.EventsOf(c.Request().Context(), h.db, kind, scopeID, limit)
	if err != nil {
		return err
	}
	out := make([]eventJSON, len(evs))
	for i, ev := range evs {
		out[i] = eventJSON{ID: ev.ID, Type: ev.Type, CollectionID: ev.CollectionID, VersionID: ev.VersionID, CreatedAt: ev.CreatedAt, Vars: ev.Vars}
	}
	return c.JSON(http.StatusOK, map[string]any{"events": out})
}

// APIProjectEvents is GET /api/v1/projects/:team/:project/events, newest first.
func (h *Handler) APIProjectEvents(c echo.Context) error {
	return h.apiEvents(c, models.ScopeKindProject, currentProject(c).ID)
}

// APIRegistryEvents is GET /api/v1/registries/:registry/events, newest first.
func (h *Handler) APIRegistryEvents(c echo.Context) error {
	return h.apiEvents(c, models.ScopeKindRegistry, currentRegistry(c).ID)
}
