package runs

import (
	"context"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
)

// Fired is a delivery queued by one of a run's events, with what fired it.
type Fired struct {
	models.Delivery
	EventType string           `gorm:"column:event_type"`
	Payload   string           `gorm:"column:event_payload"`
	Vars      models.EventVars `gorm:"-"`
}

// FiredFor lists the newest deliveries of a run's events (up to limit),
// the automations that fired for it. Callers show them through
// models.VisibleDelivery. Deliveries are found by the project's run
// automations (deliveries_automation) among the run's events (events_run),
// so no index on deliveries.event_id is needed.
func FiredFor(ctx context.Context, db *gorm.DB, s *Scope, limit int) ([]Fired, error) {
	var out []Fired
	err := db.WithContext(ctx).Table("deliveries AS d").
		Select("d.*, e.type AS event_type, e.payload AS event_payload").
		Joins("JOIN events e ON e.id = d.event_id").
		Where("e.run_id = ? AND d.automation_id IN (?)", s.Run.ID,
			db.Table("automations").Select("id").Where("project_id = ? AND event_type LIKE ?", s.Project.ID, "RUN_%")).
		Order("d.id DESC").Limit(limit).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("deliveries of run %d: %w", s.Run.ID, err)
	}
	for i := range out {
		_ = json.Unmarshal([]byte(out[i].Payload), &out[i].Vars) // written by RecordEvent
	}
	return out, nil
}
