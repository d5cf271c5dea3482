package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/web/webtest"
)

// Seed fidelity (issue 13 item 1), screen by screen, in headless Chromium
// where a screen is involved.

// New secret opens as a modal dialog with the seeds' labels; a name that
// starts with a digit is accepted; a refused name brings the dialog back as
// a modal with the name kept and the value cleared.
func TestBrowserNewSecretIsAModalDialog(t *testing.T) {
	f := newTeamFixture(t)
	app := f.app
	ctx := webtest.NewBrowser(t)
	app.SignIn(t, ctx, "admin@example.com")
	err := chromedp.Do(ctx,
		chromedp.Navigate(app.URL+"/teams/ml"),
		chromedp.WaitVisible(webtest.TestID("secrets-section")),
	)
	if err != nil {
		t.Fatal(err)
	}
	// static/dialogs.js loads async; until then the link would open the page.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.documentElement.hasAttribute('data-dialogs')`)); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(webtest.TestID("new-secret")),
		chromedp.WaitVisible(webtest.TestID("new-secret-form")),
	)
	if err != nil {
		t.Fatal(err)
	}
	dialog, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`(() => {
		const d = document.querySelector('[data-testid="new-secret-dialog"]');
		const labels = [...d.querySelectorAll('label')].map(l => l.textContent.trim());
		return {tag: d.tagName, modal: d.matches(':modal'), labels, button: d.querySelector('[data-testid="create-secret"]').textContent.trim(),
			url: location.pathname};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if dialog["tag"] != "DIALOG" || dialog["modal"] != true || fmt.Sprint(dialog["labels"]) != "[Secret name Secret]" ||
		dialog["button"] != "Add secret" || dialog["url"] != "/teams/ml" {
		t.Fatalf("New secret dialog = %v", dialog)
	}

	err = chromedp.Do(ctx,
		chromedp.SendKeys(in("new-secret-form", "field-name"), "bad-name"),
		chromedp.SendKeys(in("new-secret-form", "field-value"), "typed-value"),
		webtest.ClickNav(webtest.TestID("create-secret")),
		chromedp.WaitVisible(webtest.TestID("value-cleared")),
	)
	if err != nil {
		t.Fatalf("refused name: %v", err)
	}
	// The page comes back with the dialog open; the script makes it modal.
	pollCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Run(pollCtx, chromedp.Poll[bool](`document.querySelector('[data-testid="new-secret-dialog"]').matches(':modal')`)); err != nil {
		t.Fatalf("the dialog is not modal again after the refusal: %v", err)
	}
	again, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`(() => {
		const d = document.querySelector('[data-testid="new-secret-dialog"]');
		return {modal: d.matches(':modal'), name: d.querySelector('[data-testid="field-name"]').value,
			value: d.querySelector('[data-testid="field-value"]').value, error: d.querySelector('.field-error').textContent};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if again["modal"] != true || again["name"] != "bad-name" || again["value"] != "" || !strings.Contains(fmt.Sprint(again["error"]), "letters, numbers and _") {
		t.Fatalf("dialog after a refused name = %v", again)
	}

	err = chromedp.Do(ctx,
		chromedp.SetValue(in("new-secret-form", "field-name"), "2FA_SEED"),
		chromedp.SendKeys(in("new-secret-form", "field-value"), "seed-value"),
		webtest.ClickNav(webtest.TestID("create-secret")),
		chromedp.WaitVisible(webtest.TestID("secret-2FA_SEED")),
	)
	if err != nil {
		t.Fatalf("add 2FA_SEED: %v", err)
	}
	if list, err := models.SecretsOf(context.Background(), app.DB, f.team.ID); err != nil || len(list) != 1 || list[0].Name != "2FA_SEED" {
		t.Fatalf("secrets = %v, %v", list, err)
	}
}

// Without JavaScript New secret is a page, and a refused form stays on it.
func TestNewSecretPageWithoutJavaScript(t *testing.T) {
	f := newTeamFixture(t)
	s := f.app.SignInHTTP(t, "admin@example.com")
	status, page := s.Get(t, "/teams/ml")
	if status != http.StatusOK || !strings.Contains(page, `href="/teams/ml/secrets/new" data-dialog="new-secret-dialog"`) {
		t.Fatalf("Team Settings: %d, New secret is no link to the page", status)
	}
	status, page = s.Get(t, "/teams/ml/secrets/new")
	if status != http.StatusOK || !strings.Contains(page, `data-testid="new-secret-page"`) || !strings.Contains(page, ">Secret name</label>") ||
		!strings.Contains(page, ">Add secret</button>") || !strings.Contains(page, `name="from" value="page"`) {
		t.Fatalf("New secret page: %d\n%s", status, page)
	}
	status, page = s.PostForm(t, "/teams/ml/secrets", url.Values{"name": {"no spaces"}, "value": {"v"}, "from": {"page"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(page, `data-testid="new-secret-page"`) || !strings.Contains(page, `value="no spaces"`) {
		t.Fatalf("refused on the page: %d\n%s", status, page)
	}
	if status, _ := s.PostForm(t, "/teams/ml/secrets", url.Values{"name": {"9LIVES"}, "value": {"v"}, "from": {"page"}}); status != http.StatusSeeOther {
		t.Fatalf("create 9LIVES: %d", status)
	}
	if status, _ := f.app.SignInHTTP(t, "member@example.com").Get(t, "/teams/ml/secrets/new"); status != http.StatusForbidden {
		t.Fatalf("member opens New secret: %d, want 403", status)
	}
}

// The New webhook form's Test sends what is typed, unsaved, through the
// Test panel's code: access token, signing secret (usable as $NAME in the
// payload) and the receiver's answer shown with secrets as ••••. Edit's
// Test sends the edited URL while the saved webhook keeps its own.
func TestBrowserWebhookFormsTestUnsavedValues(t *testing.T) {
	f := newTeamFixture(t, webtest.WithAllowedTargets("127.0.0.1"))
	app := f.app
	recv := newReceiver(t)
	key := app.APIKey(t, f.admin)
	const token, signing = "form-token-VALUE-1111", "form-signing-VALUE-2222"
	for name, value := range map[string]string{"TOKEN": token, "SIGNING": signing} {
		if status, out := app.API(t, key, "POST", "/api/v1/teams/ml/secrets", map[string]any{"name": name, "value": value}); status != http.StatusCreated {
			t.Fatalf("secret %s: %d %v", name, status, out)
		}
	}
	ctx := webtest.NewBrowser(t)
	app.SignIn(t, ctx, "admin@example.com")
	err := chromedp.Do(ctx,
		chromedp.Navigate(app.URL+"/teams/ml"),
		chromedp.Click(webtest.TestID("new-webhook")),
		chromedp.WaitVisible(webtest.TestID("new-webhook-form")),
		chromedp.SendKeys(in("new-webhook-form", "field-name"), "ci"),
		chromedp.SendKeys(in("new-webhook-form", "field-url"), recv.URL+"/typed"),
		chromedp.SetValue(in("new-webhook-form", "field-access_token_secret"), "TOKEN"),
		chromedp.SetValue(in("new-webhook-form", "field-signing_secret"), "SIGNING"),
		chromedp.SetValue(in("new-webhook-form", "field-test-payload"), `{"sig": "$SIGNING", "event": "${event_type}"}`),
	)
	if err != nil {
		t.Fatalf("fill New webhook: %v", err)
	}
	// A marker on window survives only if the page is not reloaded.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__samePage = true`)); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(in("new-webhook-form", "test-unsaved-webhook")),
		chromedp.WaitVisible(in("new-webhook-form", "test-status")),
	)
	if err != nil {
		t.Fatalf("Test in New webhook: %v", err)
	}
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`({
		status: document.querySelector('[data-testid="new-webhook-form"] [data-testid="test-status"]').textContent,
		request: document.querySelector('[data-testid="new-webhook-form"] [data-testid="test-request"]').textContent,
		same: window.__samePage === true,
		html: document.documentElement.outerHTML})`))
	if err != nil {
		t.Fatal(err)
	}
	request := fmt.Sprint(shown["request"])
	if shown["status"] != "202 Accepted" || shown["same"] != true || !strings.Contains(request, "/typed") ||
		!strings.Contains(request, "Authorization: Bearer ••••") || !strings.Contains(request, `"sig":"••••"`) {
		t.Fatalf("Test result = %v / %s", shown["status"], request)
	}
	if html := fmt.Sprint(shown["html"]); strings.Contains(html, token) || strings.Contains(html, signing) {
		t.Fatal("the page shows a secret value")
	}
	reqs := recv.requests()
	if len(reqs) != 1 || reqs[0].Header.Get("Authorization") != "Bearer "+token || !strings.Contains(string(reqs[0].Body), `"sig":"`+signing+`"`) ||
		reqs[0].Header.Get("X-Wandb-Signature") != hmacBase64(signing, reqs[0].Body) {
		t.Fatalf("receiver got %+v", reqs)
	}
	if hooks, err := models.WebhooksOf(context.Background(), app.DB, f.team.ID); err != nil || len(hooks) != 0 {
		t.Fatalf("Test saved a webhook: %v %v", hooks, err)
	}

	// Edit: the saved webhook points at /saved; Test sends the typed /edited.
	if status, out := app.API(t, key, "POST", "/api/v1/teams/ml/webhooks", map[string]any{"name": "ci", "url": recv.URL + "/saved"}); status != http.StatusCreated {
		t.Fatalf("create ci: %d %v", status, out)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(app.URL+"/teams/ml/webhooks/ci/edit"),
		chromedp.WaitVisible(webtest.TestID("edit-webhook-form")),
		chromedp.SetValue(in("edit-webhook-form", "field-url"), recv.URL+"/edited"),
		chromedp.Click(in("edit-webhook-form", "test-unsaved-webhook")),
		chromedp.WaitVisible(in("edit-webhook-form", "test-status")),
	)
	if err != nil {
		t.Fatalf("Test in Edit webhook: %v", err)
	}
	reqs = recv.requests()
	if len(reqs) != 2 || string(reqs[1].Body) != "{}" || reqs[1].Header.Get("Authorization") != "" {
		t.Fatalf("edit test sent %+v, want {} without a token", reqs[1:])
	}
	if w, err := models.WebhookByName(context.Background(), app.DB, f.team.ID, "ci"); err != nil || w.URL != recv.URL+"/saved" {
		t.Fatalf("saved webhook = %+v, %v", w, err)
	}
	body, err := chromedp.Run(ctx, chromedp.Text(in("edit-webhook-form", "test-response-body")))
	if err != nil || !strings.HasPrefix(body, "received /edited") {
		t.Fatalf("Edit's Test answer = %q, %v", body, err)
	}
}

// Without JavaScript the forms' Test posts the whole form and gets the page
// back with the form open, its values kept and the result (or the refusal)
// under it; refusals keep the Test panel's rules (URL rules and secrets).
func TestWebhookFormTestWithoutJavaScript(t *testing.T) {
	f := newTeamFixture(t, webtest.WithAllowedTargets("127.0.0.1"))
	recv := newReceiver(t)
	s := f.app.SignInHTTP(t, "admin@example.com")
	form := url.Values{"name": {"ci"}, "url": {recv.URL + "/plain"}, "test_payload": {""}}
	status, page := s.PostForm(t, "/teams/ml/webhook-test", form)
	if status != http.StatusOK || !strings.Contains(page, `data-testid="test-status"`) || !strings.Contains(page, `value="`+recv.URL+`/plain"`) {
		t.Fatalf("plain Test: %d\n%s", status, between(page, `data-testid="webhooks-section"`, "</section>"))
	}
	if reqs := recv.requests(); len(reqs) != 1 || string(reqs[0].Body) != "{}" {
		t.Fatalf("receiver got %+v", reqs)
	}
	status, page = s.PostForm(t, "/teams/ml/webhook-test", url.Values{"url": {"http://10.1.2.3/hook"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(page, "ALLOWED_TARGETS") {
		t.Fatalf("blocked URL: %d", status)
	}
	status, frag := s.PostFormHTMX(t, "/teams/ml/webhook-test", url.Values{"url": {recv.URL + "/x"}, "signing_secret": {"NOPE"}})
	if status != http.StatusOK || strings.Contains(frag, "<html") || !strings.Contains(frag, "Secret: no secret named NOPE") {
		t.Fatalf("missing secret (htmx): %d\n%s", status, frag)
	}
	status, frag = s.PostFormHTMX(t, "/teams/ml/webhook-test", url.Values{"url": {recv.URL + "/x"}, "test_payload": {`{"a":"$lower_name"}`}})
	if status != http.StatusOK || !strings.Contains(frag, "unknown variable $lower_name") {
		t.Fatalf("ungranted bare name (htmx): %d\n%s", status, frag)
	}
	if n := len(recv.requests()); n != 1 {
		t.Fatalf("refused tests sent %d requests, want still 1", n)
	}
	if status, _ := f.app.SignInHTTP(t, "member@example.com").PostForm(t, "/teams/ml/webhook-test", form); status != http.StatusForbidden {
		t.Fatalf("member's Test: %d, want 403", status)
	}
}

// A registry collection's … menu has Create automation; the wizard it opens
// has the Registered model chosen, and choosing "all collections" instead
// makes a registry-wide automation (seed 000).
func TestBrowserRegistryCollectionMenuCreatesAutomation(t *testing.T) {
	f := newAutomationFixture(t, nil)
	app := f.app
	f.must(t, http.StatusCreated, "POST", "/api/v1/registries", map[string]any{"name": "model"})
	v := f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "resnet", "type": "model"})
	f.must(t, http.StatusCreated, "POST", fmt.Sprintf("/api/v1/artifacts/%v/links", v["id"]), map[string]any{"registry": "model", "collection": "resnet"})
	f.must(t, http.StatusCreated, "POST", fmt.Sprintf("/api/v1/artifacts/%v/links", v["id"]), map[string]any{"registry": "model", "collection": "vit"})

	ctx := webtest.NewBrowser(t)
	app.SignIn(t, ctx, "admin@example.com")
	create := func(choice, name string) {
		t.Helper()
		err := chromedp.Do(ctx,
			chromedp.Navigate(app.URL+"/registries/model"),
			chromedp.Click(in("collection-resnet", "collection-menu")),
			webtest.ClickNav(in("collection-resnet", "collection-create-automation")),
			chromedp.WaitVisible(webtest.TestID("step-event")),
		)
		if err != nil {
			t.Fatalf("… → Create automation: %v", err)
		}
		chosen, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`(() => {
			const s = document.querySelector('[data-testid="field-collection_filter"]');
			return {value: s.value, label: document.querySelector('label[for="f-collection_filter"]').textContent,
				options: [...s.options].map(o => o.value)};
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if chosen["value"] != "resnet" || chosen["label"] != "Registered model" || fmt.Sprint(chosen["options"]) != "[ resnet vit]" {
			t.Fatalf("Registered model select = %v", chosen)
		}
		// Choose as a user does: by option (Chromium does not select an
		// option whose value is "" when value is assigned).
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
			const s = document.querySelector('[data-testid="field-collection_filter"]');
			s.selectedIndex = [...s.options].findIndex(o => o.value === %q);
			return s.value === %q;
		})()`, choice, choice))); err != nil || !ok {
			t.Fatalf("choose Registered model %q: %v", choice, err)
		}
		err = chromedp.Do(ctx,
			chromedp.Click(webtest.TestID("next-step")),
			chromedp.WaitVisible(webtest.TestID("step-action")),
			webtest.HtmxIdle(),
		)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#wizard input[name="collection_filter"]').value`)); err != nil || got != choice {
			t.Fatalf("step 2 carries Registered model %q, want %q (%v)", got, choice, err)
		}
		err = chromedp.Do(ctx,
			chromedp.Click(webtest.TestID("next-step")),
			chromedp.WaitVisible(webtest.TestID("step-details")),
			webtest.HtmxIdle(),
			chromedp.SendKeys(webtest.TestID("field-name"), name),
			webtest.ClickNav(webtest.TestID("create-automation")),
			chromedp.WaitVisible(webtest.TestID("automation-config")),
		)
		if err != nil {
			t.Fatalf("create %s: %v\n%s", name, err, wizardHTML(app, ctx))
		}
	}
	create("resnet", "on-resnet")
	create("", "on-every-model")

	_, out := app.API(t, f.key, "GET", "/api/v1/automations", nil)
	scopes := map[string]string{}
	for _, a := range out["automations"].([]any) {
		a := a.(map[string]any)
		sc := a["scope"].(map[string]any)
		// The payload was left empty in the wizard: it is stored as {}.
		scopes[fmt.Sprint(a["name"])] = fmt.Sprint(sc["type"], " ", sc["collection"], " ", a["action"].(map[string]any)["payload"])
	}
	if scopes["on-resnet"] != "registry_collection resnet {}" || scopes["on-every-model"] != "registry <nil> {}" {
		t.Fatalf("scopes = %v", scopes)
	}
}

// Settings in the top bar leads to Team Settings of every team the user
// administers (seed 002: "Settings page → Team secrets"), above the user's
// own API keys; a user who administers no team is told so.
func TestBrowserSettingsLeadsToTeamSecrets(t *testing.T) {
	f := newTeamFixture(t)
	app := f.app
	ctx := webtest.NewBrowser(t)
	app.SignIn(t, ctx, "admin@example.com")
	err := chromedp.Do(ctx,
		chromedp.Navigate(app.URL+"/"),
		webtest.ClickNav(chromedp.CSS(`[data-testid="nav"] a[href="/settings"]`)),
		chromedp.WaitVisible(webtest.TestID("settings-teams")),
		chromedp.WaitVisible(webtest.TestID("new-key-form")),
		webtest.ClickNav(in("settings-team-ml", "team-secrets-link")),
		chromedp.WaitVisible(webtest.TestID("secrets-section")),
	)
	if err != nil {
		t.Fatalf("Settings → Team secrets: %v", err)
	}
	where, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname + location.hash`))
	if err != nil || where != "/teams/ml#secrets" {
		t.Fatalf("landed on %q (%v)", where, err)
	}
	status, page := app.SignInHTTP(t, "member@example.com").Get(t, "/settings")
	if status != http.StatusOK || !strings.Contains(page, `data-testid="no-admin-teams"`) || strings.Contains(page, `data-testid="settings-team-ml"`) ||
		!strings.Contains(page, `data-testid="new-key-form"`) {
		t.Fatalf("member's Settings: %d", status)
	}
}
