package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/web/webtest"
)

// storedRows counts the rows a refused request must not have changed.
func storedRows(t *testing.T, app *webtest.App) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, table := range []string{"automations", "api_keys", "team_members", "registry_members", "team_secrets", "teams", "projects", "users", "webhooks", "queues", "artifact_versions"} {
		var n int64
		if err := app.DB.Table(table).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

// A NUL byte or invalid UTF-8 in any text field (JSON string or key, form
// value, query or path parameter) is refused with 422 and the field's name
// on both databases, and nothing is stored or changed.
func TestUnstorableTextIsRefusedWithItsField(t *testing.T) {
	f := newAutomationFixture(t, func(int) int { return http.StatusOK }, webtest.WithoutWorker())
	app := f.app
	ctx := context.Background()
	team, err := models.TeamByName(ctx, app.DB, "ml")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := models.UserByEmail(ctx, app.DB, "admin@example.com")
	if err != nil {
		t.Fatal(err)
	}
	q, err := models.CreateQueue(ctx, app.DB, team, "gpu", admin)
	if err != nil {
		t.Fatal(err)
	}
	item := &models.RunQueueItem{QueueID: q.ID, Job: "ml/mnist/train", JobVersion: "v0", DestinationProject: "ml/mnist"}
	if err := models.EnqueueRunItem(ctx, app.DB, item); err != nil {
		t.Fatal(err)
	}
	claimed := &models.RunQueueItem{QueueID: q.ID, Job: "ml/mnist/train", JobVersion: "v0", DestinationProject: "ml/mnist"}
	if err := models.EnqueueRunItem(ctx, app.DB, claimed); err != nil {
		t.Fatal(err)
	}
	// The first claim takes item; claimed is taken by agent-1 below.
	f.must(t, http.StatusOK, "POST", "/api/v1/teams/ml/queues/gpu/claim", map[string]any{"agent": "agent-0"})
	f.must(t, http.StatusOK, "POST", "/api/v1/teams/ml/queues/gpu/claim", map[string]any{"agent": "agent-1"})
	app.User(t, "bob@example.com", false)

	automation := func(edit func(map[string]any)) map[string]any {
		b := projectAutomation("nightly", "CREATE_ARTIFACT", `{"v": "${event_type}"}`)
		edit(b)
		return b
	}
	api := []struct {
		name, method, path string
		body               any
		field              string
	}{
		{"automation name", "POST", "/api/v1/automations", automation(func(b map[string]any) { b["name"] = "night\x00ly" }), "name"},
		{"automation description", "POST", "/api/v1/automations", automation(func(b map[string]any) { b["description"] = "a\x00b" }), "description"},
		{"automation payload", "POST", "/api/v1/automations", automation(func(b map[string]any) {
			b["action"].(map[string]any)["payload"] = `{"v": "a` + "\x00" + `"}`
		}), "action.payload"},
		{"raw invalid UTF-8 in the description", "POST", "/api/v1/automations",
			[]byte(`{"name": "n", "description": "caf` + "\xe9" + `", "enabled": true, "scope": {"type": "project", "project": "ml/mnist"}, "event": {"type": "CREATE_ARTIFACT"}, "action": {"type": "webhook", "team": "ml", "webhook": "ci", "payload": "{}"}}`),
			"description"},
		{"agent claim", "POST", "/api/v1/teams/ml/queues/gpu/claim", map[string]any{"agent": "gpu\x00box"}, "agent"},
		{"run item status message", "POST", fmt.Sprintf("/api/v1/run-queue-items/%d/status", claimed.ID),
			map[string]any{"state": "failed", "exit_code": 1, "message": "boom\x00", "agent": "agent-1"}, "message"},
		{"team member email", "POST", "/api/v1/teams/ml/members", map[string]any{"email": "bob@example.com\x00", "role": "member"}, "email"},
		{"registry name", "POST", "/api/v1/registries", map[string]any{"name": "reg\xff"}, "name"},
		{"secret name", "POST", "/api/v1/teams/ml/secrets", map[string]any{"name": "TOK\x00EN", "value": "v"}, "name"},
		{"secret value", "POST", "/api/v1/teams/ml/secrets", map[string]any{"name": "TOKEN2", "value": "v\x00"}, "value"},
		{"team name", "POST", "/api/v1/teams", map[string]any{"name": "a\x00"}, "name"},
		{"artifact metadata key", "POST", "/api/v1/projects/ml/mnist/artifacts",
			map[string]any{"name": "data", "type": "dataset", "metadata": map[string]any{"k\x00": 1}}, `metadata.k\0`},
		{"artifact aliases", "POST", "/api/v1/projects/ml/mnist/artifacts",
			map[string]any{"name": "data", "type": "dataset", "aliases": []string{"ok", "bad\x00"}}, "aliases[1]"},
		{"query parameter", "GET", "/api/v1/automations?project=ml%2Fmnist%00", nil, "project"},
		{"path parameter", "GET", "/api/v1/teams/ml%00/members", nil, "team"},
		{"path parameter, invalid UTF-8", "DELETE", "/api/v1/teams/ml/secrets/%FF", nil, "name"},
	}
	for _, c := range api {
		t.Run(c.name, func(t *testing.T) {
			before := storedRows(t, app)
			status, raw := app.APIRaw(t, f.key, c.method, c.path, c.body)
			var out map[string]string
			if err := json.Unmarshal(raw, &out); err != nil {
				t.Fatalf("status %d, body %s: %v", status, raw, err)
			}
			if status != http.StatusUnprocessableEntity || out["field"] != c.field || !strings.Contains(out["error"], c.field) {
				t.Fatalf("status %d %v, want 422 on field %q", status, out, c.field)
			}
			if after := storedRows(t, app); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Fatalf("stored rows changed: %v -> %v", before, after)
			}
		})
	}
	// Neither queue item changed: one still claimed by agent-0, the other
	// by agent-1 with no message.
	for id, agent := range map[int64]string{item.ID: "agent-0", claimed.ID: "agent-1"} {
		got, err := models.RunItemByID(ctx, app.DB, id)
		if err != nil || got.State != models.RunClaimed || got.Agent != agent || got.Message != "" {
			t.Fatalf("item %d after refused requests: %+v, %v", id, got, err)
		}
	}
	var secrets int64
	if err := app.DB.Table("team_secrets").Where("name LIKE ?", "TOK%").Count(&secrets).Error; err != nil || secrets != 0 {
		t.Fatalf("secrets named TOK*: %d, %v", secrets, err)
	}

	// Forms: a 422 page naming the field; the handler never ran.
	s := app.SignInHTTP(t, "admin@example.com")
	forms := []struct {
		name, path string
		form       url.Values
		field      string
	}{
		{"API key name", "/settings/api-keys", url.Values{"name": {"laptop\x00"}}, "name"},
		{"team member email", "/teams/ml/members", url.Values{"email": {"bob@example.com\xff"}, "role": {"member"}}, "email"},
		{"secret name", "/teams/ml/secrets", url.Values{"name": {"TOK\x00EN"}, "value": {"v"}}, "name"},
		{"team name", "/teams", url.Values{"name": {"a\x00b"}}, "name"},
		{"a field no handler reads", "/teams", url.Values{"name": {"fine"}, "extra\x00": {"x"}}, `extra\0`},
	}
	for _, c := range forms {
		t.Run("form "+c.name, func(t *testing.T) {
			before := storedRows(t, app)
			status, body := s.PostForm(t, c.path, c.form)
			if status != http.StatusUnprocessableEntity || !strings.Contains(body, c.field+" ") {
				t.Fatalf("status %d, want a 422 page naming %q:\n%s", status, c.field, body)
			}
			if after := storedRows(t, app); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Fatalf("stored rows changed: %v -> %v", before, after)
			}
		})
	}
	t.Run("page path parameter", func(t *testing.T) {
		if status, body := s.Get(t, "/teams/ml%FF"); status != http.StatusUnprocessableEntity || !strings.Contains(body, "team ") {
			t.Fatalf("status %d:\n%s", status, body)
		}
	})
	// The body stays readable for the handler: clean requests still work.
	f.must(t, http.StatusCreated, "POST", "/api/v1/automations", automation(func(b map[string]any) { b["description"] = "é ☃ \ufffd" }))
	if status, _ := s.PostForm(t, "/settings/api-keys", url.Values{"name": {"laptop ☃"}}); status != http.StatusCreated {
		t.Fatalf("clean API key form: %d", status)
	}
}
