package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/automations-dev/automations/web/webtest"
)

// A team admin creates a project automation through the wizard (Event →
// Action with a template → Details), logs a version through the API, sees
// the delivery succeed in the history and redelivers it.
func TestBrowserAutomationWizardAndHistory(t *testing.T) {
	f := newAutomationFixture(t, nil)
	app := f.app
	ctx := webtest.NewBrowser(t)
	app.SignIn(t, ctx, "admin@example.com")

	webtest.Do(t, ctx, "wizard steps 1-2",
		chromedp.Navigate(app.URL+"/projects/ml/mnist/automations"),
		chromedp.WaitVisible(`[data-testid="create-automation-link"][href="/projects/ml/mnist/automations/new"]`),
		// Following the link by navigating waits for the new document, so
		// no later query races the page load.
		chromedp.Navigate(app.URL+"/projects/ml/mnist/automations/new"),
		chromedp.WaitVisible(webtest.TestID("step-event")),
		chromedp.SetValue(webtest.TestID("field-event_type"), "CREATE_ARTIFACT"),
		webtest.HtmxIdle(), // the select's change refreshes the step
		chromedp.Click(webtest.TestID("next-step")),
		chromedp.WaitVisible(webtest.TestID("step-action")),
		webtest.HtmxIdle(),
		chromedp.SetValue(webtest.TestID("field-webhook"), "ci"),
		chromedp.SetValue(webtest.TestID("field-template"), "github"),
		chromedp.Click(webtest.TestID("use-template")),
	)
	// htmx swaps the form; wait for the template to land in the editor.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('[data-testid="field-payload"]').value.length > 0`)); err != nil {
		t.Fatalf("template insert: %v", err)
	}
	webtest.Do(t, ctx, "template inserted", webtest.HtmxIdle())
	tpl, err := chromedp.Run(ctx, chromedp.Value(webtest.TestID("field-payload")))
	if err != nil || !strings.Contains(tpl, "repository_dispatch") && !strings.Contains(tpl, "client_payload") {
		t.Fatalf("the GitHub template was not inserted: %q (%v)", tpl, err)
	}
	// A payload with an unknown variable is refused on the field.
	err = chromedp.Do(ctx,
		chromedp.SetValue(webtest.TestID("field-payload"), `{"v": "${no_such_variable}"}`),
		chromedp.Click(webtest.TestID("next-step")),
		chromedp.WaitVisible(`[data-testid="step-action"] .field-error`),
		webtest.HtmxIdle(),
	)
	if err != nil {
		t.Fatalf("payload error: %v", err)
	}
	msg, _ := chromedp.Run(ctx, chromedp.Text(`[data-testid="step-action"] .field-error`))
	if !strings.Contains(msg, "no_such_variable") {
		t.Errorf("payload error says %q", msg)
	}
	err = chromedp.Do(ctx,
		chromedp.SetValue(webtest.TestID("field-payload"), `{"version": "${artifact_version_string}", "by": "${event_author}"}`),
		chromedp.Click(webtest.TestID("next-step")),
		chromedp.WaitVisible(webtest.TestID("step-details")),
		chromedp.SendKeys(webtest.TestID("field-name"), "notify-ci"),
		webtest.ClickNav(webtest.TestID("create-automation")),
		chromedp.WaitVisible(webtest.TestID("automation-config")),
	)
	if err != nil {
		t.Fatalf("wizard step 3: %v\n%s", err, wizardHTML(app, ctx))
	}
	list := f.must(t, http.StatusOK, "GET", "/api/v1/automations?project=ml/mnist", nil)
	autos := list["automations"].([]any)
	if len(autos) != 1 || autos[0].(map[string]any)["name"] != "notify-ci" {
		t.Fatalf("automations after the wizard: %v", autos)
	}

	f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "mnist-model", "type": "model"})
	var got map[string]string
	if err := json.Unmarshal(f.receiver.next(t).Body, &got); err != nil || got["version"] != "ml/mnist/mnist-model:v0" {
		t.Fatalf("receiver got %v (%v)", got, err)
	}
	// The history refreshes itself while the delivery is in flight; reload
	// in case it was already done before the page loaded.
	err = chromedp.Do(ctx,
		chromedp.Reload(),
		chromedp.WaitVisible(`[data-testid="delivery"][data-state="succeeded"]`),
		chromedp.Click(`[data-testid="delivery"] [data-testid="delivery-state"]`),
		chromedp.Click(webtest.TestID("redeliver")),
	)
	if err != nil {
		t.Fatalf("history and redeliver: %v", err)
	}
	if err := json.Unmarshal(f.receiver.next(t).Body, &got); err != nil || got["version"] != "ml/mnist/mnist-model:v0" {
		t.Fatalf("redelivery: receiver got %v (%v)", got, err)
	}
	err = chromedp.Do(ctx,
		chromedp.Reload(),
		chromedp.WaitVisible(`[data-testid="delivery"][data-state="succeeded"]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	attempts, err := chromedp.Run(ctx, chromedp.Text(webtest.TestID("delivery-attempts")))
	if err != nil || !strings.HasPrefix(attempts, "2 attempt") {
		t.Fatalf("attempts after redeliver = %q (%v)", attempts, err)
	}
}

// A team admin creates a launch automation in the wizard (the Action step
// switches to the launch fields), and a new version puts a run on the queue,
// listed on the automation's page.
func TestBrowserLaunchAutomationWizard(t *testing.T) {
	f := newAutomationFixture(t, nil)
	app := f.app
	f.must(t, http.StatusCreated, "POST", "/api/v1/teams/ml/queues", map[string]any{"name": "gpu"})
	job := f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{
		"name": "train", "type": "job", "metadata": map[string]any{"config": map[string]any{"lr": 0.1}},
	})
	f.must(t, http.StatusCreated, "POST", fmt.Sprintf("/api/v1/artifacts/%v/aliases", job["id"]), map[string]any{"alias": "production"})
	ctx := webtest.NewBrowser(t)
	app.SignIn(t, ctx, "admin@example.com")
	err := chromedp.Do(ctx,
		chromedp.Navigate(app.URL+"/projects/ml/mnist/automations/new"),
		chromedp.WaitVisible(webtest.TestID("step-event")),
		chromedp.Click(webtest.TestID("next-step")),
		chromedp.WaitVisible(webtest.TestID("step-action")),
		webtest.HtmxIdle(),
	)
	if err != nil {
		t.Fatalf("wizard step 1: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
		const s = document.querySelector('[data-testid="field-action_type"]');
		s.value = 'launch';
		s.dispatchEvent(new Event('change', {bubbles: true}));
		return true;
	})()`)); err != nil {
		t.Fatal(err)
	}
	stepCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	err = chromedp.Do(stepCtx,
		chromedp.WaitVisible(webtest.TestID("field-queue")),
		webtest.HtmxIdle(),
	)
	if err != nil {
		t.Fatalf("launch fields: %v", err)
	}
	// Seed 001: Job, Job version and Destination project are dropdowns.
	choices, err := chromedp.Run(stepCtx, chromedp.Evaluate[map[string][]string](`(() => {
		const opts = id => [...document.querySelectorAll('select[data-testid="' + id + '"] option')].map(o => o.value);
		return {job: opts('field-job'), version: opts('field-job_version'), dest: opts('field-destination_project')};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(choices["job"], []string{"ml/mnist/train"}) ||
		!slices.Equal(choices["version"], []string{"latest", "production", "v0"}) ||
		!slices.Equal(choices["dest"], []string{"ml/mnist"}) {
		t.Fatalf("launch choices = %v", choices)
	}
	err = chromedp.Do(stepCtx,
		chromedp.SetValue(webtest.TestID("field-job_version"), "production"),
		chromedp.SetValue(webtest.TestID("field-overrides"), `{"lr": 0.5}`),
		chromedp.Click(webtest.TestID("next-step")),
		chromedp.WaitVisible(webtest.TestID("step-details")),
		chromedp.SendKeys(webtest.TestID("field-name"), "retrain"),
		webtest.ClickNav(webtest.TestID("create-automation")),
		chromedp.WaitVisible(webtest.TestID("run-items")),
	)
	if err != nil {
		t.Fatalf("wizard launch fields: %v\n%s", err, wizardHTML(app, ctx))
	}
	f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "data", "type": "dataset"})
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, out := f.app.API(t, f.key, "GET", "/api/v1/teams/ml/queues/gpu/items", nil)
		if items, _ := out["items"].([]any); len(items) == 1 {
			cfg := fmt.Sprint(items[0].(map[string]any)["config"])
			if !strings.Contains(cfg, "0.5") {
				t.Errorf("queued config %s lacks the override", cfg)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no run queued: %v", out)
		}
		time.Sleep(50 * time.Millisecond) // poll interval
	}
	err = chromedp.Do(ctx,
		chromedp.Reload(),
		chromedp.WaitVisible(`[data-testid="run-item"][data-state="queued"]`),
	)
	if err != nil {
		t.Fatalf("run item on the details page: %v", err)
	}
	row, _ := chromedp.Run(ctx, chromedp.Text(webtest.TestID("run-item")))
	if !strings.Contains(row, "ml/mnist/train:v0") || !strings.Contains(row, "gpu") {
		t.Errorf("run item row = %q", row)
	}
}

// wizardHTML is the wizard's markup, for a failure message.
func wizardHTML(app *webtest.App, ctx context.Context) string {
	html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('#wizard') || document.body).outerHTML`))
	if err != nil {
		return "(no page: " + err.Error() + ")"
	}
	return html
}
