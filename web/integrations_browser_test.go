package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/web/webtest"
)

func in(scope, id string) chromedp.CSS {
	return chromedp.CSS(`[data-testid="` + scope + `"] [data-testid="` + id + `"]`)
}

// A team admin creates two secrets and a webhook using them, opens Test from
// the webhook's … menu, sends a payload to a receiver on loopback and sees
// its answer in the panel without a page reload. A member sees no New secret
// button, and the create request the member's browser sends directly gets 403.
func TestBrowserTeamAdminTestsAWebhook(t *testing.T) {
	f := newTeamFixture(t, webtest.WithAllowedTargets("127.0.0.1"))
	app := f.app
	recv := newReceiver(t)
	const token, signing = "browser-token-VALUE-1234567", "browser-signing-VALUE-7654321"

	ctx := webtest.NewBrowser(t)
	app.SignIn(t, ctx, "admin@example.com")
	if err := chromedp.Do(ctx, chromedp.Navigate(app.URL+"/teams/ml"), chromedp.WaitVisible(webtest.TestID("secrets-section"))); err != nil {
		t.Fatal(err)
	}
	for name, value := range map[string]string{"GITHUB_TOKEN": token, "SIGNING_SECRET": signing} {
		err := chromedp.Do(ctx,
			chromedp.Click(webtest.TestID("new-secret")),
			chromedp.WaitVisible(webtest.TestID("new-secret-form")),
			chromedp.SendKeys(in("new-secret-form", "field-name"), name),
			chromedp.SendKeys(in("new-secret-form", "field-value"), value),
			webtest.ClickNav(webtest.TestID("create-secret")),
			chromedp.WaitVisible(webtest.TestID("secret-"+name)),
		)
		if err != nil {
			t.Fatalf("create secret %s: %v", name, err)
		}
	}
	err := chromedp.Do(ctx,
		chromedp.Click(webtest.TestID("new-webhook")),
		chromedp.WaitVisible(webtest.TestID("new-webhook-form")),
		chromedp.SendKeys(in("new-webhook-form", "field-name"), "ci"),
		chromedp.SendKeys(in("new-webhook-form", "field-url"), recv.URL+"/hook"),
		chromedp.SetValue(in("new-webhook-form", "field-access_token_secret"), "GITHUB_TOKEN"),
		chromedp.SetValue(in("new-webhook-form", "field-signing_secret"), "SIGNING_SECRET"),
		webtest.ClickNav(webtest.TestID("create-webhook")),
		chromedp.WaitVisible(webtest.TestID("webhook-ci")),
	)
	if err != nil {
		t.Fatalf("create webhook: %v", err)
	}
	// A marker on window survives only if the page is not reloaded.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__samePage = true`)); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(in("webhook-ci", "webhook-menu")),
		chromedp.Click(in("webhook-ci", "test-webhook")),
		chromedp.WaitVisible(webtest.TestID("webhook-test-panel")),
		// htmx wires the panel's form after the swap settles; a click
		// before that submits it as a plain form and reloads the page.
		webtest.HtmxIdle(),
		chromedp.SetValue(webtest.TestID("field-payload"), `{"token": "$ACCESS_TOKEN", "event": "${event_type}"}`),
		chromedp.Click(webtest.TestID("send-test")),
		chromedp.WaitVisible(webtest.TestID("test-status")),
	)
	if err != nil {
		t.Fatalf("test the webhook: %v", err)
	}
	status, err := chromedp.Run(ctx, chromedp.Text(webtest.TestID("test-status")))
	if err != nil || status != "202 Accepted" {
		t.Fatalf("shown status %q (%v)", status, err)
	}
	body, err := chromedp.Run(ctx, chromedp.Text(webtest.TestID("test-response-body")))
	if err != nil || !strings.HasPrefix(body, "received /hook") {
		t.Fatalf("shown response body %q (%v)", body, err)
	}
	request, err := chromedp.Run(ctx, chromedp.Text(webtest.TestID("test-request")))
	if err != nil || !strings.Contains(request, "Authorization: Bearer ••••") || !strings.Contains(request, `"token":"••••"`) || !strings.Contains(request, "X-Wandb-Signature: ") {
		t.Fatalf("shown request %q (%v)", request, err)
	}
	samePage, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__samePage === true`))
	if err != nil || !samePage {
		t.Fatalf("the page reloaded (%v)", err)
	}
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if err != nil || strings.Contains(text, token) || strings.Contains(text, signing) {
		t.Fatalf("the page shows a secret value (%v)", err)
	}
	reqs := recv.requests()
	if len(reqs) != 1 || reqs[0].Header.Get("Authorization") != "Bearer "+token || reqs[0].Header.Get("X-Wandb-Signature") != hmacBase64(signing, reqs[0].Body) {
		t.Fatalf("receiver got %d requests, first %+v", len(reqs), reqs)
	}

	ctx = webtest.NewBrowser(t)
	app.SignIn(t, ctx, "member@example.com")
	if err := chromedp.Do(ctx, chromedp.Navigate(app.URL+"/teams/ml"), chromedp.WaitVisible(webtest.TestID("members-section"))); err != nil {
		t.Fatal(err)
	}
	buttons, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="new-secret"], [data-testid="new-webhook"], [data-testid="secrets"]').length`))
	if err != nil || buttons != 0 {
		t.Fatalf("member sees %d secret controls (%v)", buttons, err)
	}
	code, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(async () => {
		const body = new URLSearchParams({name: 'MEMBER_SECRET', value: 'x',
			_csrf: document.querySelector('input[name=_csrf]').value});
		const r = await fetch('/teams/ml/secrets', {method: 'POST', body});
		return r.status;
	})()`, chromedp.EvalAwaitPromise))
	if err != nil || code != 403 {
		t.Fatalf("member's direct POST: %d (%v), want 403", code, err)
	}
	secrets, err := models.SecretsOf(context.Background(), app.DB, f.team.ID)
	if err != nil || len(secrets) != 2 {
		t.Fatalf("secrets after the member's POST: %v %v", secrets, err)
	}
}
