package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/automations-dev/automations/web/webtest"
)

// A team admin creates a RUN_METRIC automation in the wizard (a bad window
// is refused beside its field), a run logs history through the API, and
// the run's page shows the chart and the automation that fired with its
// delivery.
func TestBrowserRunMetricAutomationFiresOnRunPage(t *testing.T) {
	f := newAutomationFixture(t, nil)
	app := f.app
	ctx := webtest.NewBrowser(t)
	app.SignIn(t, ctx, "admin@example.com")

	webtest.Do(t, ctx, "wizard step 1",
		chromedp.Navigate(app.URL+"/projects/ml/mnist/automations/new"),
		chromedp.WaitVisible(webtest.TestID("step-event")),
		chromedp.SetValue(webtest.TestID("field-event_type"), "RUN_METRIC"),
		webtest.HtmxIdle(),
		chromedp.WaitVisible(webtest.TestID("field-metric")),
		chromedp.SendKeys(webtest.TestID("field-metric"), "val/loss"),
		chromedp.SendKeys(webtest.TestID("field-window"), "two"),
		chromedp.SetValue(webtest.TestID("field-op"), "<"),
		chromedp.SendKeys(webtest.TestID("field-threshold"), "0.2"),
		chromedp.Click(webtest.TestID("next-step")),
		chromedp.WaitVisible(`[data-testid="step-event"] .field-error`),
		webtest.HtmxIdle(),
	)
	msg, _ := chromedp.Run(ctx, chromedp.Text(`[data-testid="step-event"] .has-error`))
	if !strings.Contains(msg, "Window") || !strings.Contains(msg, "whole number") {
		t.Fatalf("the window's error is not beside it: %q\n%s", msg, wizardHTML(app, ctx))
	}
	kept, _ := chromedp.Run(ctx, chromedp.Value(webtest.TestID("field-metric")))
	if kept != "val/loss" {
		t.Fatalf("the metric was not kept: %q", kept)
	}
	webtest.Do(t, ctx, "wizard step 2",
		chromedp.SetValue(webtest.TestID("field-window"), "2"),
		chromedp.Click(webtest.TestID("next-step")),
		chromedp.WaitVisible(webtest.TestID("step-action")),
		webtest.HtmxIdle(),
		chromedp.SetValue(webtest.TestID("field-webhook"), "ci"),
		chromedp.SetValue(webtest.TestID("field-template"), "run-github"),
		chromedp.Click(webtest.TestID("use-template")),
	)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('[data-testid="field-payload"]').value.includes('RUN_ALERT')`)); err != nil {
		t.Fatalf("run template insert: %v\n%s", err, wizardHTML(app, ctx))
	}
	err := chromedp.Do(ctx,
		webtest.HtmxIdle(),
		chromedp.Click(webtest.TestID("next-step")),
		chromedp.WaitVisible(webtest.TestID("step-details")),
		chromedp.SendKeys(webtest.TestID("field-name"), "loss-alert"),
		webtest.ClickNav(webtest.TestID("create-automation")),
		chromedp.WaitVisible(webtest.TestID("automation-config")),
	)
	if err != nil {
		t.Fatalf("wizard step 3: %v\n%s", err, wizardHTML(app, ctx))
	}
	list := f.must(t, http.StatusOK, "GET", "/api/v1/automations?project=ml/mnist", nil)
	autos := list["automations"].([]any)
	a := autos[0].(map[string]any)
	ev := a["event"].(map[string]any)
	if len(autos) != 1 || ev["type"] != "RUN_METRIC" || ev["window"] != float64(2) || ev["op"] != "<" || ev["threshold"] != 0.2 || ev["metric"] != "val/loss" {
		t.Fatalf("automation after the wizard: %v", a)
	}

	run := f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/runs", map[string]any{"display_name": "resnet-7"})
	f.must(t, http.StatusOK, "POST", fmt.Sprintf("/api/v1/runs/%v/history", run["id"]), historyRows(0, 0.5, 0.3, 0.2, 0.1))
	f.receiver.next(t)
	f.deliveries(t, a["id"], allIn("succeeded", 1))

	webtest.Do(t, ctx, "runs list and run page",
		chromedp.Navigate(app.URL+"/projects/ml/mnist"),
		chromedp.WaitVisible(webtest.TestID("nav-runs")),
		chromedp.Navigate(app.URL+"/projects/ml/mnist/runs?state=running"),
		chromedp.WaitVisible(`[data-testid="runs"] a`),
		webtest.ClickNav(`[data-testid="runs"] a`),
		chromedp.WaitVisible(webtest.TestID("fired")),
	)
	page, err := chromedp.Run(ctx, chromedp.Text(webtest.TestID("run-fired")))
	if err != nil || !strings.Contains(page, "loss-alert") || !strings.Contains(page, "succeeded") ||
		!strings.Contains(page, "val/loss = 0.15000000000000002 at step 3") {
		t.Fatalf("the run page's fired automations: %q (%v)", page, err)
	}
	charts, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="metric-chart"] polyline').length`))
	if err != nil || charts != 2 {
		t.Fatalf("charts on the run page: %d (%v)", charts, err)
	}
	empty, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="runs-next"]').length`))
	if empty != 0 {
		t.Fatal("one run shows a next page")
	}
}
