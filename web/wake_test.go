package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/modeltest"
)

// Requests that commit events with deliveries for a claim wake the
// delivery runner once they are done (this server has no in-process worker
// to hand them to); events matching no automation, reads and refused
// changes do not.
func TestEventWritingRequestsWakeTheRunner(t *testing.T) {
	db := modeltest.New(t)
	ctx := context.Background()
	srv, err := New(Config{OrgName: "org", DatabaseURL: db.URL, DataDir: db.DataDir}, Keys{Session: make([]byte, 32), Encryption: make([]byte, 32)},
		db.DB, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var wakes atomic.Int64
	srv.SetWake(func() { wakes.Add(1) })
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)

	u := modeltest.User(t, db.DB, "ada@example.com", true)
	team := modeltest.Team(t, db.DB, "ml", u)
	for _, p := range []string{"vision", "quiet"} {
		if _, err := models.CreateProject(ctx, db.DB, team, p, u); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := models.CreateRegistry(ctx, db.DB, "models", "", u); err != nil {
		t.Fatal(err)
	}
	key, _, err := models.CreateAPIKey(ctx, db.DB, u.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	automation := func(event, scope string) string {
		return `{"name": "` + event + `", "scope": ` + scope + `, "event": {"type": "` + event + `", "alias_regex": ".*"},
			"action": {"type": "webhook", "team": "ml", "webhook": "ci", "payload": "{}"}}`
	}
	vision, registry := `{"type": "project", "project": "ml/vision"}`, `{"type": "registry", "registry": "models"}`
	steps := []struct {
		method, path, body string
		wantStatus         int
		wantWakes          int64
	}{
		{"POST", "/api/v1/teams/ml/webhooks", `{"name": "ci", "url": "https://hooks.example.com/ci"}`, 201, 0},
		{"POST", "/api/v1/automations", automation("CREATE_ARTIFACT", vision), 201, 0},
		{"POST", "/api/v1/automations", automation("ADD_ARTIFACT_ALIAS", vision), 201, 0},
		{"POST", "/api/v1/automations", automation("LINK_ARTIFACT", registry), 201, 0},
		{"POST", "/api/v1/projects/ml/quiet/artifacts", `{"name": "bert", "type": "model"}`, 201, 0}, // matches nothing
		{"POST", "/api/v1/projects/ml/vision/artifacts", `{"name": "resnet", "type": "model"}`, 201, 1},
		{"POST", "/api/v1/projects/ml/vision/artifacts", `{"name": "resnet", "type": "model", "metadata": [1]}`, 422, 1},
		{"GET", "/api/v1/projects/ml/vision/artifacts", ``, 200, 1},
		{"POST", "/api/v1/artifacts/2/aliases", `{"alias": "prod"}`, 201, 2},
		{"POST", "/api/v1/artifacts/2/aliases", `{"alias": "prod"}`, 200, 2}, // already held: no event
		{"POST", "/api/v1/artifacts/2/links", `{"registry": "models"}`, 201, 3},
	}
	for _, s := range steps {
		req, err := http.NewRequest(s.method, ts.URL+s.path, strings.NewReader(s.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != s.wantStatus || wakes.Load() != s.wantWakes {
			t.Fatalf("%s %s: status %d, wakes %d; want %d, %d (%s)", s.method, s.path, resp.StatusCode, wakes.Load(), s.wantStatus, s.wantWakes, answer)
		}
	}
}
