package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/web"
	"github.com/automations-dev/automations/web/webtest"
)

// A team admin sees the banner of a disabled webhook on Team Settings,
// chooses to discard its held deliveries and clicks Re-enable: the banner
// goes, the flash says how many were discarded, and they are failed with
// the reason, never sent.
func TestBrowserReenableDiscardsHeldDeliveries(t *testing.T) {
	rcv := newFlakyReceiver(t)
	app := webtest.Start(t, webtest.WithAllowedTargets("127.0.0.1"), webtest.WithConfig(func(c *web.Config) {
		c.RetrySchedule = "0s"
		c.EndpointDisableAfter = 0
		c.EndpointDisableMinFailures = 2
	}))
	bg := context.Background()
	admin := app.User(t, "admin@example.com", false)
	key := app.APIKey(t, admin)
	if _, err := models.CreateTeam(bg, app.DB, "ml", admin); err != nil {
		t.Fatal(err)
	}
	must := func(want int, method, path string, body any) map[string]any {
		t.Helper()
		status, out := app.API(t, key, method, path, body)
		if status != want {
			t.Fatalf("%s %s: %d, want %d: %v", method, path, status, want, out)
		}
		return out
	}
	must(http.StatusCreated, "POST", "/api/v1/teams/ml/projects", map[string]any{"name": "p"})
	must(http.StatusCreated, "POST", "/api/v1/teams/ml/webhooks", map[string]any{"name": "ci", "url": rcv.URL})
	a := must(http.StatusCreated, "POST", "/api/v1/automations", map[string]any{
		"name": "to-ci", "scope": map[string]any{"type": "project", "project": "ml/p"},
		"event":  map[string]any{"type": "CREATE_ARTIFACT"},
		"action": map[string]any{"type": "webhook", "team": "ml", "webhook": "ci", "payload": "{}"},
	})
	automationID := int64(a["id"].(float64))
	deliveries := func() []models.DeliveryWithAttempts {
		ds, err := models.DeliveriesOfAutomation(bg, app.DB, automationID, 100)
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	count := func(state models.DeliveryState) int {
		n := 0
		for _, d := range deliveries() {
			if d.State == state {
				n++
			}
		}
		return n
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not after 30s", what)
			}
			time.Sleep(20 * time.Millisecond) // poll interval; the loop waits on the condition
		}
	}
	for range 2 {
		must(http.StatusCreated, "POST", "/api/v1/projects/ml/p/artifacts", map[string]any{"name": "m", "type": "model"})
	}
	waitFor("two failed deliveries", func() bool { return count(models.DeliveryFailed) == 2 })
	for range 3 {
		must(http.StatusCreated, "POST", "/api/v1/projects/ml/p/artifacts", map[string]any{"name": "m", "type": "model"})
	}
	waitFor("three held deliveries", func() bool { return count(models.DeliveryHeld) == 3 })

	ctx := webtest.NewBrowser(t)
	app.SignIn(t, ctx, "admin@example.com")
	banner := webtest.TestID("disabled-banner-webhook-ci")
	webtest.Do(t, ctx, "open Team Settings",
		chromedp.Navigate(app.URL+"/teams/ml"),
		chromedp.WaitVisible(banner),
	)
	text, err := chromedp.Run(ctx, chromedp.Text(banner))
	if err != nil || !strings.Contains(text, "Webhook ci is disabled") || !strings.Contains(text, "3 held deliveries waiting") {
		t.Fatalf("banner %q (%v)", text, err)
	}
	rcv.healed.Store(true) // a discarded delivery sent by mistake would now be accepted
	webtest.Do(t, ctx, "re-enable, discarding",
		chromedp.SetValue(in("disabled-banner-webhook-ci", "reenable-held"), "discard"),
		webtest.ClickNav(in("disabled-banner-webhook-ci", "reenable")),
		chromedp.WaitVisible(webtest.TestID("flash")),
	)
	flash, err := chromedp.Run(ctx, chromedp.Text(webtest.TestID("flash")))
	if err != nil || !strings.Contains(flash, "ci re-enabled; 3 held deliveries discarded") {
		t.Fatalf("flash %q (%v)", flash, err)
	}
	gone, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('[data-testid="disabled-banner-webhook-ci"]') === null`))
	if err != nil || !gone {
		t.Errorf("the banner is still shown (%v)", err)
	}
	discarded := 0
	for _, d := range deliveries() {
		if d.State == models.DeliveryFailed && d.LastError == models.DiscardedOnReenable && len(d.AttemptList) == 0 {
			discarded++
		}
	}
	if discarded != 3 {
		t.Errorf("%d deliveries failed as discarded without an attempt, want 3", discarded)
	}
	// A new event after Re-enable is sent; it is the only one the receiver gets.
	must(http.StatusCreated, "POST", "/api/v1/projects/ml/p/artifacts", map[string]any{"name": "m", "type": "model"})
	waitFor("the new delivery sent", func() bool { return count(models.DeliverySucceeded) == 1 })
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.accepted) != 1 {
		t.Errorf("the receiver got %d deliveries, want only the new one", len(rcv.accepted))
	}
}
