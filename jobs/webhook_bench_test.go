package jobs_test

import (
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/automations-dev/automations/jobs"
	"github.com/automations-dev/automations/jobs/sender"
	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/modeltest"
	"github.com/automations-dev/automations/models/secretbox"
)

// BenchmarkWebhookPerform is the worker's send path for one attempt
// without the queue's writes: render the payload, sign and POST it to a
// loopback receiver, read the answer, and redact the attempt as the runner
// does before storing it. Same payload as the end-to-end benchmark (web/
// bench_e2e_test.go): 1.1 kB, a signing secret, a metadata value.
func BenchmarkWebhookPerform(b *testing.B) {
	ctx := context.Background()
	db := modeltest.Open(b)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	box, err := secretbox.Open(ctx, "", key)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { box.Close() })
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(rcv.Close)

	alice := modeltest.User(b, db, "alice@example.com", false)
	team := modeltest.Team(b, db, "ml", alice)
	project, err := models.CreateProject(ctx, db, team, "p", alice)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := models.CreateSecret(ctx, db, box, team.ID, "SIGNING", "bench-signing-secret", alice); err != nil {
		b.Fatal(err)
	}
	wh, err := models.CreateWebhook(ctx, db, team.ID, models.WebhookSpec{Name: "sink", URL: rcv.URL, SigningSecret: "SIGNING"}, alice)
	if err != nil {
		b.Fatal(err)
	}
	tpl := `{"seq": "${artifact_metadata.seq}", "version": "${artifact_version_string}", "pad": "` + strings.Repeat("x", 1024) + `"}`
	if _, err := models.CreateAutomation(ctx, db, models.AutomationSpec{
		Name: "a", Enabled: true, Scope: models.ScopeProject, ProjectID: &project.ID,
		EventType: models.EventCreateArtifact, ActionType: models.ActionWebhook, TeamID: team.ID,
		WebhookID: &wh.ID, Payload: tpl,
	}, alice); err != nil {
		b.Fatal(err)
	}
	if _, _, err := models.LogArtifact(ctx, db, team, project, models.NewArtifact{Name: "m", Type: "model", Metadata: []byte(`{"seq": 7}`)}, alice); err != nil {
		b.Fatal(err)
	}
	var d models.Delivery
	if err := db.Where("action_type = ?", models.ActionWebhook).First(&d).Error; err != nil {
		b.Fatalf("the delivery was not queued: %v", err)
	}
	var rev models.AutomationRevision
	if err := db.First(&rev, d.RevisionID).Error; err != nil {
		b.Fatalf("the delivery's revision: %v", err)
	}
	d.PayloadTemplate = rev.PayloadTemplate // as the runner's claim fills it in

	s, err := sender.New(sender.Config{AllowedTargets: []string{"127.0.0.1"}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	action := jobs.NewWebhookAction(db, box, s)
	perform := func() {
		out := action.Perform(ctx, &d)
		if out.Err != nil || out.Attempt.ResponseStatus == nil || *out.Attempt.ResponseStatus != http.StatusNoContent {
			b.Fatalf("Perform: %v", out.Err)
		}
		out.Attempt.Redact(out.Redactor)
		if !strings.Contains(out.Attempt.RequestBody, `"seq":7,`) {
			b.Fatalf("request body %q", out.Attempt.RequestBody)
		}
	}
	perform() // loads the event, webhook and template into the action's caches
	b.ReportAllocs()
	for b.Loop() {
		perform()
	}
}
