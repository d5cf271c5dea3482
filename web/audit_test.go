package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/automations-dev/automations/models/audit"
	"github.com/automations-dev/automations/web/webtest"
)

// Secret values the audit test stores and rotates; none may reach the log.
const (
	auditedValue  = "audited-VALUE-5f1c2b7e9d"
	rotatedValue  = "rotated-VALUE-8a3e6c0f4b"
	formValue     = "form-VALUE-2d9b7f1a6e"
	auditedSecret = "AUDITED"
)

// allAuditRows reads every entry straight from the table, newest first.
func allAuditRows(t *testing.T, app *webtest.App) []audit.Entry {
	t.Helper()
	var rows []audit.Entry
	if err := app.DB.Order("id DESC").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

// Every kind of change DESIGN.md §13 names, made through the real routes
// (API and forms), leaves one entry in the right log with the actor, the
// target and before/after; no entry holds a secret's value.
func TestAuditLogRecordsEveryChange(t *testing.T) {
	f := newTeamAdminFixture(t)
	ctx := context.Background()
	lead := f.app.SignInHTTP(t, "lead@example.com")
	f.app.User(t, "nina@example.com", false)
	f.must(t, http.StatusCreated, "POST", "/api/v1/registries", map[string]any{"name": "models"})
	hookURL := f.receiver.URL + "/audited"
	var automationID any
	var apiKeyID string

	form := func(path string, values url.Values) func(t *testing.T) {
		return func(t *testing.T) {
			if status, body := lead.PostForm(t, path, values); status != http.StatusSeeOther && status != http.StatusCreated {
				t.Fatalf("POST %s: status %d\n%s", path, status, body)
			}
		}
	}
	api := func(who string, want int, method, path string, body any) func(t *testing.T) {
		return func(t *testing.T) { f.as(t, who, want, method, path, body) }
	}

	for _, tc := range []struct {
		name       string
		do         func(t *testing.T)
		log        string // "team" (ml), "registry" (models) or "site"
		actor      string
		kind       string
		target     string
		wantBefore string // a fragment of before, when it matters
		wantAfter  string
	}{
		{name: "add member", do: api("lead", 201, "POST", "/api/v1/teams/ml/members", map[string]any{"email": "nina@example.com", "role": "viewer"}),
			log: "team", actor: "lead@example.com", kind: "member.add", target: "nina@example.com", wantAfter: `"role":"viewer"`},
		{name: "change role", do: api("lead", 200, "PATCH", "/api/v1/teams/ml/members/nina@example.com", map[string]any{"role": "member"}),
			log: "team", actor: "lead@example.com", kind: "member.role", target: "nina@example.com", wantBefore: `"role":"viewer"`, wantAfter: `"role":"member"`},
		{name: "remove member", do: api("lead", 204, "DELETE", "/api/v1/teams/ml/members/nina@example.com", nil),
			log: "team", actor: "lead@example.com", kind: "member.remove", target: "nina@example.com", wantBefore: `"role":"member"`},
		{name: "add member by form", do: form("/teams/ml/members", url.Values{"email": {"nina@example.com"}, "role": {"member"}}),
			log: "team", actor: "lead@example.com", kind: "member.add", target: "nina@example.com"},
		{name: "add registry member", do: api(f.key, 201, "POST", "/api/v1/registries/models/members", map[string]any{"email": "nina@example.com", "role": "member"}),
			log: "registry", actor: "admin@example.com", kind: "member.add", target: "nina@example.com"},
		{name: "registry role", do: api(f.key, 200, "PATCH", "/api/v1/registries/models/members/nina@example.com", map[string]any{"role": "admin"}),
			log: "registry", actor: "admin@example.com", kind: "member.role", target: "nina@example.com", wantAfter: `"role":"admin"`},
		{name: "create secret", do: api("lead", 201, "POST", "/api/v1/teams/ml/secrets", map[string]any{"name": auditedSecret, "value": auditedValue}),
			log: "team", actor: "lead@example.com", kind: "secret.create", target: auditedSecret},
		{name: "rotate secret", do: api("lead", 200, "PATCH", "/api/v1/teams/ml/secrets/"+auditedSecret, map[string]any{"value": rotatedValue}),
			log: "team", actor: "lead@example.com", kind: "secret.update", target: auditedSecret},
		{name: "rotate secret by form", do: form("/teams/ml/secrets/"+auditedSecret, url.Values{"value": {formValue}}),
			log: "team", actor: "lead@example.com", kind: "secret.update", target: auditedSecret},
		{name: "create webhook", do: api("lead", 201, "POST", "/api/v1/teams/ml/webhooks", map[string]any{
			"name": "audited-hook", "url": hookURL, "access_token_secret": auditedSecret, "secrets": []string{"EXTRA"}}),
			log: "team", actor: "lead@example.com", kind: "webhook.create", target: "audited-hook",
			wantAfter: `"url":"` + hookURL + `"`},
		{name: "edit webhook", do: api("lead", 200, "PATCH", "/api/v1/teams/ml/webhooks/audited-hook", map[string]any{"url": hookURL + "/v2"}),
			log: "team", actor: "lead@example.com", kind: "webhook.update", target: "audited-hook",
			wantBefore: `"url":"` + hookURL + `"`, wantAfter: `"url":"` + hookURL + `/v2"`},
		{name: "create automation", do: func(t *testing.T) {
			a := f.as(t, "lead", 201, "POST", "/api/v1/automations", projectAutomation("audited-auto", "CREATE_ARTIFACT", `{"v": "${artifact_version_string}"}`))
			automationID = a["id"]
		}, log: "team", actor: "lead@example.com", kind: "automation.create", target: "audited-auto", wantAfter: `"enabled":true`},
		{name: "edit automation", do: func(t *testing.T) {
			f.as(t, "lead", 200, "PATCH", fmt.Sprint("/api/v1/automations/", automationID), map[string]any{"description": "changed"})
		}, log: "team", actor: "lead@example.com", kind: "automation.update", target: "audited-auto",
			wantBefore: `"description":"test"`, wantAfter: `"description":"changed"`},
		{name: "disable automation by form", do: func(t *testing.T) {
			form(fmt.Sprint("/automations/", automationID, "/toggle"), url.Values{})(t)
		}, log: "team", actor: "lead@example.com", kind: "automation.disable", target: "audited-auto", wantAfter: `"enabled":false`},
		{name: "enable automation by API", do: func(t *testing.T) {
			f.as(t, "lead", 200, "PATCH", fmt.Sprint("/api/v1/automations/", automationID), map[string]any{"enabled": true})
		}, log: "team", actor: "lead@example.com", kind: "automation.enable", target: "audited-auto", wantAfter: `"enabled":true`},
		{name: "delete automation", do: func(t *testing.T) {
			f.as(t, "lead", 204, "DELETE", fmt.Sprint("/api/v1/automations/", automationID), nil)
		}, log: "team", actor: "lead@example.com", kind: "automation.delete", target: "audited-auto", wantBefore: `"name":"audited-auto"`},
		{name: "delete webhook", do: api("lead", 204, "DELETE", "/api/v1/teams/ml/webhooks/audited-hook", nil),
			log: "team", actor: "lead@example.com", kind: "webhook.delete", target: "audited-hook"},
		{name: "delete secret", do: api("lead", 204, "DELETE", "/api/v1/teams/ml/secrets/"+auditedSecret, nil),
			log: "team", actor: "lead@example.com", kind: "secret.delete", target: auditedSecret},
		{name: "create queue", do: api("lead", 201, "POST", "/api/v1/teams/ml/queues", map[string]any{"name": "audited-q"}),
			log: "team", actor: "lead@example.com", kind: "queue.create", target: "audited-q"},
		{name: "delete queue by form", do: form("/teams/ml/queues/audited-q/delete", url.Values{}),
			log: "team", actor: "lead@example.com", kind: "queue.delete", target: "audited-q"},
		{name: "create service account", do: api("lead", 201, "POST", "/api/v1/teams/ml/service-accounts", map[string]any{"name": "audited-sa", "role": "member"}),
			log: "team", actor: "lead@example.com", kind: "service_account.create", target: "audited-sa", wantAfter: `"role":"member"`},
		{name: "delete service account", do: api("lead", 204, "DELETE", "/api/v1/teams/ml/service-accounts/audited-sa", nil),
			log: "team", actor: "lead@example.com", kind: "service_account.delete", target: "audited-sa"},
		{name: "create API key", do: func(t *testing.T) {
			status, page := lead.PostForm(t, "/settings/api-keys", url.Values{"name": {"audited-key"}})
			m := regexp.MustCompile(`/settings/api-keys/(\d+)/revoke`).FindStringSubmatch(page)
			if status != http.StatusCreated || m == nil {
				t.Fatalf("New API key: status %d", status)
			}
			apiKeyID = m[1]
		}, log: "site", actor: "lead@example.com", kind: "api_key.create", target: "lead@example.com", wantAfter: `"name":"audited-key"`},
		{name: "revoke API key", do: func(t *testing.T) {
			form("/settings/api-keys/"+apiKeyID+"/revoke", url.Values{})(t)
		}, log: "site", actor: "lead@example.com", kind: "api_key.revoke", target: "lead@example.com", wantBefore: `"name":"audited-key"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(allAuditRows(t, f.app))
			tc.do(t)
			rows := allAuditRows(t, f.app)
			if len(rows) != before+1 {
				t.Fatalf("%d entries were recorded, want 1", len(rows)-before)
			}
			e := rows[0]
			var where string
			switch {
			case e.TeamID != nil:
				where = "team"
			case e.RegistryID != nil:
				where = "registry"
			default:
				where = "site"
			}
			if where != tc.log || e.Kind != tc.kind || e.Target != tc.target || e.ActorName != tc.actor || e.ActorID == nil {
				t.Errorf("entry = %s log, %s %q by %q; want %s log, %s %q by %q", where, e.Kind, e.Target, e.ActorName, tc.log, tc.kind, tc.target, tc.actor)
			}
			if !strings.Contains(e.Before, tc.wantBefore) || !strings.Contains(e.After, tc.wantAfter) {
				t.Errorf("before %s, after %s; want them to hold %s and %s", e.Before, e.After, tc.wantBefore, tc.wantAfter)
			}
			for _, side := range []string{e.Before, e.After} {
				if side != "" && !json.Valid([]byte(side)) {
					t.Errorf("before/after is not JSON: %s", side)
				}
			}
			if where == "team" { // the team's own API shows it, newest first
				if got := f.auditEntries(t, "?limit=1"); len(got) != 1 || got[0]["id"] != float64(e.ID) || got[0]["kind"] != tc.kind {
					t.Errorf("the API's newest entry is %v, want id %d", got, e.ID)
				}
			}
		})
	}

	// No entry holds any secret value this server was given.
	for _, e := range allAuditRows(t, f.app) {
		row := e.Target + e.Before + e.After + e.ActorName
		for _, v := range []string{auditedValue, rotatedValue, formValue, tokenValue, signingValue, extraValue, "other-value"} {
			if strings.Contains(row, v) {
				t.Errorf("audit entry %d (%s) holds a secret value: %s", e.ID, e.Kind, row)
			}
		}
	}
	var n int64
	if err := f.app.DB.WithContext(ctx).Model(&audit.Entry{}).
		Where("before LIKE ? OR after LIKE ?", "%VALUE-%", "%VALUE-%").Count(&n).Error; err != nil || n != 0 {
		t.Errorf("%d rows hold a secret value (%v)", n, err)
	}
}

// Slack integrations connected and deleted from Team Settings are recorded.
func TestAuditLogRecordsSlackIntegrations(t *testing.T) {
	f := newSlackFixture(t)
	s := f.app.SignInHTTP(t, "alice@example.com")
	state := f.connect(t, s)
	if status, _, _ := s.GetRedirect(t, callbackPath(f.fake.IssueCode(), state)); status != http.StatusSeeOther {
		t.Fatalf("callback: status %d", status)
	}
	if status, _ := s.PostForm(t, "/teams/ml/slack/integrations", url.Values{"channel": {"C0ALERTS"}}); status != http.StatusSeeOther {
		t.Fatalf("connect #alerts: status %d", status)
	}
	all := f.integrations(t)
	if len(all) != 1 {
		t.Fatalf("integrations = %+v", all)
	}
	if status, _ := s.PostForm(t, fmt.Sprintf("/teams/ml/slack/integrations/%d/delete", all[0].ID), url.Values{}); status != http.StatusSeeOther {
		t.Fatalf("delete: status %d", status)
	}
	rows := allAuditRows(t, f.app)
	var got []string
	for _, e := range rows {
		if e.TeamID != nil && *e.TeamID == f.team.ID && strings.HasPrefix(e.Kind, "slack.") {
			got = append(got, e.Kind+" "+e.Target+" by "+e.ActorName)
		}
		if strings.Contains(e.Before+e.After, f.fake.BotToken) {
			t.Errorf("entry %s holds the bot token", e.Kind)
		}
	}
	want := "slack.delete #alerts by alice@example.com\nslack.create #alerts by alice@example.com"
	if strings.Join(got, "\n") != want {
		t.Errorf("slack entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
}

// The log filters by actor and kind, pages with before/next_before, and is
// for team admins and site admins only.
func TestAuditLogFiltersPagesAndRoles(t *testing.T) {
	f := newTeamAdminFixture(t)
	f.as(t, "lead", http.StatusCreated, "POST", "/api/v1/teams/ml/queues", map[string]any{"name": "q-lead"})
	f.must(t, http.StatusCreated, "POST", "/api/v1/teams/ml/queues", map[string]any{"name": "q-admin"})
	f.as(t, "lead", http.StatusCreated, "POST", "/api/v1/teams/ml/secrets", map[string]any{"name": "LEADS", "value": "v-lead-1234"})

	targets := func(entries []map[string]any) string {
		var out []string
		for _, e := range entries {
			out = append(out, fmt.Sprint(e["kind"], " ", e["target"], " by ", e["actor"]))
		}
		return strings.Join(out, "; ")
	}
	for _, tc := range []struct{ query, want string }{
		{"?actor=lead@example.com", "secret.create LEADS by lead@example.com; queue.create q-lead by lead@example.com"},
		{"?actor=LEAD@example.com&kind=queue", "queue.create q-lead by lead@example.com"},
		{"?kind=queue", "queue.create q-admin by admin@example.com; queue.create q-lead by lead@example.com"},
		{"?kind=queue.create&actor=admin@example.com", "queue.create q-admin by admin@example.com"},
		{"?kind=secret.delete", ""},
		{"?actor=nobody@example.com", ""},
	} {
		if got := targets(f.auditEntries(t, tc.query)); got != tc.want {
			t.Errorf("%s: %s\nwant %s", tc.query, got, tc.want)
		}
	}

	// Paging with limit and next_before walks the whole log once, newest first.
	all := f.auditEntries(t, "?limit=200")
	if len(all) < 10 { // fixture secrets, webhook, members, plus the three above
		t.Fatalf("only %d entries", len(all))
	}
	var walked []any
	query := "?limit=3"
	for page := 0; ; page++ {
		out := f.as(t, "lead", http.StatusOK, "GET", "/api/v1/teams/ml/audit-log"+query, nil)
		for _, e := range out["entries"].([]any) {
			walked = append(walked, e.(map[string]any)["id"])
		}
		next, ok := out["next_before"].(float64)
		if !ok {
			break
		}
		if page > 100 {
			t.Fatal("paging never ends")
		}
		query = fmt.Sprintf("?limit=3&before=%d", int64(next))
	}
	if len(walked) != len(all) {
		t.Fatalf("paging saw %d entries, the full list has %d", len(walked), len(all))
	}
	for i := range all {
		if walked[i] != all[i]["id"] {
			t.Fatalf("paging order differs at %d: %v vs %v", i, walked[i], all[i]["id"])
		}
		if i > 0 && all[i]["id"].(float64) >= all[i-1]["id"].(float64) {
			t.Fatalf("entries are not newest first at %d", i)
		}
	}
	for _, q := range []string{"?before=abc", "?limit=0", "?limit=201"} {
		f.as(t, "lead", http.StatusUnprocessableEntity, "GET", "/api/v1/teams/ml/audit-log"+q, nil)
	}

	// Roles: team admins and site admins read it; others do not.
	f.must(t, http.StatusOK, "GET", "/api/v1/teams/ml/audit-log", nil)
	for who, want := range map[string]int{"dev": http.StatusForbidden, "vera": http.StatusForbidden, "olga": http.StatusNotFound} {
		f.as(t, who, want, "GET", "/api/v1/teams/ml/audit-log", nil)
		s := f.app.SignInHTTP(t, who+"@example.com")
		if status, _ := s.Get(t, "/teams/ml/audit-log"); status != want {
			t.Errorf("%s opens the audit log page: status %d, want %d", who, status, want)
		}
		if status, _ := s.Get(t, "/admin/audit-log"); status != http.StatusForbidden {
			t.Errorf("%s opens the site audit log: status %d, want 403", who, status)
		}
	}

	// The page: filters kept in the form and in the Older link.
	lead := f.app.SignInHTTP(t, "lead@example.com")
	status, page := lead.Get(t, "/teams/ml/audit-log?actor=lead%40example.com&limit=1")
	if status != http.StatusOK || strings.Count(page, `data-testid="audit-entry"`) != 1 ||
		!strings.Contains(between(page, `data-testid="audit-entries"`, "</table>"), "LEADS") {
		t.Fatalf("filtered page: %d\n%s", status, page)
	}
	older := regexp.MustCompile(`href="(/teams/ml/audit-log\?[^"]+)"[^>]*data-testid="audit-older"`).FindStringSubmatch(page)
	if older == nil || !strings.Contains(older[1], "actor=lead%40example.com") || !strings.Contains(older[1], "limit=1") {
		t.Fatalf("no Older link keeping the actor filter:\n%s", page)
	}
	_, page = lead.Get(t, strings.ReplaceAll(older[1], "&amp;", "&"))
	if !strings.Contains(between(page, `data-testid="audit-entries"`, "</table>"), "q-lead") || strings.Contains(page, "LEADS") {
		t.Errorf("the Older page does not show the next entry:\n%s", page)
	}
	if status, _ := lead.Get(t, "/admin/audit-log"); status != http.StatusForbidden {
		t.Errorf("a team admin opens the site audit log: status %d", status)
	}

	// Site admins read everything, with where each entry belongs.
	admin := f.app.SignInHTTP(t, "admin@example.com")
	status, page = admin.Get(t, "/admin/audit-log?kind=queue")
	if status != http.StatusOK || strings.Count(page, `data-testid="audit-entry"`) != 2 || !strings.Contains(page, "team ml") {
		t.Errorf("site audit log: %d\n%s", status, page)
	}
}
