package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// QueueStats is the delivery queue as a metrics scrape reads it.
type QueueStats struct {
	// ByState counts unfinished deliveries: queued, running, retrying
	// (and held ones, where integrations can be disabled).
	ByState map[DeliveryState]int64
	// OldestDue is the earliest next_attempt_at of deliveries that are
	// due and not taken by a worker; nil when none is waiting.
	OldestDue *time.Time
}

// ReadQueueStats reads both through the deliveries_pending partial index
// (unfinished deliveries only), so a scrape costs the same with a million
// finished deliveries as with none.
func ReadQueueStats(ctx context.Context, db *gorm.DB, now time.Time) (QueueStats, error) {
	var rows []struct {
		State DeliveryState `gorm:"column:state"`
		N     int64         `gorm:"column:n"`
	}
	if err := db.WithContext(ctx).Raw(`SELECT state, count(*) AS n FROM deliveries WHERE completed_at IS NULL GROUP BY state`).
		Scan(&rows).Error; err != nil {
		return QueueStats{}, fmt.Errorf("queue depth: %w", err)
	}
	st := QueueStats{ByState: map[DeliveryState]int64{}}
	for _, r := range rows {
		st.ByState[r.State] = r.N
	}
	var oldest []time.Time
	err := db.WithContext(ctx).Raw(`SELECT next_attempt_at FROM deliveries
WHERE completed_at IS NULL AND leased_by = '' AND state IN ('queued', 'retrying') AND next_attempt_at <= ?
ORDER BY next_attempt_at LIMIT 1`, now.UTC()).Scan(&oldest).Error
	if err != nil {
		return QueueStats{}, fmt.Errorf("oldest due delivery: %w", err)
	}
	if len(oldest) > 0 {
		st.OldestDue = &oldest[0]
	}
	return st, nil
}

// DisabledCounts counts what endpoint health has switched off.
type DisabledCounts struct {
	DisabledWebhooks int64
	DisabledSlack    int64
	// Held deliveries wait for their integration to be re-enabled.
	HeldDeliveries int64
}

// ReadDisabledCounts counts disabled integrations and held deliveries
// (held ones are unfinished: read among the pending rows, not the whole
// history).
func ReadDisabledCounts(ctx context.Context, db *gorm.DB) (DisabledCounts, error) {
	var h DisabledCounts
	err := db.WithContext(ctx).Raw(`SELECT
  (SELECT count(*) FROM webhooks WHERE disabled_at IS NOT NULL) AS disabled_webhooks,
  (SELECT count(*) FROM slack_integrations WHERE disabled_at IS NOT NULL) AS disabled_slack,
  (SELECT count(*) FROM deliveries WHERE completed_at IS NULL AND state = 'held') AS held_deliveries`).Scan(&h).Error
	if err != nil {
		return h, fmt.Errorf("integration health: %w", err)
	}
	return h, nil
}
