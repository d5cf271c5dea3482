package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/automations-dev/automations/migrations"
	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/modeltest"
)

func wantCaseConflict(t *testing.T, what string, err error, field string) {
	t.Helper()
	var ce *models.ConflictError
	if !errors.As(err, &ce) || ce.Field != field || !strings.Contains(ce.Message, "regardless of case") {
		t.Fatalf("%s: %v, want a conflict on %s saying names are unique regardless of case", what, err, field)
	}
}

// Teams, registries, projects (per team) and collections (per project or
// registry) refuse a name that differs from an existing one only in case;
// the same name elsewhere is fine.
func TestNamesAreUniqueRegardlessOfCase(t *testing.T) {
	ctx := context.Background()
	db := modeltest.Open(t)
	u := modeltest.User(t, db, "a@example.com", true)
	team := modeltest.Team(t, db, "ml", u)
	other := modeltest.Team(t, db, "vision", u)

	_, err := models.CreateTeam(ctx, db, "ML", u)
	wantCaseConflict(t, "team ML", err, "name")
	reg, err := models.CreateRegistry(ctx, db, "Models", "", u)
	if err != nil {
		t.Fatal(err)
	}
	_, err = models.CreateRegistry(ctx, db, "models", "", u)
	wantCaseConflict(t, "registry models", err, "name")

	p, err := models.CreateProject(ctx, db, team, "Proj", u)
	if err != nil {
		t.Fatal(err)
	}
	_, err = models.CreateProject(ctx, db, team, "PROJ", u)
	wantCaseConflict(t, "project PROJ", err, "name")
	if _, err := models.CreateProject(ctx, db, other, "proj", u); err != nil {
		t.Fatalf("the same project name in another team: %v", err)
	}

	v, _, err := models.LogArtifact(ctx, db, team, p, models.NewArtifact{Name: "Data", Type: "dataset"}, u)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = models.LogArtifact(ctx, db, team, p, models.NewArtifact{Name: "data", Type: "dataset"}, u)
	wantCaseConflict(t, "collection data", err, "name")
	// The exact name still logs a new version.
	if _, _, err := models.LogArtifact(ctx, db, team, p, models.NewArtifact{Name: "Data", Type: "dataset"}, u); err != nil {
		t.Fatalf("log Data again: %v", err)
	}
	if _, err := models.LinkArtifact(ctx, db, v.ID, reg, models.NewLink{Collection: "Best"}, u, "org"); err != nil {
		t.Fatal(err)
	}
	_, err = models.LinkArtifact(ctx, db, v.ID, reg, models.NewLink{Collection: "BEST"}, u, "org")
	wantCaseConflict(t, "registry collection BEST", err, "collection")
	// A registry collection may share a project collection's name.
	if _, err := models.LinkArtifact(ctx, db, v.ID, reg, models.NewLink{Collection: "data"}, u, "org"); err != nil {
		t.Fatalf("link into registry collection data: %v", err)
	}
	var teams int64
	if err := db.Model(&models.Team{}).Count(&teams).Error; err != nil || teams != 2 {
		t.Fatalf("teams stored: %d, %v", teams, err)
	}
}

// Migration 00010 renames names that already clash in case (all but the
// oldest get "-<id>") before it adds the unique indexes, so it cannot fail
// on an existing database with such names.
func TestCaseInsensitiveNamesMigrationRenamesClashes(t *testing.T) {
	ctx := context.Background()
	db := modeltest.Open(t)
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	if err := migrations.To(ctx, sqlDB, models.Dialect(db), 9); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	exec := func(q string, args ...any) {
		t.Helper()
		if err := db.Exec(q, args...).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO teams (id, name, created_at) VALUES (1, 'ml', ?), (2, 'ML', ?), (3, 'Ml', ?), (4, 'cv', ?)`, now, now, now, now)
	exec(`INSERT INTO registries (id, name, created_at) VALUES (1, 'Models', ?), (2, 'models', ?)`, now, now)
	exec(`INSERT INTO projects (id, team_id, name, created_at) VALUES (1, 1, 'p', ?), (2, 1, 'P', ?), (3, 4, 'P', ?)`, now, now, now)
	exec(`INSERT INTO artifact_collections (id, project_id, registry_id, name, type, created_at) VALUES
		(1, 1, NULL, 'data', 'dataset', ?), (2, 1, NULL, 'DATA', 'dataset', ?), (3, 2, NULL, 'Data', 'dataset', ?),
		(4, NULL, 1, 'data', 'model', ?), (5, NULL, 1, 'Data', 'model', ?), (6, NULL, 2, 'DATA', 'model', ?)`,
		now, now, now, now, now, now)

	if err := migrations.To(ctx, sqlDB, models.Dialect(db), 10); err != nil {
		t.Fatalf("migrate to 10: %v", err)
	}
	names := func(table string) map[int64]string {
		t.Helper()
		var rows []struct {
			ID   int64
			Name string
		}
		if err := db.Table(table).Select("id, name").Order("id").Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		out := map[int64]string{}
		for _, r := range rows {
			out[r.ID] = r.Name
		}
		return out
	}
	for table, want := range map[string]map[int64]string{
		"teams":                {1: "ml", 2: "ML-2", 3: "Ml-3", 4: "cv"},
		"registries":           {1: "Models", 2: "models-2"},
		"projects":             {1: "p", 2: "P-2", 3: "P"},
		"artifact_collections": {1: "data", 2: "DATA-2", 3: "Data", 4: "data", 5: "Data-5", 6: "DATA"},
	} {
		got := names(table)
		for id, name := range want {
			if got[id] != name {
				t.Errorf("%s %d is %q after the migration, want %q", table, id, got[id], name)
			}
		}
	}
	// The index now refuses what the rename cleaned up.
	if err := db.Exec(`INSERT INTO teams (id, name, created_at) VALUES (5, 'CV', ?)`, now).Error; err == nil {
		t.Fatal("team CV inserted beside cv")
	}
}
