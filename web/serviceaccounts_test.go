package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/web/webtest"
)

// teamAdminFixture is the automation fixture (team ml, project mnist,
// secrets, webhook ci at a loopback receiver) with people in team ml: lead
// (admin), dev (member), vera (viewer); olga is in no team. keys holds
// each one's API key by name.
type teamAdminFixture struct {
	*automationFixture
	keys map[string]string
}

func newTeamAdminFixture(t *testing.T) *teamAdminFixture {
	t.Helper()
	f := &teamAdminFixture{automationFixture: newAutomationFixture(t, nil), keys: map[string]string{}}
	for name, role := range map[string]string{"lead": "admin", "dev": "member", "vera": "viewer", "olga": ""} {
		u := f.app.User(t, name+"@example.com", false)
		f.keys[name] = f.app.APIKey(t, u)
		if role != "" {
			f.must(t, http.StatusCreated, "POST", "/api/v1/teams/ml/members", map[string]any{"email": u.Email, "role": role})
		}
	}
	return f
}

// as sends an API request with the named person's key (or a raw key) and
// fails unless the status is want.
func (f *teamAdminFixture) as(t *testing.T, who string, want int, method, path string, body any) map[string]any {
	t.Helper()
	key := who
	if k, ok := f.keys[who]; ok {
		key = k
	}
	status, out := f.app.API(t, key, method, path, body)
	if status != want {
		t.Fatalf("%s %s as %s: status %d, want %d: %v", method, path, who, status, want, out)
	}
	return out
}

// auditEntries reads team ml's audit log through the API as lead.
func (f *teamAdminFixture) auditEntries(t *testing.T, query string) []map[string]any {
	t.Helper()
	out := f.as(t, "lead", http.StatusOK, "GET", "/api/v1/teams/ml/audit-log"+query, nil)
	raw, _ := json.Marshal(out["entries"])
	var entries []map[string]any
	if err := json.Unmarshal(raw, &entries); err != nil {
		t.Fatal(err)
	}
	return entries
}

// A team admin creates a service account through the API; its key works
// for member-level calls (authored by its name, down to the webhook's
// ${event_author}) and nothing beyond its role; after Delete the key is
// refused and the name can be used again.
func TestServiceAccountThroughAPI(t *testing.T) {
	f := newTeamAdminFixture(t)
	ctx := context.Background()

	created := f.as(t, "lead", http.StatusCreated, "POST", "/api/v1/teams/ml/service-accounts", map[string]any{"name": "ci-bot", "role": "member"})
	key, _ := created["api_key"].(string)
	if !strings.HasPrefix(key, "ak_") || created["name"] != "ci-bot" || created["role"] != "member" || created["id"] == nil {
		t.Fatalf("create answered %v", created)
	}

	for _, tc := range []struct {
		name      string
		body      map[string]any
		wantCode  int
		wantField string
	}{
		{"same name", map[string]any{"name": "ci-bot", "role": "admin"}, http.StatusConflict, "name"},
		{"same name in other case", map[string]any{"name": "CI-Bot", "role": "member"}, http.StatusConflict, "name"},
		{"space in name", map[string]any{"name": "ci bot", "role": "member"}, http.StatusUnprocessableEntity, "name"},
		{"empty name", map[string]any{"name": "", "role": "member"}, http.StatusUnprocessableEntity, "name"},
		{"too long", map[string]any{"name": strings.Repeat("a", 65), "role": "member"}, http.StatusUnprocessableEntity, "name"},
		{"viewer role", map[string]any{"name": "reader", "role": "viewer"}, http.StatusUnprocessableEntity, "role"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := f.as(t, "lead", tc.wantCode, "POST", "/api/v1/teams/ml/service-accounts", tc.body)
			if out["field"] != tc.wantField {
				t.Errorf("field = %v, want %s (%v)", out["field"], tc.wantField, out)
			}
		})
	}

	// Only team admins and site admins manage them; outsiders do not see the team.
	for who, want := range map[string]int{"dev": http.StatusForbidden, "vera": http.StatusForbidden, "olga": http.StatusNotFound} {
		f.as(t, who, want, "GET", "/api/v1/teams/ml/service-accounts", nil)
		f.as(t, who, want, "POST", "/api/v1/teams/ml/service-accounts", map[string]any{"name": "x", "role": "member"})
		f.as(t, who, want, "DELETE", "/api/v1/teams/ml/service-accounts/ci-bot", nil)
	}

	list := f.as(t, "lead", http.StatusOK, "GET", "/api/v1/teams/ml/service-accounts", nil)
	accounts, _ := list["service_accounts"].([]any)
	if len(accounts) != 1 {
		t.Fatalf("list = %v", list)
	}
	sa := accounts[0].(map[string]any)
	if sa["name"] != "ci-bot" || sa["role"] != "member" || sa["key_prefix"] != key[:10] || sa["api_key"] != nil {
		t.Fatalf("listed %v", sa)
	}
	// Members lists show people only, not service accounts.
	members := f.as(t, "lead", http.StatusOK, "GET", "/api/v1/teams/ml/members", nil)
	if raw, _ := json.Marshal(members); strings.Contains(string(raw), "ci-bot") {
		t.Errorf("members list shows the service account: %s", raw)
	}

	// Nor do the member routes reach it: its role stays what it was created with.
	saEmail := "ci-bot@ml.service-account.invalid"
	f.as(t, "lead", http.StatusNotFound, "PATCH", "/api/v1/teams/ml/members/"+saEmail, map[string]any{"role": "viewer"})
	f.as(t, "lead", http.StatusNotFound, "DELETE", "/api/v1/teams/ml/members/"+saEmail, nil)

	// Its key logs an artifact; the event and the webhook name it as author.
	f.must(t, http.StatusCreated, "POST", "/api/v1/automations",
		projectAutomation("who", "CREATE_ARTIFACT", `{"author": "${event_author}"}`))
	f.as(t, key, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "model", "type": "model"})
	var got map[string]any
	if err := json.Unmarshal(f.receiver.next(t).Body, &got); err != nil || got["author"] != "ci-bot" {
		t.Fatalf("the receiver got author %v (%v), want ci-bot", got["author"], err)
	}
	events := f.as(t, key, http.StatusOK, "GET", "/api/v1/projects/ml/mnist/events", nil)
	ev := events["events"].([]any)[0].(map[string]any)["vars"].(map[string]any)
	if ev["event_author"] != "ci-bot" {
		t.Errorf("event_author = %v, want ci-bot", ev["event_author"])
	}

	// Nothing beyond its role: no admin routes, no teams or registries.
	f.as(t, key, http.StatusForbidden, "GET", "/api/v1/teams/ml/secrets", nil)
	f.as(t, key, http.StatusForbidden, "POST", "/api/v1/teams/ml/service-accounts", map[string]any{"name": "child", "role": "admin"})
	f.as(t, key, http.StatusForbidden, "POST", "/api/v1/teams", map[string]any{"name": "mine"})
	f.as(t, key, http.StatusForbidden, "POST", "/api/v1/registries", map[string]any{"name": "mine"})

	// It belongs to ml alone: other teams and registries answer as for
	// an email nobody has.
	f.must(t, http.StatusCreated, "POST", "/api/v1/teams", map[string]any{"name": "other"})
	f.must(t, http.StatusCreated, "POST", "/api/v1/registries", map[string]any{"name": "models"})
	for _, path := range []string{"/api/v1/teams/other/members", "/api/v1/registries/models/members"} {
		status, out := f.app.API(t, f.key, "POST", path, map[string]any{"email": saEmail, "role": "member"})
		msg, _ := out["error"].(string)
		if status != http.StatusUnprocessableEntity || out["field"] != "email" || !strings.Contains(msg, "no user has the email") {
			t.Errorf("POST %s with the service account's email: %d %v", path, status, out)
		}
	}
	// And it never signs in through the browser.
	if _, err := models.Authenticate(ctx, f.app.DB, saEmail, ""); !errors.Is(err, models.ErrBadCredentials) {
		t.Errorf("Authenticate(service account) = %v, want ErrBadCredentials", err)
	}

	f.as(t, "lead", http.StatusNoContent, "DELETE", "/api/v1/teams/ml/service-accounts/ci-bot", nil)
	f.as(t, key, http.StatusUnauthorized, "GET", "/api/v1/projects/ml/mnist/events", nil)
	f.as(t, "lead", http.StatusNotFound, "DELETE", "/api/v1/teams/ml/service-accounts/ci-bot", nil)
	if list := f.as(t, "lead", http.StatusOK, "GET", "/api/v1/teams/ml/service-accounts", nil); len(list["service_accounts"].([]any)) != 0 {
		t.Errorf("after delete the list is %v", list)
	}
	// History keeps its name; the name is free again.
	events = f.as(t, "dev", http.StatusOK, "GET", "/api/v1/projects/ml/mnist/events", nil)
	if a := events["events"].([]any)[0].(map[string]any)["vars"].(map[string]any)["event_author"]; a != "ci-bot" {
		t.Errorf("after delete the event's author is %v", a)
	}
	again := f.as(t, "lead", http.StatusCreated, "POST", "/api/v1/teams/ml/service-accounts", map[string]any{"name": "ci-bot", "role": "admin"})
	if again["id"] == created["id"] {
		t.Errorf("the new ci-bot reuses the deleted one's id %v", again["id"])
	}
	f.as(t, "lead", http.StatusCreated, "POST", "/api/v1/teams/ml/service-accounts", map[string]any{"name": "site-made", "role": "member"})
	f.must(t, http.StatusNoContent, "DELETE", "/api/v1/teams/ml/service-accounts/site-made", nil)

	// An admin service account's own changes are recorded under its name.
	adminKey := again["api_key"].(string)
	f.as(t, adminKey, http.StatusCreated, "POST", "/api/v1/teams/ml/queues", map[string]any{"name": "gpu"})
	entries := f.auditEntries(t, "?kind=queue.create")
	if len(entries) != 1 || entries[0]["actor"] != "ci-bot" || entries[0]["target"] != "gpu" {
		t.Errorf("queue.create entries = %v, want one by ci-bot", entries)
	}
	entries = f.auditEntries(t, "?kind=service_account")
	var kinds []string
	for _, e := range entries {
		kinds = append(kinds, e["kind"].(string)+" "+e["target"].(string)+" by "+e["actor"].(string))
	}
	want := []string{
		"service_account.delete site-made by admin@example.com",
		"service_account.create site-made by lead@example.com",
		"service_account.create ci-bot by lead@example.com",
		"service_account.delete ci-bot by lead@example.com",
		"service_account.create ci-bot by lead@example.com",
	}
	if strings.Join(kinds, "\n") != strings.Join(want, "\n") {
		t.Errorf("service account entries, newest first:\n%s\nwant:\n%s", strings.Join(kinds, "\n"), strings.Join(want, "\n"))
	}
	if raw, _ := json.Marshal(entries); strings.Contains(string(raw), key) || strings.Contains(string(raw), adminKey) {
		t.Errorf("the audit log holds an API key: %s", raw)
	}
}

var apiKeyPattern = regexp.MustCompile(`ak_[a-z0-9]{40}`)

// Team Settings → Service accounts: the form creates one and shows its key
// once with a Copy button, keeps the input beside an error, and Delete
// stops the key.
func TestServiceAccountOnTeamSettings(t *testing.T) {
	f := newTeamAdminFixture(t)
	s := f.app.SignInHTTP(t, "lead@example.com")

	status, page := s.PostForm(t, "/teams/ml/service-accounts", url.Values{"name": {"deploy"}, "role": {"admin"}})
	if status != http.StatusCreated {
		t.Fatalf("create: status %d\n%s", status, page)
	}
	shown := between(page, `data-testid="new-sa-key"`, "</div>")
	key := apiKeyPattern.FindString(shown)
	if key == "" || !strings.Contains(shown, `data-testid="copy-sa-key"`) || !strings.Contains(shown, "deploy") {
		t.Fatalf("the new key is not shown once with a Copy button:\n%s", shown)
	}
	row := between(page, `data-testid="sa-deploy"`, "</tr>")
	if !strings.Contains(row, "admin") || !strings.Contains(row, key[:10]) {
		t.Errorf("the list row is %s", row)
	}
	if strings.Contains(between(page, `data-testid="members"`, "</table>"), "deploy") {
		t.Error("the Members table lists the service account")
	}
	f.as(t, key, http.StatusOK, "GET", "/api/v1/teams/ml/secrets", nil) // an admin's call

	// The page, loaded again, lists it without the key.
	_, page = s.Get(t, "/teams/ml")
	if !strings.Contains(page, `data-testid="sa-deploy"`) || strings.Contains(page, key) {
		t.Errorf("Team Settings shows the key again or lacks the account")
	}
	if !strings.Contains(page, `href="/teams/ml/audit-log"`) {
		t.Error("Team Settings does not link the audit log")
	}

	for _, tc := range []struct {
		name, role, wantError string
		wantStatus            int
	}{
		{"deploy", "member", "already has a service account named deploy", http.StatusConflict},
		{"no good", "member", "is not a valid service account name", http.StatusUnprocessableEntity},
		{"reader", "viewer", "is not a service account role", http.StatusUnprocessableEntity},
	} {
		status, page := s.PostForm(t, "/teams/ml/service-accounts", url.Values{"name": {tc.name}, "role": {tc.role}})
		form := between(page, `data-testid="new-sa-form"`, "</form>")
		if status != tc.wantStatus || !strings.Contains(form, tc.wantError) || !strings.Contains(form, `value="`+tc.name+`"`) {
			t.Errorf("create %q as %s: status %d, form:\n%s", tc.name, tc.role, status, form)
		}
		if apiKeyPattern.MatchString(page) {
			t.Errorf("a refused create shows a key")
		}
	}

	// Members and viewers cannot use the form.
	dev := f.app.SignInHTTP(t, "dev@example.com")
	if status, _ := dev.PostForm(t, "/teams/ml/service-accounts", url.Values{"name": {"mine"}, "role": {"member"}}); status != http.StatusForbidden {
		t.Errorf("a member creates a service account: status %d, want 403", status)
	}
	if status, _ := dev.PostForm(t, "/teams/ml/service-accounts/deploy/delete", url.Values{}); status != http.StatusForbidden {
		t.Errorf("a member deletes a service account: status %d, want 403", status)
	}
	if _, devPage := dev.Get(t, "/teams/ml"); strings.Contains(devPage, "service-accounts-section") {
		t.Error("a member sees the Service accounts section")
	}

	status, _, loc := s.PostFormRedirect(t, "/teams/ml/service-accounts/deploy/delete", url.Values{})
	if status != http.StatusSeeOther || loc != "/teams/ml#service-accounts" {
		t.Fatalf("delete: %d to %q", status, loc)
	}
	f.as(t, key, http.StatusUnauthorized, "GET", "/api/v1/teams/ml/secrets", nil)
	if _, page := s.Get(t, "/teams/ml"); strings.Contains(page, `data-testid="sa-deploy"`) {
		t.Error("the deleted account is still listed")
	}
}

// The New service account form in Chromium: the key appears once, and
// Copy (static/copy.js) hands it to the clipboard.
func TestServiceAccountBrowser(t *testing.T) {
	f := newTeamAdminFixture(t)
	ctx := webtest.NewBrowser(t)
	f.app.SignIn(t, ctx, "lead@example.com")
	webtest.Do(t, ctx, "create a service account",
		chromedp.Navigate(f.app.URL+"/teams/ml"),
		chromedp.WaitVisible(webtest.TestID("new-sa-form")),
		chromedp.SendKeys(webtest.TestID("sa-name"), "nightly"),
		webtest.ClickNav(webtest.TestID("create-sa")),
		chromedp.WaitVisible(webtest.TestID("new-sa-key-value")),
		chromedp.WaitVisible(webtest.TestID("sa-nightly")),
	)
	key, err := chromedp.Run(ctx, chromedp.Text(webtest.TestID("new-sa-key-value")))
	if err != nil || !apiKeyPattern.MatchString(key) {
		t.Fatalf("shown key = %q (%v)", key, err)
	}
	// Headless Chromium has no clipboard to read back, so the page's
	// clipboard is replaced by one that remembers what it was given.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`navigator.clipboard.writeText = (s) => { window.__copied = s; return Promise.resolve() }; true`)); err != nil {
		t.Fatal(err)
	}
	webtest.Do(t, ctx, "copy the key", chromedp.Click(webtest.TestID("copy-sa-key")))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('[data-testid="copy-sa-key"]').textContent === 'Copied'`)); err != nil {
		t.Fatalf("Copy never finished: %v", err)
	}
	copied, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.__copied`))
	if err != nil || copied != key {
		t.Errorf("Copy gave the clipboard %q (%v), want the key", copied, err)
	}
	f.as(t, key, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "m", "type": "model"})

	// Delete asks first; accepting removes the row and the key stops working.
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	asked := make(chan string, 1)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			asked <- ev.Message
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	webtest.Do(t, ctx, "delete nightly",
		chromedp.Click(in("sa-nightly", "delete-sa")),
		chromedp.WaitNotPresent(webtest.TestID("sa-nightly")),
	)
	if msg := <-asked; !strings.Contains(msg, "nightly") {
		t.Errorf("the confirmation asked %q", msg)
	}
	f.as(t, key, http.StatusUnauthorized, "GET", "/api/v1/projects/ml/mnist/events", nil)
}
