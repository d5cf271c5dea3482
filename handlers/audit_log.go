package handlers

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/audit"
	"github.com/automations-dev/automations/views"
)

// auditFilter parses ?actor=&kind=&before=&limit= into f.
func auditFilter(c echo.Context, f audit.Filter) (audit.Filter, error) {
	f.Actor = strings.TrimSpace(c.QueryParam("actor"))
	f.Kind = strings.TrimSpace(c.QueryParam("kind"))
	if s := c.QueryParam("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return f, models.Invalid("before", "must be a positive entry id")
		}
		f.Before = n
	}
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 || n > audit.MaxLimit {
			return f, models.Invalid("limit", "must be between 1 and %d", audit.MaxLimit)
		}
		f.Limit = n
	}
	return f, nil
}

// olderURL links the next page of a log screen, keeping the filters.
func olderURL(path string, f audit.Filter, next int64) string {
	if next == 0 {
		return ""
	}
	q := url.Values{}
	if f.Actor != "" {
		q.Set("actor", f.Actor)
	}
	if f.Kind != "" {
		q.Set("kind", f.Kind)
	}
	if f.Limit != 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	q.Set("before", strconv.FormatInt(next, 10))
	return path + "?" + q.Encode()
}

// TeamAuditLog is GET /teams/:team/audit-log (team admins, site admins).
func (h *Handler) TeamAuditLog(c echo.Context) error {
	t := currentTeam(c)
	return h.renderAuditLog(c, teamLog(t).TeamID, views.AuditLogProps{
		Title: "Audit log", Team: t.Name, Path: "/teams/" + t.Name + "/audit-log",
	})
}

// AdminAuditLog is GET /admin/audit-log: every entry (site admins).
func (h *Handler) AdminAuditLog(c echo.Context) error {
	u := CurrentUser(c)
	if !u.SiteAdmin {
		return Forbidden()
	}
	p := views.AuditLogProps{Title: "Audit log (all)", Path: "/admin/audit-log", Scopes: map[string]string{}}
	ctx := c.Request().Context()
	teams, err := models.TeamsOf(ctx, h.db, u)
	if err != nil {
		return err
	}
	for _, t := range teams {
		p.Scopes["t"+strconv.FormatInt(t.ID, 10)] = "team " + t.Name
	}
	regs, err := models.RegistriesOf(ctx, h.db, u)
	if err != nil {
		return err
	}
	for _, r := range regs {
		p.Scopes["r"+strconv.FormatInt(r.ID, 10)] = "registry " + r.Name
	}
	return h.renderAuditLog(c, nil, p)
}

func (h *Handler) renderAuditLog(c echo.Context, teamID *int64, p views.AuditLogProps) error {
	f, err := auditFilter(c, audit.Filter{TeamID: teamID})
	if err != nil {
		return err
	}
	p.Actor, p.Kind = f.Actor, f.Kind
	if p.Entries, err = audit.List(c.Request().Context(), h.db, f); err != nil {
		return err
	}
	p.OlderURL = olderURL(p.Path, f, audit.NextBefore(p.Entries, f.Limit))
	return h.Render(c, http.StatusOK, views.AuditLogPage(p))
}

type auditEntryJSON struct {
	ID        int64           `json:"id"`
	CreatedAt time.Time       `json:"created_at"`
	Actor     string          `json:"actor"`
	Kind      string          `json:"kind"`
	Target    string          `json:"target"`
	Before    json.RawMessage `json:"before"`
	After     json.RawMessage `json:"after"`
}

// rawOrNull passes a stored JSON object through; empty is null.
func rawOrNull(s string) json.RawMessage {
	if s == "" || !json.Valid([]byte(s)) {
		return json.RawMessage("null")
	}
	return json.RawMessage(s)
}

// APITeamAuditLog is GET /api/v1/teams/:team/audit-log?limit=&before=&actor=&kind=
// → {entries, next_before}, newest first (team admins, site admins).
func (h *Handler) APITeamAuditLog(c echo.Context) error {
	f, err := auditFilter(c, audit.Filter{TeamID: teamLog(currentTeam(c)).TeamID})
	if err != nil {
		return err
	}
	entries, err := audit.List(c.Request().Context(), h.db, f)
	if err != nil {
		return err
	}
	out := make([]auditEntryJSON, len(entries))
	for i, e := range entries {
		out[i] = auditEntryJSON{ID: e.ID, CreatedAt: e.CreatedAt.UTC(), Actor: e.ActorName, Kind: e.Kind,
			Target: e.Target, Before: rawOrNull(e.Before), After: rawOrNull(e.After)}
	}
	var next *int64
	if n := audit.NextBefore(entries, f.Limit); n != 0 {
		next = &n
	}
	return c.JSON(http.StatusOK, map[string]any{"entries": out, "next_before": next})
}
