package models_test

import (
	"context"
	"testing"
	"time"

	"github.com/automations-dev/automations/migrations"
	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/modeltest"
)

// Migration 00007 moved the payload template and action configuration
// from every delivery into automation revisions. Deliveries queued under
// the old schema must keep exactly what they were queued with: an edited
// automation's old template, a deleted automation's template.
func TestRevisionsMigrationKeepsWhatDeliveriesWereQueuedWith(t *testing.T) {
	ctx := context.Background()
	db := modeltest.Open(t)
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	dialect := models.Dialect(db)
	if err := migrations.To(ctx, sqlDB, dialect, 6); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	exec := func(q string, args ...any) {
		t.Helper()
		if err := db.Exec(q, args...).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// Rows written as the schema of version 6 has them (later columns absent).
	alice, team := struct{ ID int64 }{7}, struct{ ID int64 }{3}
	exec(`INSERT INTO users (id, email, username, password_hash, created_at, updated_at) VALUES (?, 'alice@example.com', 'alice', 'x', ?, ?)`, alice.ID, now, now)
	exec(`INSERT INTO teams (id, name, created_at) VALUES (?, 'ml', ?)`, team.ID, now)
	exec(`INSERT INTO automations (id, name, scope_type, project_id, event_type, action_type, team_id, payload, action_config, created_by, created_at, updated_at)
VALUES (41, 'edited', 'project', 1, 'CREATE_ARTIFACT', 'webhook', ?, '{"v": "current"}', '{}', ?, ?, ?)`, team.ID, alice.ID, now, now)
	delivery := func(uid string, automationID any, template, config string) {
		exec(`INSERT INTO deliveries (uid, event_id, automation_id, automation_name, action_type, team_id, payload_template, action_config, state, next_attempt_at, created_at, updated_at)
VALUES (?, 1, ?, 'a', 'webhook', ?, ?, ?, 'queued', ?, ?, ?)`, uid, automationID, team.ID, template, config, now, now, now)
	}
	delivery("dlv_old", 41, `{"v": "old"}`, "{}")
	delivery("dlv_current", 41, `{"v": "current"}`, "{}")
	delivery("dlv_deleted", nil, `{"v": "deleted"}`, `{"queue": "q"}`)

	if err := migrations.To(ctx, sqlDB, dialect, 7); err != nil {
		t.Fatal(err)
	}
	revisionOf := func(uid string) models.AutomationRevision {
		t.Helper()
		var d models.Delivery
		if err := db.First(&d, "uid = ?", uid).Error; err != nil {
			t.Fatalf("delivery %s: %v", uid, err)
		}
		var rev models.AutomationRevision
		if err := db.First(&rev, d.RevisionID).Error; err != nil {
			t.Fatalf("revision of delivery %s: %v", uid, err)
		}
		return rev
	}
	for uid, want := range map[string]string{"dlv_old": `{"v": "old"}`, "dlv_current": `{"v": "current"}`, "dlv_deleted": `{"v": "deleted"}`} {
		if got := revisionOf(uid).PayloadTemplate; got != want {
			t.Errorf("delivery %s after the migration sends %s, want %s", uid, got, want)
		}
	}
	if got := revisionOf("dlv_deleted").ActionConfig; got != `{"queue": "q"}` {
		t.Errorf("the deleted automation's delivery lost its action config: %s", got)
	}
	a, err := models.AutomationByID(ctx, db, 41)
	if err != nil || a.RevisionID == nil {
		t.Fatalf("automation after the migration: %+v, %v", a, err)
	}
	var current models.AutomationRevision
	if err := db.First(&current, *a.RevisionID).Error; err != nil || current.PayloadTemplate != `{"v": "current"}` {
		t.Fatalf("the automation's current revision %+v, %v", current, err)
	}
	// The claim (run on the current schema, as a worker does) hands the
	// worker the old template.
	if _, err := models.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	claimed, err := models.ClaimDue(ctx, db, "w", 10, time.Minute)
	if err != nil || len(claimed) != 3 {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	for _, d := range claimed {
		if d.UID == "dlv_old" && d.PayloadTemplate != `{"v": "old"}` {
			t.Errorf("claimed dlv_old with template %s", d.PayloadTemplate)
		}
	}
}
