// Package audit records who changed what (DESIGN.md §13) and reads it back
// for Team Settings → Audit log and the API.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Entry is one recorded change. TeamID or RegistryID says whose log shows
// it (both nil: site-wide, e.g. users). Before and After are JSON objects
// that never hold secret values.
type Entry struct {
	ID         int64     `gorm:"column:id;primaryKey"`
	CreatedAt  time.Time `gorm:"column:created_at"`
	TeamID     *int64    `gorm:"column:team_id"`
	RegistryID *int64    `gorm:"column:registry_id"`
	ActorID    *int64    `gorm:"column:actor_id"`
	ActorName  string    `gorm:"column:actor_name"`
	Kind       string    `gorm:"column:kind"`
	Target     string    `gorm:"column:target"`
	Before     string    `gorm:"column:before"`
	After      string    `gorm:"column:after"`
}

// TableName maps Entry to its table.
func (Entry) TableName() string { return "audit_log" }

// Record stores one change; CreatedAt is set to now when zero. Callers pass
// the transaction that made the change, so the entry exists exactly when
// the change does.
func Record(ctx context.Context, db *gorm.DB, e Entry) error {
	if e.CreatedAt.IsZero() {
		e.CreatedAt = time.Now().UTC()
	}
	if err := db.WithContext(ctx).Create(&e).Error; err != nil {
		return fmt.Errorf("record audit entry %s: %w", e.Kind, err)
	}
	return nil
}

// JSON renders a before/after value; callers leave secret values out of v.
func JSON(v any) string {
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// Filter selects entries for a log screen or the API. TeamID limits the
// list to one team's log; with neither TeamID nor RegistryID every entry
// is listed (site admins). Kind matches exactly, or a whole family when it
// has no dot ("secret" matches secret.create, secret.delete, …).
type Filter struct {
	TeamID     *int64
	RegistryID *int64
	Actor      string
	Kind       string
	Limit      int
	Before     int64 // only entries with a smaller id: the next page
}

// Page sizes for List.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// List returns entries newest first, at most f.Limit (DefaultLimit when
// zero, never more than MaxLimit). Pages are keyed by id, which grows with
// time, so entries recorded while someone pages never shift the pages.
func List(ctx context.Context, db *gorm.DB, f Filter) ([]Entry, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	if limit > MaxLimit {
		limit = MaxLimit
	}
	q := db.WithContext(ctx).Model(&Entry{})
	if f.TeamID != nil {
		q = q.Where("team_id = ?", *f.TeamID)
	}
	if f.RegistryID != nil {
		q = q.Where("registry_id = ?", *f.RegistryID)
	}
	if f.Actor != "" {
		q = q.Where("LOWER(actor_name) = ?", strings.ToLower(f.Actor))
	}
	if f.Kind != "" {
		if strings.Contains(f.Kind, ".") {
			q = q.Where("kind = ?", f.Kind)
		} else {
			q = q.Where("kind LIKE ?", f.Kind+".%")
		}
	}
	if f.Before > 0 {
		q = q.Where("id < ?", f.Before)
	}
	var out []Entry
	if err := q.Order("id DESC").Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	return out, nil
}

// NextBefore is the Before of the page after entries, 0 when entries is
// the last page (fewer than limit rows came back).
func NextBefore(entries []Entry, limit int) int64 {
	if limit <= 0 {
		limit = DefaultLimit
	}
	if limit > MaxLimit {
		limit = MaxLimit
	}
	if len(entries) < limit || len(entries) == 0 {
		return 0
	}
	return entries[len(entries)-1].ID
}
