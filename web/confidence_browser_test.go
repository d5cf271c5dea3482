package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/automations-dev/automations/web/webtest"
)

// A team admin builds an automation in the wizard, sees on the Details
// step the payload rendered for the latest matching event (secrets
// masked) and the dry run's count, picks another event, sends it as a
// test, saves the automation requiring approval, and approves its first
// delivery from the home page's "Waiting for you" list.
func TestBrowserPreviewDryRunAndApproval(t *testing.T) {
	f := newAutomationFixture(t, nil)
	app := f.app
	f.logArtifact(t, "mnist-model", "model")
	f.logArtifact(t, "mnist-model", "model")
	evs := f.projectEvents(t) // newest first: v1, v0
	ctx := webtest.NewBrowser(t)
	app.SignIn(t, ctx, "admin@example.com")

	webtest.Do(t, ctx, "wizard steps 1-2",
		chromedp.Navigate(app.URL+"/projects/ml/mnist/automations/new"),
		chromedp.WaitVisible(webtest.TestID("step-event")),
		chromedp.SetValue(webtest.TestID("field-event_type"), "CREATE_ARTIFACT"),
		webtest.HtmxIdle(),
		chromedp.Click(webtest.TestID("next-step")),
		chromedp.WaitVisible(webtest.TestID("step-action")),
		webtest.HtmxIdle(),
		chromedp.SetValue(webtest.TestID("field-webhook"), "ci"),
		chromedp.SetValue(webtest.TestID("field-payload"), `{"version": "${artifact_version_string}", "extra": "$EXTRA"}`),
		chromedp.Click(webtest.TestID("next-step")),
		chromedp.WaitVisible(webtest.TestID("step-details")),
		chromedp.WaitVisible(webtest.TestID("preview-body")),
		chromedp.WaitVisible(webtest.TestID("dry-run-count")),
		webtest.HtmxIdle(),
	)
	body, err := chromedp.Run(ctx, chromedp.Text(webtest.TestID("preview-body")))
	if err != nil || body != `{"version":"ml/mnist/mnist-model:v1","extra":"••••"}` {
		t.Errorf("preview body = %q (%v), want v1 with the secret masked", body, err)
	}
	if count, err := chromedp.Run(ctx, chromedp.Text(webtest.TestID("dry-run-count"))); err != nil || count != "2" {
		t.Errorf("dry run count = %q (%v), want 2", count, err)
	}

	// Another event from the chooser, then Send as test.
	webtest.Do(t, ctx, "choose event v0", chromedp.SetValue(webtest.TestID("preview-event"), fmt.Sprint(evs[1]["id"])))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('[data-testid="preview-event"]').dispatchEvent(new Event('change', {bubbles: true}))`)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('[data-testid="preview-body"]').textContent.includes('mnist-model:v0')`)); err != nil {
		t.Fatalf("the preview did not switch to v0: %v\n%s", err, wizardHTML(app, ctx))
	}
	webtest.Do(t, ctx, "send as test", webtest.HtmxIdle(), chromedp.Click(webtest.TestID("preview-send")), chromedp.WaitVisible(webtest.TestID("webhook-test-result")))
	if got := f.receiver.next(t); string(got.Body) != `{"version":"ml/mnist/mnist-model:v0","extra":"`+extraValue+`"}` {
		t.Errorf("Send as test delivered %s", got.Body)
	}

	webtest.Do(t, ctx, "create with approval",
		webtest.HtmxIdle(),
		chromedp.SendKeys(webtest.TestID("field-name"), "gated-ci"),
		chromedp.Click(webtest.TestID("field-require_approval")),
		webtest.ClickNav(webtest.TestID("create-automation")),
		chromedp.WaitVisible(webtest.TestID("automation-config")),
	)
	list := f.must(t, http.StatusOK, "GET", "/api/v1/automations?project=ml/mnist", nil)
	a := list["automations"].([]any)[0].(map[string]any)
	if a["name"] != "gated-ci" || a["require_approval"] != true {
		t.Fatalf("saved automation = %v", a)
	}

	f.logArtifact(t, "mnist-model", "model")
	f.deliveries(t, a["id"], allIn("awaiting_approval", 1))
	webtest.Do(t, ctx, "approve from home",
		chromedp.Navigate(app.URL+"/"),
		chromedp.WaitVisible(webtest.TestID("waiting-for-you")),
		chromedp.SendKeys(`[data-testid="waiting-for-you"] [data-testid="decision-comment"]`, "looks right"),
		webtest.ClickNav(`[data-testid="waiting-for-you"] [data-testid="approve"]`),
	)
	if got := f.receiver.next(t); string(got.Body) != `{"version":"ml/mnist/mnist-model:v2","extra":"`+extraValue+`"}` {
		t.Errorf("after approval the receiver got %s", got.Body)
	}
	f.deliveries(t, a["id"], allIn("succeeded", 1))
	webtest.Do(t, ctx, "history shows the decision",
		chromedp.Navigate(app.URL+fmt.Sprintf("/automations/%v", a["id"])),
		chromedp.WaitVisible(`[data-testid="delivery"][data-state="succeeded"]`),
		chromedp.Click(`[data-testid="delivery"] summary`),
		chromedp.WaitVisible(webtest.TestID("delivery-decision")),
	)
	decision, _ := chromedp.Run(ctx, chromedp.Text(webtest.TestID("delivery-decision")))
	if !strings.Contains(decision, "Approved by admin") || !strings.Contains(decision, "looks right") {
		t.Errorf("decision in history = %q", decision)
	}
}
