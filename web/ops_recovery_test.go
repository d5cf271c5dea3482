package web_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/web"
	"github.com/automations-dev/automations/web/webtest"
)

const newSigningValue = "whsec_the_new_signing_value_42"

// runWorker runs a delivery worker of app until the returned stop is
// called (or the test ends). Each worker starts with empty caches, so one
// started after a database change sees it.
func runWorker(t *testing.T, app *webtest.App) (stop func()) {
	t.Helper()
	w, err := web.NewWorker(context.Background(), app.Config, app.Keys, app.DB,
		slog.New(slog.DiscardHandler), web.WithMetrics(app.Server.Metrics()))
	if err != nil {
		t.Fatalf("build worker: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var stopped atomic.Bool
	stop = func() {
		if stopped.Swap(true) {
			return
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
		_ = w.Close()
	}
	t.Cleanup(stop)
	return stop
}

// verifier is what a receiver in the README does: the Standard Webhooks
// library with one secret, and X-Wandb-Signature recomputed.
func verifies(t *testing.T, secret string, got received) bool {
	t.Helper()
	wh, err := standardwebhooks.NewWebhookRaw([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return wh.Verify(got.Body, got.Header) == nil
}

func wandbSignature(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// During a rotation's overlap a receiver verifies every delivery with the
// new secret and with the old one (webhook-signature carries both), and
// X-Wandb-Signature still comes from the old secret; once the overlap has
// ended only the new secret signs.
func TestSigningSecretRotationOverlap(t *testing.T) {
	f := newAutomationFixture(t, nil, webtest.WithoutWorker())
	f.must(t, http.StatusCreated, "POST", "/api/v1/teams/ml/secrets", map[string]any{"name": "SIGNING_NEW", "value": newSigningValue})
	f.must(t, http.StatusCreated, "POST", "/api/v1/automations", projectAutomation("notify", "CREATE_ARTIFACT", `{"v": "${artifact_version_string}"}`))

	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"secret": "NOPE"}, "secret"},
		{map[string]any{"secret": "SIGNING"}, "secret"}, // already the signing secret
		{map[string]any{"secret": "SIGNING_NEW", "overlap": "soon"}, "overlap"},
		{map[string]any{"secret": "SIGNING_NEW", "overlap": "-1h"}, "overlap"},
		{map[string]any{}, "secret"},
	} {
		status, out := f.app.API(t, f.key, "POST", "/api/v1/teams/ml/webhooks/ci/rotate-secret", c.body)
		if status != http.StatusUnprocessableEntity || out["field"] != c.field {
			t.Errorf("rotate %v: %d %v, want 422 on %s", c.body, status, out, c.field)
		}
	}
	before := time.Now()
	out := f.must(t, http.StatusOK, "POST", "/api/v1/teams/ml/webhooks/ci/rotate-secret", map[string]any{"secret": "SIGNING_NEW"})
	until, err := time.Parse(time.RFC3339, fmt.Sprint(out["previous_signing_until"]))
	if out["signing_secret"] != "SIGNING_NEW" || out["previous_signing_secret"] != "SIGNING" || err != nil ||
		until.Before(before.Add(24*time.Hour-time.Second)) || until.After(time.Now().Add(24*time.Hour)) {
		t.Fatalf("rotation answer %v: want SIGNING_NEW, SIGNING kept for the default 24h", out)
	}

	stop := runWorker(t, f.app)
	f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "m", "type": "model"})
	during := f.receiver.next(t)
	if !verifies(t, newSigningValue, during) || !verifies(t, signingValue, during) {
		t.Errorf("during the overlap webhook-signature %q must verify with the new and the old secret", during.Header.Get("webhook-signature"))
	}
	if n := len(strings.Fields(during.Header.Get("webhook-signature"))); n != 2 {
		t.Errorf("webhook-signature has %d signatures during the overlap, want 2", n)
	}
	if got := during.Header.Get("X-Wandb-Signature"); got != wandbSignature(signingValue, during.Body) {
		t.Errorf("X-Wandb-Signature %q is not the old secret's during the overlap", got)
	}
	stop()

	// The overlap ends: moved into the past rather than waited for.
	if err := f.app.DB.Exec(`UPDATE webhooks SET previous_signing_until = ? WHERE name = 'ci'`, time.Now().UTC().Add(-time.Minute)).Error; err != nil {
		t.Fatal(err)
	}
	stop = runWorker(t, f.app)
	f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "m", "type": "model"})
	after := f.receiver.next(t)
	if !verifies(t, newSigningValue, after) {
		t.Errorf("after the overlap webhook-signature %q does not verify with the new secret", after.Header.Get("webhook-signature"))
	}
	if verifies(t, signingValue, after) {
		t.Errorf("after the overlap the old secret still verifies %q", after.Header.Get("webhook-signature"))
	}
	if got := after.Header.Get("X-Wandb-Signature"); got != wandbSignature(newSigningValue, after.Body) {
		t.Errorf("X-Wandb-Signature %q is not the new secret's after the overlap", got)
	}
	if got := f.must(t, http.StatusOK, "GET", "/api/v1/teams/ml/webhooks/ci", nil); got["previous_signing_secret"] != nil {
		t.Errorf("the webhook still reports a rotation after the overlap: %v", got)
	}

	// A rotation with overlap 0 switches at once; the old secret is gone.
	// A fresh worker: a running one may use the webhook it read up to a
	// second ago (the worker's webhook cache).
	stop()
	f.must(t, http.StatusOK, "POST", "/api/v1/teams/ml/webhooks/ci/rotate-secret", map[string]any{"secret": "SIGNING", "overlap": "0s"})
	runWorker(t, f.app)
	f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "m", "type": "model"})
	switched := f.receiver.next(t)
	if !verifies(t, signingValue, switched) || verifies(t, newSigningValue, switched) {
		t.Errorf("overlap 0: webhook-signature %q should verify with SIGNING alone", switched.Header.Get("webhook-signature"))
	}
	var kinds []string
	if err := f.app.DB.Raw(`SELECT kind FROM audit_log WHERE target = 'ci' AND kind LIKE 'webhook.rotate%' ORDER BY id`).Scan(&kinds).Error; err != nil {
		t.Fatal(err)
	}
	if len(kinds) != 2 || kinds[0] != "webhook.rotate_secret" || kinds[1] != "webhook.rotate_secret" {
		t.Errorf("audit log kinds %v, want two webhook.rotate_secret", kinds)
	}
}

// After an outage, "Retry failed since" queues the failed deliveries
// again with their ids (the receiver sees the same webhook-id), only
// those that failed since the given time, for an automation and for a
// webhook.
func TestRetryFailedKeepsDeliveryIDs(t *testing.T) {
	var up atomic.Bool
	f := newAutomationFixture(t, func(int) int {
		if up.Load() {
			return http.StatusOK
		}
		return http.StatusBadGateway
	}, webtest.WithConfig(func(c *web.Config) { c.RetrySchedule = "10ms" }))
	a := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", projectAutomation("notify", "CREATE_ARTIFACT", `{"v": "${artifact_version_string}"}`))
	id := a["id"]
	for range 2 {
		f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "m", "type": "model"})
	}
	failed := f.deliveries(t, id, allIn("failed", 2))
	for range 4 { // two attempts each
		f.receiver.next(t)
	}
	path := fmt.Sprintf("/api/v1/automations/%v/retry-failed", id)

	for _, since := range []any{nil, "", "tomorrow", "-5m", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)} {
		status, out := f.app.API(t, f.key, "POST", path, map[string]any{"since": since})
		if status != http.StatusUnprocessableEntity || out["field"] != "since" {
			t.Errorf("since %v: %d %v, want 422 on since", since, status, out)
		}
	}
	// Failures before since are left alone.
	if got := f.must(t, http.StatusOK, "POST", path, map[string]any{"since": time.Now().UTC().Format(time.RFC3339Nano)}); got["queued"] != float64(0) {
		t.Errorf("since now queued %v, want 0: both failed before", got["queued"])
	}

	up.Store(true)
	got := f.must(t, http.StatusOK, "POST", path, map[string]any{"since": "1h"})
	if got["queued"] != float64(2) {
		t.Fatalf("retry-failed queued %v, want 2", got["queued"])
	}
	ids := map[string]bool{}
	for range 2 {
		ids[f.receiver.next(t).Header.Get("webhook-id")] = true
	}
	for _, d := range failed {
		if !ids[d["id"].(string)] {
			t.Errorf("delivery %v was not sent again with its id; the receiver saw %v", d["id"], ids)
		}
	}
	f.deliveries(t, id, allIn("succeeded", 2))
	if got := f.must(t, http.StatusOK, "POST", path, map[string]any{"since": "1h"}); got["queued"] != float64(0) {
		t.Errorf("a second retry queued %v, want 0: nothing is failed", got["queued"])
	}

	// The webhook's variant: another outage, recovered from Team Settings' side.
	up.Store(false)
	f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "m", "type": "model"})
	ds := f.deliveries(t, id, func(ds []map[string]any) bool { return len(ds) == 3 && ds[0]["state"] == "failed" })
	f.receiver.next(t)
	f.receiver.next(t)
	cutoff := time.Now().UTC().Add(time.Minute).Format(time.RFC3339)
	if status, out := f.app.API(t, f.key, "POST", "/api/v1/teams/ml/webhooks/ci/retry-failed", map[string]any{"since": cutoff}); status != http.StatusUnprocessableEntity {
		t.Errorf("a since in the future: %d %v, want 422", status, out)
	}
	up.Store(true)
	if got := f.must(t, http.StatusOK, "POST", "/api/v1/teams/ml/webhooks/ci/retry-failed", map[string]any{"since": "10m"}); got["queued"] != float64(1) {
		t.Fatalf("webhook retry-failed queued %v, want 1", got["queued"])
	}
	if again := f.receiver.next(t).Header.Get("webhook-id"); again != ds[0]["id"] {
		t.Errorf("the webhook's retry sent %q, want the failed delivery %v", again, ds[0]["id"])
	}
	f.deliveries(t, id, allIn("succeeded", 3))
	var kinds []string
	if err := f.app.DB.Raw(`SELECT kind FROM audit_log WHERE kind LIKE '%retry_failed' ORDER BY id`).Scan(&kinds).Error; err != nil {
		t.Fatal(err)
	}
	if strings.Join(kinds, ",") != "automation.retry_failed,automation.retry_failed,automation.retry_failed,webhook.retry_failed" {
		t.Errorf("audit log %v", kinds)
	}
}

// A team admin rotates the signing secret from the webhook's … menu in
// Team Settings: a missing choice is refused beside the field with the
// overlap kept, then the rotation shows on the webhook's page.
func TestBrowserRotateSigningSecret(t *testing.T) {
	f := newAutomationFixture(t, nil)
	f.must(t, http.StatusCreated, "POST", "/api/v1/teams/ml/secrets", map[string]any{"name": "SIGNING_NEW", "value": newSigningValue})
	ctx := webtest.NewBrowser(t)
	f.app.SignIn(t, ctx, "admin@example.com")
	webtest.Do(t, ctx, "open Rotate from the … menu",
		chromedp.Navigate(f.app.URL+"/teams/ml"),
		chromedp.WaitVisible(webtest.TestID("webhook-ci")),
		chromedp.Click(in("webhook-ci", "webhook-menu")),
		webtest.ClickNav(in("webhook-ci", "rotate-webhook-secret")),
		chromedp.WaitVisible(webtest.TestID("rotate-secret-form")),
	)
	status, err := chromedp.Run(ctx, chromedp.Text(webtest.TestID("signing-status")))
	if err != nil || strings.Contains(status, "rotating") || !strings.Contains(status, "SIGNING") {
		t.Errorf("signing status before %q (%v)", status, err)
	}
	webtest.Do(t, ctx, "rotate without choosing a secret",
		chromedp.SetValue(in("rotate-secret-form", "field-overlap"), "2h"),
		webtest.ClickNav(webtest.TestID("rotate-secret")),
		chromedp.WaitVisible(`[data-testid="rotate-secret-form"] .field-error`),
	)
	overlap, err := chromedp.Run(ctx, chromedp.Value(in("rotate-secret-form", "field-overlap")))
	if err != nil || overlap != "2h" {
		t.Errorf("the overlap typed was not kept: %q (%v)", overlap, err)
	}
	webtest.Do(t, ctx, "rotate to SIGNING_NEW for 2h",
		chromedp.SetValue(in("rotate-secret-form", "field-secret"), "SIGNING_NEW"),
		webtest.ClickNav(webtest.TestID("rotate-secret")),
		chromedp.WaitVisible(webtest.TestID("rotation-until")),
	)
	status, err = chromedp.Run(ctx, chromedp.Text(webtest.TestID("signing-status")))
	if err != nil || !strings.Contains(status, "SIGNING_NEW, rotating from SIGNING") {
		t.Errorf("signing status after %q (%v)", status, err)
	}
	until, err := chromedp.Run(ctx, chromedp.AttributeValue(webtest.TestID("rotation-until"), "datetime"))
	at, perr := time.Parse(time.RFC3339, until.Value)
	if err != nil || perr != nil || at.Sub(time.Now()) < 119*time.Minute || at.Sub(time.Now()) > 2*time.Hour {
		t.Errorf("rotation until %q, want about 2h from now", until.Value)
	}
	flash, err := chromedp.Run(ctx, chromedp.Text(webtest.TestID("flash")))
	if err != nil || !strings.Contains(flash, "now signs with SIGNING_NEW") {
		t.Errorf("flash %q (%v)", flash, err)
	}
	var w models.Webhook
	if err := f.app.DB.First(&w, "name = 'ci'").Error; err != nil || w.SigningSecret != "SIGNING_NEW" || w.PreviousSigningSecret != "SIGNING" {
		t.Errorf("stored webhook %+v (%v)", w, err)
	}
}

// The screens' Retry failed forms: a bad time comes back beside the field
// with 422 and what was typed; a good one redirects with the count.
func TestRetryFailedForms(t *testing.T) {
	f := newAutomationFixture(t, func(int) int { return http.StatusBadGateway }, webtest.WithConfig(func(c *web.Config) { c.RetrySchedule = "" }))
	a := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", projectAutomation("notify", "CREATE_ARTIFACT", `{}`))
	s := f.app.SignInHTTP(t, "admin@example.com")
	for _, path := range []string{fmt.Sprintf("/automations/%v/retry-failed", a["id"]), "/teams/ml/webhooks/ci/retry-failed"} {
		status, html := s.PostForm(t, path, url.Values{"since": {"last tuesday"}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(html, `value="last tuesday"`) || !strings.Contains(html, "neither a time") {
			t.Errorf("%s with a bad since: %d, want 422 with the error beside the field", path, status)
		}
		status, _, loc := s.PostFormRedirect(t, path, url.Values{"since": {time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04")}})
		if status != http.StatusSeeOther || loc == "" {
			t.Errorf("%s: %d to %q, want 303", path, status, loc)
		}
		if _, html := s.Get(t, loc); !strings.Contains(html, "No failed deliveries since then") {
			t.Errorf("%s: no flash saying nothing was queued", path)
		}
	}
}
