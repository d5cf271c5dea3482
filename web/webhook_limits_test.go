package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/web/webtest"
)

// Limits are set on the webhook form and through the API: a bad value is
// refused beside its field with the input kept, a good one is saved, and
// the API reads them back (default 10 concurrent, no per-minute limit).
func TestWebhookLimitsFromFormAndAPI(t *testing.T) {
	app := webtest.Start(t, webtest.WithoutWorker(), webtest.WithAllowedTargets("127.0.0.1"))
	admin := app.User(t, "admin@example.com", false)
	key := app.APIKey(t, admin)
	team, err := models.CreateTeam(context.Background(), app.DB, "ml", admin)
	if err != nil {
		t.Fatal(err)
	}
	session := app.SignInHTTP(t, "admin@example.com")

	status, body := session.PostForm(t, "/teams/ml/webhooks", url.Values{"name": {"ci"}, "url": {"http://127.0.0.1:9/x"}, "max_concurrent": {"many"}, "max_per_minute": {"30"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, "must be a whole number from 1 to 1000") || !strings.Contains(body, `value="30"`) {
		t.Fatalf("bad max_concurrent: %d, want 422 with the message and the input kept", status)
	}
	status, _ = session.PostForm(t, "/teams/ml/webhooks", url.Values{"name": {"ci"}, "url": {"http://127.0.0.1:9/x"}, "max_concurrent": {"4"}, "max_per_minute": {"30"}})
	if status != http.StatusSeeOther {
		t.Fatalf("create with limits: %d", status)
	}
	w, err := models.WebhookByName(context.Background(), app.DB, team.ID, "ci")
	if err != nil || w.MaxConcurrent != 4 || w.MaxPerMinute != 30 {
		t.Fatalf("saved %+v (%v), want 4 and 30", w, err)
	}
	if status, body := session.Get(t, "/teams/ml/webhooks/ci/edit"); status != http.StatusOK || !strings.Contains(body, `value="4"`) {
		t.Errorf("the edit form (%d) does not show the saved limit", status)
	}

	status, out := app.API(t, key, "POST", "/api/v1/teams/ml/webhooks", map[string]any{"name": "plain", "url": "http://127.0.0.1:9/y"})
	if status != http.StatusCreated || out["max_concurrent"] != float64(10) || out["max_per_minute"] != float64(0) {
		t.Fatalf("API default limits: %d %v", status, out)
	}
	status, out = app.API(t, key, "PATCH", "/api/v1/teams/ml/webhooks/plain", map[string]any{"max_per_minute": -1})
	if status != http.StatusUnprocessableEntity || out["field"] != "max_per_minute" {
		t.Fatalf("negative max_per_minute: %d %v", status, out)
	}
	status, out = app.API(t, key, "PATCH", "/api/v1/teams/ml/webhooks/plain", map[string]any{"max_per_minute": 60})
	if status != http.StatusOK || out["max_per_minute"] != float64(60) || out["max_concurrent"] != float64(10) {
		t.Fatalf("PATCH max_per_minute: %d %v", status, out)
	}
}
