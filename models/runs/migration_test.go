package runs_test

import (
	"context"
	"testing"

	"github.com/automations-dev/automations/migrations"
	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/runcond"
	"github.com/automations-dev/automations/models/runs"
)

// Migration 00016 goes down (dropping run events, and the migrations after
// it) and up again, and the
// artifact automations and deliveries it widened keep their rows.
func TestRunsMigrationDownAndUpKeepsArtifactRows(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.automation(t, "state", runcond.RunState, runcond.Config{States: []string{"running"}})
	f.run(t, "r1")
	art, err := models.CreateAutomation(ctx, f.db, models.AutomationSpec{
		Name: "artifact", Enabled: true, Scope: models.ScopeProject, ProjectID: &f.project.ID,
		EventType: models.EventCreateArtifact, ActionType: models.ActionWebhook, TeamID: f.team.ID, WebhookID: &f.webhook.ID,
		Payload: `{"v": "${artifact_version_string}"}`, PayloadContext: f.webhook.PayloadContext(models.EventCreateArtifact),
	}, f.user)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := models.LogArtifact(ctx, f.db, f.team, f.project, models.NewArtifact{Name: "data", Type: "dataset"}, f.user); err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := f.db.DB()
	if err := migrations.To(ctx, sqlDB, models.Dialect(f.db), 15); err != nil {
		t.Fatal(err)
	}
	// Back up to the newest schema: later migrations build on 00016.
	if _, err := migrations.Up(ctx, sqlDB, models.Dialect(f.db)); err != nil {
		t.Fatal(err)
	}
	var n int64
	f.db.Table("deliveries").Where("automation_id = ?", art.ID).Count(&n)
	if n != 1 {
		t.Fatalf("the artifact automation has %d deliveries after down and up, want 1", n)
	}
	// Run events work again after the round trip.
	f.automation(t, "state again", runcond.RunState, runcond.Config{States: []string{"running"}})
	s := f.run(t, "r2")
	if _, err := runs.SetState(ctx, f.db, f.env, s, runcond.StateFinished, f.user); err != nil {
		t.Fatal(err)
	}
}
