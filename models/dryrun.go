package models

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// EventScan asks MatchingEvents for the events an automation matches.
type EventScan struct {
	// Since bounds the scan to events at or after it; zero: all of them.
	Since time.Time
	// Keep is how many of the newest matches to return decoded.
	Keep int
	// Count counts every match; false stops once Keep were found.
	Count bool
}

// MatchingEvents reads the stored events of a's scope and event type,
// newest first, and decides each with Explain, as a live event would be
// decided (a is treated as enabled: a dry run asks what it would do once
// on). It returns how many matched (all of them when scan.Count, else at
// most Keep) and the newest Keep of them with their snapshots.
//
// It reads through events_project_type_time / events_registry_type_time,
// and only the few columns matching needs (events.alias rather than the
// JSON snapshot), so 100,000 events cost one index range scan.
func MatchingEvents(ctx context.Context, db *gorm.DB, a *Automation, scan EventScan) (int, []Event, error) {
	on := *a
	on.Enabled = true
	col, scopeID := "project_id", a.ProjectID
	if a.ScopeType != ScopeProject {
		col, scopeID = "registry_id", a.RegistryID
	}
	if scopeID == nil {
		return 0, nil, fmt.Errorf("matching events: automation has no scope")
	}
	q := "SELECT id, collection_id, version_id, alias FROM events WHERE " + col + " = ? AND type = ?"
	args := []any{*scopeID, a.EventType}
	if !scan.Since.IsZero() {
		q += " AND created_at >= ?"
		args = append(args, scan.Since.UTC())
	}
	rows, err := db.WithContext(ctx).Raw(q+" ORDER BY created_at DESC, id DESC", args...).Rows()
	if err != nil {
		return 0, nil, fmt.Errorf("matching events: %w", err)
	}
	defer rows.Close()
	t := MatchTarget{Type: a.EventType}
	if a.ScopeType == ScopeProject {
		t.ProjectID = scopeID
	} else {
		t.RegistryID = scopeID
	}
	count := 0
	var kept []int64
	for rows.Next() {
		var id, versionID int64
		if err := rows.Scan(&id, &t.CollectionID, &versionID, &t.Alias); err != nil {
			return 0, nil, fmt.Errorf("matching events: %w", err)
		}
		if _, ok := on.Explain(t); !ok {
			continue
		}
		count++
		if len(kept) < scan.Keep {
			kept = append(kept, id)
		} else if !scan.Count {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return 0, nil, fmt.Errorf("matching events: %w", err)
	}
	rows.Close()
	evs, err := EventsByID(ctx, db, kept)
	return count, evs, err
}

// EventsByID loads events with their snapshots decoded, in the order of ids.
func EventsByID(ctx context.Context, db *gorm.DB, ids []int64) ([]Event, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var found []Event
	if err := db.WithContext(ctx).Where("id IN ?", ids).Find(&found).Error; err != nil {
		return nil, fmt.Errorf("load events: %w", err)
	}
	byID := make(map[int64]*Event, len(found))
	for i := range found {
		if err := json.Unmarshal([]byte(found[i].Payload), &found[i].Vars); err != nil {
			return nil, fmt.Errorf("decode event %d: %w", found[i].ID, err)
		}
		byID[found[i].ID] = &found[i]
	}
	out := make([]Event, 0, len(ids))
	for _, id := range ids {
		if ev := byID[id]; ev != nil {
			out = append(out, *ev)
		}
	}
	return out, nil
}
