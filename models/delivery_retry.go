package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models/audit"
)

// RetryTarget says whose failed deliveries RetryFailed queues again: one
// automation's, or every delivery sent through one webhook. Exactly one is set.
type RetryTarget struct {
	AutomationID int64
	WebhookID    int64
}

// column is the attempts' (and deliveries') column naming the target.
func (t RetryTarget) column() (string, int64) {
	if t.WebhookID != 0 {
		return "webhook_id", t.WebhookID
	}
	return "automation_id", t.AutomationID
}

// RetryFailed queues again, at once, every delivery of target that failed
// (gave up) at or after since and is still failed, and returns how many.
// Each keeps its id, so receivers see the same webhook-id and can drop a
// duplicate. The failed attempts are found through the attempts' index by
// target and time, not by scanning deliveries. entry, when given, is
// recorded in the audit log with the count, in the same transaction.
func RetryFailed(ctx context.Context, db *gorm.DB, target RetryTarget, since time.Time, entry *audit.Entry) (int64, error) {
	col, id := target.column()
	now := time.Now().UTC()
	var queued int64
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// state = 'failed' in the outer WHERE is re-checked on each row as
		// it is updated, so a delivery a worker is sending is left alone.
		res := tx.Exec(`UPDATE deliveries SET state = 'queued', next_attempt_at = ?, completed_at = NULL,
  lease_until = NULL, leased_by = '', updated_at = ?
WHERE state = 'failed' AND `+col+` = ? AND id IN (
  SELECT delivery_id FROM delivery_attempts WHERE `+col+` = ? AND started_at >= ? AND outcome = 'failed')`,
			now, now, id, id, since.UTC())
		if res.Error != nil {
			return fmt.Errorf("retry failed deliveries: %w", res.Error)
		}
		queued = res.RowsAffected
		if entry == nil {
			return nil
		}
		e := *entry
		e.After = audit.JSON(map[string]any{"since": since.UTC().Format(time.RFC3339), "queued": queued})
		return audit.Record(ctx, tx, e)
	})
	if err != nil {
		return 0, err
	}
	return queued, nil
}
