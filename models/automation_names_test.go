package models_test

import (
	"context"
	"testing"
	"time"

	"github.com/automations-dev/automations/migrations"
	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/modeltest"
)

// Migration 00020 renames automation names that already clash in their
// project or registry (all but the oldest get "-<id>") before the unique
// indexes, which then refuse a new clash; other scopes keep their names.
func TestAutomationNamesMigrationRenamesClashes(t *testing.T) {
	ctx := context.Background()
	db := modeltest.Open(t)
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	if err := migrations.To(ctx, sqlDB, models.Dialect(db), 11); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	exec := func(q string, args ...any) {
		t.Helper()
		if err := db.Exec(q, args...).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO users (id, email, username, password_hash, created_at, updated_at) VALUES (1, 'a@example.com', 'a', 'x', ?, ?)`, now, now)
	exec(`INSERT INTO teams (id, name, created_at) VALUES (1, 'ml', ?)`, now)
	exec(`INSERT INTO projects (id, team_id, name, created_at) VALUES (1, 1, 'p', ?), (2, 1, 'q', ?)`, now, now)
	exec(`INSERT INTO registries (id, name, created_at) VALUES (1, 'models', ?)`, now)
	auto := `INSERT INTO automations (id, name, scope_type, project_id, registry_id, event_type, action_type, team_id, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 'CREATE_ARTIFACT', 'webhook', 1, 1, ?, ?)`
	for _, a := range []struct {
		id                int64
		name, scope       string
		project, registry any
	}{
		{1, "deploy", "project", 1, nil}, {2, "Deploy", "project", 1, nil}, {3, "deploy", "project", 2, nil},
		{4, "notify", "registry", nil, 1}, {5, "NOTIFY", "registry", nil, 1},
	} {
		exec(auto, a.id, a.name, a.scope, a.project, a.registry, now, now)
	}
	if err := migrations.To(ctx, sqlDB, models.Dialect(db), 20); err != nil {
		t.Fatalf("migrate to 20: %v", err)
	}
	var rows []struct {
		ID   int64
		Name string
	}
	if err := db.Table("automations").Select("id, name").Order("id").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	want := map[int64]string{1: "deploy", 2: "Deploy-2", 3: "deploy", 4: "notify", 5: "NOTIFY-5"}
	for _, r := range rows {
		if want[r.ID] != r.Name {
			t.Errorf("automation %d is %q, want %q", r.ID, r.Name, want[r.ID])
		}
	}
	if err := db.Exec(auto, 6, "DEPLOY", "project", 1, nil, now, now).Error; err == nil {
		t.Error("the index let a third deploy into project p")
	}
}
