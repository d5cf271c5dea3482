package models

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// DeliveriesOfEvent lists the deliveries an event caused (deliveries_event),
// with their attempts, by automation.
func DeliveriesOfEvent(ctx context.Context, db *gorm.DB, eventID int64) ([]DeliveryWithAttempts, error) {
	var ds []Delivery
	if err := db.WithContext(ctx).Where("event_id = ?", eventID).Order("id").Find(&ds).Error; err != nil {
		return nil, fmt.Errorf("deliveries of event %d: %w", eventID, err)
	}
	return withAttempts(ctx, db, ds)
}

// RunItemsOfEvent lists the run-queue items launch deliveries of an event
// created. (Once runs exist, each item's run, and the events that run
// caused, hang off the item: the lineage page follows them from here.)
func RunItemsOfEvent(ctx context.Context, db *gorm.DB, eventID int64) ([]RunItemWithQueue, error) {
	var out []RunItemWithQueue
	err := db.WithContext(ctx).Table("run_queue_items AS i").Select("i.*, q.name AS queue_name").
		Joins("JOIN queues q ON q.id = i.queue_id").
		Where("i.event_id = ?", eventID).Order("i.id").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("run items of event %d: %w", eventID, err)
	}
	return out, nil
}

// EventsOfVersion lists the newest events about an artifact version
// (its creation, aliases, links), for the version page's links to lineage.
func EventsOfVersion(ctx context.Context, db *gorm.DB, versionID int64, limit int) ([]Event, error) {
	var ids []int64
	if err := db.WithContext(ctx).Model(&Event{}).Where("version_id = ?", versionID).Order("id DESC").Limit(limit).Pluck("id", &ids).Error; err != nil {
		return nil, fmt.Errorf("events of version %d: %w", versionID, err)
	}
	return EventsByID(ctx, db, ids)
}
