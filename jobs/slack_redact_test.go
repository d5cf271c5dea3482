package jobs_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/automations-dev/automations/jobs"
	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/redact"
)

// A Slack API that echoes the bot token (in its error code, a header and
// base64 in the body) leaves no trace of it in the stored attempt or the
// delivery's last error.
func TestSlackAttemptIsStoredWithoutTheEchoedBotToken(t *testing.T) {
	f := newSlackFixture(t)
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		w.Header().Set("X-Echo", r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": token, "echo": base64.StdEncoding.EncodeToString([]byte("Bearer " + token))})
	}))
	t.Cleanup(echo.Close)
	f.action.APIURL = echo.URL
	r := jobs.NewRunner(f.db, map[string]jobs.Action{models.ActionSlack: f.action}, jobs.RunnerConfig{Concurrency: 1}, quietLog())
	var attempts []models.DeliveryAttempt
	runUntil(t, f.db, []*jobs.Runner{r}, func() bool {
		attempts = nil
		f.db.Where("delivery_id = ?", f.delivery.ID).Find(&attempts)
		return len(attempts) > 0
	})
	var d models.Delivery
	if err := f.db.First(&d, f.delivery.ID).Error; err != nil {
		t.Fatal(err)
	}
	a := attempts[0]
	stored := strings.Join([]string{a.RequestURL, a.RequestHeaders, a.RequestBody, a.ResponseHeaders, a.ResponseBody, a.Error, d.LastError}, "\n")
	for _, form := range redact.Forms(f.fake.BotToken) {
		if strings.Contains(stored, form) {
			t.Errorf("the stored attempt holds the bot token as %q:\n%s", form, stored)
		}
	}
	if !strings.Contains(a.ResponseHeaders, "X-Echo: Bearer "+redact.Marker) || a.Error != "Slack answered "+redact.Marker {
		t.Errorf("want the echo kept with the token redacted, got headers %q, error %q", a.ResponseHeaders, a.Error)
	}
}
