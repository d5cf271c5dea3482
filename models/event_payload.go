package models

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models/payload"
)

// EventPayloadVars returns the variables of event id for rendering a
// payload (automation_name unset), reading only the event's payload
// column. The worker reads each event once, on its first delivery; a model
// load through gorm (EventByID) cost it several times more CPU than the
// query, a noticeable share of a delivery at small fan-outs.
func EventPayloadVars(ctx context.Context, db *gorm.DB, id int64) (payload.Vars, error) {
	var raw string
	err := db.WithContext(ctx).Raw(`SELECT payload FROM events WHERE id = ?`, id).Row().Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return payload.Vars{}, fmt.Errorf("event %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return payload.Vars{}, fmt.Errorf("load event %d: %w", id, err)
	}
	ev := Event{ID: id}
	if err := json.Unmarshal([]byte(raw), &ev.Vars); err != nil {
		return payload.Vars{}, fmt.Errorf("decode event %d: %w", id, err)
	}
	return ev.PayloadVars(""), nil
}
