package models_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/automations-dev/automations/models"
)

const botToken = "xoxb-1234-5678-secret"

func (f *secretsFixture) slack(t *testing.T, workspace, channelID, channel string) *models.SlackIntegration {
	t.Helper()
	s, err := models.CreateSlackIntegration(context.Background(), f.db, f.box, f.team.ID, workspace, "Workspace "+workspace, channelID, channel, botToken+"-"+workspace, f.admin)
	if err != nil {
		t.Fatalf("create slack integration #%s: %v", channel, err)
	}
	return s
}

func TestSlackIntegrationStoresTheTokenSealed(t *testing.T) {
	f := newSecretsFixture(t)
	ctx := context.Background()
	s := f.slack(t, "T1", "C1", "#alerts")
	if s.ChannelName != "alerts" || s.CreatedBy != f.admin.Email || s.WorkspaceName != "Workspace T1" {
		t.Fatalf("integration = %+v", s)
	}
	var raw []byte
	if err := f.db.Table("slack_integrations").Select("bot_token").Where("id = ?", s.ID).Row().Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if len(raw) == 0 || bytes.Contains(raw, []byte("xoxb")) {
		t.Fatalf("bot_token column holds %q, want sealed bytes", raw)
	}
	got, err := models.SlackBotToken(ctx, f.db, f.box, s.ID)
	if err != nil || got != botToken+"-T1" {
		t.Fatalf("SlackBotToken = %q, %v", got, err)
	}
	if _, err := models.SlackBotToken(ctx, f.db, f.box, s.ID+100); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("token of a missing integration: %v, want ErrNotFound", err)
	}
	loaded, err := models.SlackIntegrationByID(ctx, f.db, s.ID)
	if err != nil || loaded.ChannelID != "C1" || loaded.TeamID != f.team.ID || loaded.CreatedBy != f.admin.Email {
		t.Fatalf("SlackIntegrationByID = %+v, %v", loaded, err)
	}
}

func TestSlackIntegrationRefusesADuplicateChannelAndBadInput(t *testing.T) {
	f := newSecretsFixture(t)
	ctx := context.Background()
	f.slack(t, "T1", "C1", "alerts")
	_, err := models.CreateSlackIntegration(ctx, f.db, f.box, f.team.ID, "T1", "W", "C1", "alerts", botToken, f.admin)
	var ce *models.ConflictError
	if !errors.As(err, &ce) || ce.Field != "channel" || !strings.Contains(ce.Message, "#alerts is already connected") {
		t.Fatalf("duplicate channel: %v", err)
	}
	for _, tc := range []struct{ workspace, channelID, channel, token, field string }{
		{"", "C2", "x", botToken, "workspace"},
		{"T1", "", "x", botToken, "channel"},
		{"T1", "C2", " ", botToken, "channel"},
		{"T1", "C2", "x", "", "workspace"},
	} {
		_, err := models.CreateSlackIntegration(ctx, f.db, f.box, f.team.ID, tc.workspace, "W", tc.channelID, tc.channel, tc.token, f.admin)
		wantField(t, err, tc.field, "")
	}
	all, err := models.SlackIntegrationsOf(ctx, f.db, f.team.ID)
	if err != nil || len(all) != 1 {
		t.Fatalf("integrations after refusals: %v, %v", all, err)
	}
}

func TestSlackWorkspacesOfListsEachWorkspaceOnce(t *testing.T) {
	f := newSecretsFixture(t)
	ctx := context.Background()
	f.slack(t, "T1", "C1", "alerts")
	newest := f.slack(t, "T1", "C2", "builds")
	other := f.slack(t, "T2", "C3", "general")
	ws, err := models.SlackWorkspacesOf(ctx, f.db, f.team.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []models.SlackWorkspace{{ID: "T1", Name: "Workspace T1", TokenFrom: newest.ID}, {ID: "T2", Name: "Workspace T2", TokenFrom: other.ID}}
	if fmt.Sprint(ws) != fmt.Sprint(want) {
		t.Fatalf("workspaces = %v, want %v", ws, want)
	}
	if _, err := models.SlackWorkspaceOf(ctx, f.db, f.team.ID, "T9"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("unknown workspace: %v", err)
	}
}

func TestDeleteSlackIntegrationRefusesWhileAnAutomationUsesIt(t *testing.T) {
	f := newSecretsFixture(t)
	ctx := context.Background()
	used := f.slack(t, "T1", "C1", "alerts")
	free := f.slack(t, "T1", "C2", "spare")
	project, err := models.CreateProject(ctx, f.db, f.team, "vision", f.admin)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"notify on new data", "notify again"} {
		_, err := models.CreateAutomation(ctx, f.db, models.AutomationSpec{
			Name: name, Enabled: true, Scope: models.ScopeProject, ProjectID: &project.ID,
			EventType: models.EventCreateArtifact, ActionType: models.ActionSlack, TeamID: f.team.ID,
			ActionConfig: fmt.Sprintf(`{"integration_id": %d, "channel": "alerts"}`, used.ID),
		}, f.admin)
		if err != nil {
			t.Fatal(err)
		}
	}
	err = models.DeleteSlackIntegration(ctx, f.db, used.ID)
	var ce *models.ConflictError
	if !errors.As(err, &ce) || ce.Message != "#alerts is used by automations notify again and notify on new data; change or delete them first" {
		t.Fatalf("delete a used integration: %v", err)
	}
	if _, err := models.SlackIntegrationByID(ctx, f.db, used.ID); err != nil {
		t.Fatalf("the refused integration is gone: %v", err)
	}
	if err := models.DeleteSlackIntegration(ctx, f.db, free.ID); err != nil {
		t.Fatalf("delete an unused integration: %v", err)
	}
	if _, err := models.SlackIntegrationByID(ctx, f.db, free.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("deleted integration still loads: %v", err)
	}
	if err := models.DeleteSlackIntegration(ctx, f.db, free.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
}

func TestLockSlackIntegrationChecksTheTeam(t *testing.T) {
	f := newSecretsFixture(t)
	s := f.slack(t, "T1", "C1", "alerts")
	other := modelsTeam(t, f, "other")
	if got, err := models.LockSlackIntegration(f.db, f.team.ID, s.ID); err != nil || got.ChannelName != "alerts" {
		t.Fatalf("lock own integration: %+v, %v", got, err)
	}
	if _, err := models.LockSlackIntegration(f.db, other.ID, s.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("lock another team's integration: %v", err)
	}
}

func modelsTeam(t *testing.T, f *secretsFixture, name string) *models.Team {
	t.Helper()
	team, err := models.CreateTeam(context.Background(), f.db, name, f.bob)
	if err != nil {
		t.Fatal(err)
	}
	return team
}

func TestParseSlackActionConfig(t *testing.T) {
	for _, tc := range []struct {
		raw     string
		want    int64
		wantErr bool
	}{
		{`{"integration_id": 7, "channel": "alerts"}`, 7, false},
		{`{"integration_id": 0}`, 0, true},
		{`{}`, 0, true},
		{`not json`, 0, true},
	} {
		c, err := models.ParseSlackActionConfig(tc.raw)
		if (err != nil) != tc.wantErr || c.IntegrationID != tc.want {
			t.Errorf("ParseSlackActionConfig(%s) = %+v, %v", tc.raw, c, err)
		}
	}
}

// Slack messages link to the version's page, in a project or a registry.
func TestArtifactPagePath(t *testing.T) {
	f := newSecretsFixture(t)
	ctx := context.Background()
	project, err := models.CreateProject(ctx, f.db, f.team, "vision", f.admin)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := models.CreateRegistry(ctx, f.db, "models", "", f.admin)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, _, err := models.LogArtifact(ctx, f.db, f.team, project, models.NewArtifact{Name: "resnet", Type: "model"}, f.admin); err != nil {
			t.Fatal(err)
		}
	}
	v, _, err := models.LogArtifact(ctx, f.db, f.team, project, models.NewArtifact{Name: "resnet", Type: "model"}, f.admin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := models.LinkArtifact(ctx, f.db, v.ID, reg, models.NewLink{Collection: "classifier"}, f.admin, "org"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		kind string
		id   int64
		want string
	}{
		{models.ScopeKindProject, project.ID, "/projects/ml/vision/artifacts/resnet/v2"},
		{models.ScopeKindRegistry, reg.ID, "/registries/models/collections/classifier/v0"},
	} {
		evs, err := models.EventsOf(ctx, f.db, tc.kind, tc.id, 1)
		if err != nil || len(evs) != 1 {
			t.Fatalf("%s events: %v, %v", tc.kind, evs, err)
		}
		if got, err := models.ArtifactPagePath(ctx, f.db, &evs[0]); err != nil || got != tc.want {
			t.Errorf("%s event: path %q, %v; want %q", tc.kind, got, err, tc.want)
		}
	}
}
