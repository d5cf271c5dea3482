// Package audit records who changed what (DESIGN.md §13) and reads it back
// for Team Settings → Audit log and the API.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
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
