package web_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/secretbox"
)

// Secrets and webhooks are for team admins and site admins (DESIGN.md §9).
// Every route, sent directly by a member or viewer (403) or a non-member
// (404), changes nothing and sends nothing; the same requests by a site admin
// who is not a member succeed.
func TestIntegrationRoutesRefuseNonAdmins(t *testing.T) {
	f := newIntegrations(t)
	ctx := context.Background()
	if status, out := f.app.API(t, f.adminKey, "POST", "/api/v1/teams/ml/secrets", map[string]string{"name": "SPARE", "value": "spare-value"}); status != 201 {
		t.Fatalf("%d %v", status, out)
	}
	if status, out := f.app.API(t, f.adminKey, "POST", "/api/v1/teams/ml/webhooks", map[string]string{"name": "spare", "url": "https://spare.example.com"}); status != 201 {
		t.Fatalf("%d %v", status, out)
	}
	type state struct {
		secrets []string
		token   string
		ciURL   string
		hooks   int
	}
	box, err := secretbox.Open(ctx, "", f.app.Keys.Encryption)
	if err != nil {
		t.Fatal(err)
	}
	defer box.Close()
	snapshot := func() state {
		t.Helper()
		ci := f.webhook(t, "ci")
		r, err := models.ResolveWebhook(ctx, f.app.DB, box, f.team.ID, ci.ID)
		if err != nil {
			t.Fatal(err)
		}
		hooks, _ := models.WebhooksOf(ctx, f.app.DB, f.team.ID)
		return state{secrets: f.secretNames(t), token: r.AccessToken, ciURL: ci.URL, hooks: len(hooks)}
	}
	before := snapshot()

	type form struct {
		method, path string
		values       url.Values
	}
	forms := []form{
		{"POST", "/teams/ml/secrets", url.Values{"name": {"NEW_SECRET"}, "value": {"x"}}},
		{"POST", "/teams/ml/secrets/GITHUB_TOKEN", url.Values{"value": {"hijacked"}}},
		{"POST", "/teams/ml/secrets/SPARE/delete", url.Values{}},
		{"POST", "/teams/ml/webhooks", url.Values{"name": {"evil"}, "url": {"https://evil.example.com"}}},
		{"GET", "/teams/ml/webhooks/ci/edit", nil},
		{"POST", "/teams/ml/webhooks/ci", url.Values{"name": {"ci"}, "url": {"https://evil.example.com"}}},
		{"POST", "/teams/ml/webhooks/spare/delete", url.Values{}},
		{"GET", "/teams/ml/webhooks/ci/test", nil},
		{"POST", "/teams/ml/webhooks/ci/test", url.Values{"payload": {"{}"}}},
	}
	type api struct {
		method, path string
		body         any
	}
	apis := []api{
		{"GET", "/api/v1/teams/ml/secrets", nil},
		{"POST", "/api/v1/teams/ml/secrets", map[string]string{"name": "NEW_SECRET", "value": "x"}},
		{"PATCH", "/api/v1/teams/ml/secrets/GITHUB_TOKEN", map[string]string{"value": "hijacked"}},
		{"DELETE", "/api/v1/teams/ml/secrets/SPARE", nil},
		{"GET", "/api/v1/teams/ml/webhooks", nil},
		{"POST", "/api/v1/teams/ml/webhooks", map[string]string{"name": "evil", "url": "https://evil.example.com"}},
		{"GET", "/api/v1/teams/ml/webhooks/ci", nil},
		{"PATCH", "/api/v1/teams/ml/webhooks/ci", map[string]string{"url": "https://evil.example.com"}},
		{"DELETE", "/api/v1/teams/ml/webhooks/spare", nil},
		{"POST", "/api/v1/teams/ml/webhooks/ci/test", map[string]string{"payload": "{}"}},
	}
	users := map[string]*models.User{"member@example.com": f.member, "viewer@example.com": f.viewer, "other@example.com": f.other}
	for _, who := range []string{"member@example.com", "viewer@example.com", "other@example.com"} {
		want := http.StatusForbidden
		if who == "other@example.com" {
			want = http.StatusNotFound
		}
		s := f.app.SignInHTTP(t, who)
		for _, c := range forms {
			var status int
			var body string
			if c.method == "GET" {
				status, body = s.Get(t, c.path)
			} else {
				status, body = s.PostForm(t, c.path, c.values)
			}
			if status != want {
				t.Errorf("%s %s %s: %d, want %d", who, c.method, c.path, status, want)
			}
			assertNoSecret(t, who+" "+c.path, body)
		}
		key := f.app.APIKey(t, users[who])
		for _, c := range apis {
			status, out := f.app.API(t, key, c.method, c.path, c.body)
			if status != want || out["error"] == nil {
				t.Errorf("%s API %s %s: %d %v, want %d with an error", who, c.method, c.path, status, out, want)
			}
		}
	}
	after := snapshot()
	if !slices.Equal(after.secrets, before.secrets) || after.token != before.token || after.ciURL != before.ciURL || after.hooks != before.hooks {
		t.Fatalf("refused requests changed something: %+v, was %+v", after, before)
	}
	if n := len(f.recv.requests()); n != 0 {
		t.Fatalf("refused test sends reached the receiver: %d", n)
	}

	// A member sees the page but none of the controls or names.
	member := f.app.SignInHTTP(t, "member@example.com")
	_, page := member.Get(t, "/teams/ml")
	for _, hidden := range []string{`data-testid="new-secret"`, `data-testid="new-webhook"`, "GITHUB_TOKEN", f.recv.URL} {
		if strings.Contains(page, hidden) {
			t.Errorf("a member's Team Settings page shows %q", hidden)
		}
	}
	if !strings.Contains(page, `data-testid="integrations-note"`) {
		t.Error("a member's page lacks the note on who manages secrets")
	}

	// A site admin who is not a member may do it all.
	site := f.app.APIKey(t, f.site)
	for _, c := range []api{
		{"POST", "/api/v1/teams/ml/secrets", map[string]string{"name": "SITE_SECRET", "value": "x"}},
		{"PATCH", "/api/v1/teams/ml/secrets/SPARE", map[string]string{"value": "y"}},
		{"DELETE", "/api/v1/teams/ml/webhooks/spare", nil},
		{"DELETE", "/api/v1/teams/ml/secrets/SPARE", nil},
		{"POST", "/api/v1/teams/ml/webhooks/ci/test", map[string]string{"payload": "{}"}},
	} {
		if status, out := f.app.API(t, site, c.method, c.path, c.body); status >= 300 {
			t.Errorf("site admin %s %s: %d %v", c.method, c.path, status, out)
		}
	}
	siteSession := f.app.SignInHTTP(t, "site@example.com")
	if _, page := siteSession.Get(t, "/teams/ml"); !strings.Contains(page, `data-testid="new-secret"`) {
		t.Error("a site admin does not see New secret")
	}
}
