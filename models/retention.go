package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// PruneDeliveries deletes up to batch finished deliveries completed before
// cutoff, with their attempts, in one transaction, and returns how many it
// deleted. Events stay: other records (launch items, previews and dry
// runs) read them.
func PruneDeliveries(ctx context.Context, db *gorm.DB, cutoff time.Time, batch int) (int, error) {
	deleted := 0
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var ids []int64
		// deliveries_completed: the oldest finished rows first.
		err := tx.Model(&Delivery{}).Where("completed_at IS NOT NULL AND completed_at < ?", cutoff).
			Order("completed_at").Limit(batch).Pluck("id", &ids).Error
		if err != nil || len(ids) == 0 {
			return err
		}
		// Only rows still finished: a redelivery since the read cleared completed_at.
		var gone []int64
		err = tx.Raw("DELETE FROM deliveries WHERE id IN ? AND completed_at IS NOT NULL AND completed_at < ? RETURNING id", ids, cutoff).
			Scan(&gone).Error
		if err != nil || len(gone) == 0 {
			return err
		}
		deleted = len(gone)
		return tx.Exec("DELETE FROM delivery_attempts WHERE delivery_id IN ?", gone).Error
	})
	if err != nil {
		return 0, fmt.Errorf("prune deliveries: %w", err)
	}
	return deleted, nil
}

// BackupSQLite writes a consistent copy of the embedded database to path
// while it stays in use (VACUUM INTO reads one snapshot).
func BackupSQLite(ctx context.Context, db *gorm.DB, path string) error {
	if Dialect(db) == "postgres" {
		return fmt.Errorf("backup copies the embedded database; back up PostgreSQL with pg_dump (e.g. pg_dump -Fc \"$DATABASE_URL\" > automations.dump)")
	}
	if err := db.WithContext(ctx).Exec("VACUUM INTO ?", path).Error; err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	return nil
}
