package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/redact"
	"github.com/automations-dev/automations/web/webtest"
)

// Secret values with every character some encoding escapes: quotes,
// backslashes, <>&, slashes, spaces, plus signs and non-ASCII.
var leakSecrets = map[string]string{
	"TOKEN":   `tök"en<&>\-0123456789`,
	"SIGN":    `sïgn'"<>&\/-abcdef`,
	"API_KEY": `pässwörd"<&>\-api-xyz`,
	"DB_PASS": "db/pass&word with spaces+plus=é",
}

// echoDump is the request as an echoing endpoint sees it: request line,
// headers, body.
func echoDump(r *http.Request, body []byte) string {
	names := make([]string, 0, len(r.Header))
	for n := range r.Header {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s\n", r.Method, r.URL.RequestURI(), r.Proto)
	for _, n := range names {
		for _, v := range r.Header[n] {
			fmt.Fprintf(&b, "%s: %s\n", n, v)
		}
	}
	b.WriteString("\n")
	b.Write(body)
	return b.String()
}

func jsonText(s string, escapeHTML bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	_ = enc.Encode(s)
	out := strings.TrimSuffix(b.String(), "\n")
	return out[1 : len(out)-1]
}

// asciiJSON escapes s as JSON encoders that keep to ASCII do (\u00e4).
func asciiJSON(s string) string {
	var b strings.Builder
	for _, r := range jsonText(s, true) {
		if r > 0x7e {
			fmt.Fprintf(&b, `\u%04x`, r)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// newEchoReceiver answers every request with all of it, in its body and
// headers, raw and JSON-, URL-, HTML- and base64-encoded.
func newEchoReceiver(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		dump := echoDump(r, body)
		b64 := base64.StdEncoding.EncodeToString([]byte(dump))
		w.Header().Set("X-Echo-Authorization", r.Header.Get("Authorization"))
		w.Header().Set("X-Echo-Base64", b64)
		w.Header().Set("X-Echo-Url", url.QueryEscape(dump))
		w.Header().Set("X-Echo-Json", asciiJSON(dump))
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "ECHO raw:\n%s\njson: %s\njson-no-html: %s\njson-ascii: %s\nurl: %s\npath: %s\nhtml: %s\nbase64: %s\nbase64url: %s\n",
			dump, jsonText(dump, true), jsonText(dump, false), asciiJSON(dump), url.QueryEscape(dump), url.PathEscape(dump),
			html.EscapeString(dump), b64, base64.RawURLEncoding.EncodeToString([]byte(dump)))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// searchForms are the spellings of a secret value searched for: written
// out here independently of models/redact, then joined by its Forms.
func searchForms(v string) []string {
	var out []string
	for _, base := range []string{v, jsonText(v, true), jsonText(v, false), asciiJSON(v)} {
		out = append(out, base, jsonText(base, true), jsonText(base, false), html.EscapeString(base),
			url.QueryEscape(base), url.PathEscape(base), base64.StdEncoding.EncodeToString([]byte(base)),
			base64.RawURLEncoding.EncodeToString([]byte(base)))
	}
	out = append(out, redact.Forms(v)...)
	slices.Sort(out)
	return slices.Compact(out)
}

// lockedBuffer collects the server's log lines, written from many goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// An endpoint that echoes everything it got, in every encoding, after real
// deliveries and a Test-panel send: no page or API answer for any role, no
// log line and no database row holds any secret value in any encoding.
// Only site admins and the integration team's admins see response bodies,
// headers and the endpoint URL, and theirs are redacted.
//
// Searched: the API (automations list, each automation, its deliveries,
// the team's webhooks and the webhook, the Test-panel answer) and the pages
// (automation details, the history fragment, the project's and registry's
// automation lists, Team Settings, the webhook's edit page and Test panel
// and its result, the wizard) as site admin, team admin, team member, team
// viewer and registry viewer; every line the server and worker logged at
// debug level and up; and every text value of every row of every table the
// database's catalogue lists.
func TestEchoedSecretsLeakNowhere(t *testing.T) {
	rcv := newEchoReceiver(t)
	var logs lockedBuffer
	app := webtest.StartLogging(t, &logs, webtest.WithAllowedTargets("127.0.0.1"))
	site := app.User(t, "site@example.com", true)
	siteKey := app.APIKey(t, site)
	must := func(want int, method, path string, body any) map[string]any {
		t.Helper()
		status, out := app.API(t, siteKey, method, path, body)
		if status != want {
			t.Fatalf("%s %s: status %d, want %d: %v", method, path, status, want, out)
		}
		return out
	}
	must(http.StatusCreated, "POST", "/api/v1/teams", map[string]any{"name": "ml"})
	must(http.StatusCreated, "POST", "/api/v1/teams/ml/projects", map[string]any{"name": "mnist"})
	must(http.StatusCreated, "POST", "/api/v1/registries", map[string]any{"name": "models"})
	for name, value := range leakSecrets {
		must(http.StatusCreated, "POST", "/api/v1/teams/ml/secrets", map[string]any{"name": name, "value": value})
	}
	must(http.StatusCreated, "POST", "/api/v1/teams/ml/webhooks", map[string]any{
		"name": "ci", "url": rcv.URL + "/hook", "access_token_secret": "TOKEN", "signing_secret": "SIGN",
		"secrets": []string{"API_KEY", "DB_PASS", "SIGN"},
	})
	roles := []struct{ email, team string }{
		{"teamadmin@example.com", "admin"}, {"member@example.com", "member"}, {"viewer@example.com", "viewer"}, {"regviewer@example.com", ""},
	}
	keys := map[string]string{"site@example.com": siteKey}
	for _, r := range roles {
		keys[r.email] = app.APIKey(t, app.User(t, r.email, false))
		if r.team != "" {
			must(http.StatusCreated, "POST", "/api/v1/teams/ml/members", map[string]any{"email": r.email, "role": r.team})
		}
		must(http.StatusCreated, "POST", "/api/v1/registries/models/members", map[string]any{"email": r.email, "role": "viewer"})
	}

	const tpl = `{"key": "${API_KEY}", "db": "$DB_PASS", "token": "${ACCESS_TOKEN}", "sign": "${SIGN}", "v": "${artifact_version_string}"}`
	proj := must(http.StatusCreated, "POST", "/api/v1/automations", projectAutomation("on-create", "CREATE_ARTIFACT", tpl))
	reg := must(http.StatusCreated, "POST", "/api/v1/automations", map[string]any{
		"name": "on-link", "scope": map[string]any{"type": "registry", "registry": "models"},
		"event":  map[string]any{"type": "LINK_ARTIFACT"},
		"action": map[string]any{"type": "webhook", "team": "ml", "webhook": "ci", "payload": tpl},
	})
	v := must(http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "m", "type": "model"})
	must(http.StatusCreated, "POST", fmt.Sprintf("/api/v1/artifacts/%v/links", v["id"]), map[string]any{"registry": "models", "collection": "clf"})
	f := &automationFixture{app: app, key: siteKey}
	for _, a := range []map[string]any{proj, reg} {
		f.deliveries(t, a["id"], allIn("succeeded", 1))
	}

	answers := map[string]string{} // "who: what" → answer
	teamAdmin := app.SignInHTTP(t, "teamadmin@example.com")
	testPayload := url.Values{"payload": {tpl}}
	_, answers["teamadmin: Test panel result (htmx)"] = teamAdmin.PostFormHTMX(t, "/teams/ml/webhooks/ci/test", testPayload)
	_, answers["teamadmin: Test panel result (page)"] = teamAdmin.PostForm(t, "/teams/ml/webhooks/ci/test", testPayload)
	status, raw := app.APIRaw(t, keys["teamadmin@example.com"], "POST", "/api/v1/teams/ml/webhooks/ci/test", map[string]any{"payload": tpl})
	answers["teamadmin: API webhook test"] = string(raw)
	if status != http.StatusOK || !strings.Contains(string(raw), "ECHO raw:") || !strings.Contains(string(raw), redact.Marker) {
		t.Fatalf("the API test send got no redacted echo: %d %s", status, raw)
	}
	if !strings.Contains(answers["teamadmin: Test panel result (htmx)"], "ECHO raw:") {
		t.Fatalf("the Test panel shows no echo: %s", answers["teamadmin: Test panel result (htmx)"])
	}

	apiPaths := []string{"/api/v1/automations", "/api/v1/teams/ml/webhooks", "/api/v1/teams/ml/webhooks/ci"}
	pages := []string{"/projects/ml/mnist/automations", "/registries/models/automations", "/teams/ml",
		"/teams/ml/webhooks/ci/edit", "/teams/ml/webhooks/ci/test", "/projects/ml/mnist/automations/new?team=ml&step=action"}
	for _, a := range []map[string]any{proj, reg} {
		id := fmt.Sprint(a["id"])
		apiPaths = append(apiPaths, "/api/v1/automations/"+id, "/api/v1/automations/"+id+"/deliveries")
		pages = append(pages, "/automations/"+id, "/automations/"+id+"/deliveries")
	}
	endpoint := strings.TrimPrefix(rcv.URL, "http://")
	for _, who := range []string{"site@example.com", "teamadmin@example.com", "member@example.com", "viewer@example.com", "regviewer@example.com"} {
		full := who == "site@example.com" || who == "teamadmin@example.com"
		for _, p := range apiPaths {
			_, raw := app.APIRaw(t, keys[who], "GET", p, nil)
			answers[who+": GET "+p] = string(raw)
		}
		s := app.SignInHTTP(t, who)
		for _, p := range pages {
			_, answers[who+": page "+p] = s.Get(t, p)
		}
		_, answers[who+": htmx /automations/"+fmt.Sprint(reg["id"])+"/deliveries"] = s.GetHTMX(t, "/automations/"+fmt.Sprint(reg["id"])+"/deliveries")

		// What each may see of the registry automation's delivery, which
		// every one of them may view.
		var hist struct {
			Deliveries []models.DeliveryWithAttempts `json:"deliveries"`
		}
		if err := json.Unmarshal([]byte(answers[who+": GET /api/v1/automations/"+fmt.Sprint(reg["id"])+"/deliveries"]), &hist); err != nil || len(hist.Deliveries) != 1 || len(hist.Deliveries[0].AttemptList) != 1 {
			t.Fatalf("%s: deliveries answer: %v %+v", who, err, hist)
		}
		at := hist.Deliveries[0].AttemptList[0]
		if at.ResponseStatus == nil || *at.ResponseStatus != 200 || at.Outcome != "succeeded" || hist.Deliveries[0].Attempts != 1 {
			t.Errorf("%s: status, outcome and attempt count are for every viewer: %+v", who, at)
		}
		page := answers[who+": page /automations/"+fmt.Sprint(reg["id"])]
		if full {
			if !strings.Contains(at.ResponseBody, "ECHO raw:") || !strings.Contains(at.ResponseBody, redact.Marker) ||
				!strings.Contains(at.ResponseHeaders, "X-Echo-Base64: ") || at.RequestURL != rcv.URL+"/hook" || at.RequestHeaders == "" {
				t.Errorf("%s: want the redacted response, headers and URL, got %+v", who, at)
			}
			if !strings.Contains(page, `data-testid="attempt-response"`) || !strings.Contains(page, endpoint) {
				t.Errorf("%s: the details page lacks the response or endpoint", who)
			}
			continue
		}
		if at.ResponseBody != "" || at.ResponseHeaders != "" || at.RequestHeaders != "" || at.RequestURL != "" || at.RequestBody != "" || at.Error != "" {
			t.Errorf("%s: sees more than the summary: %+v", who, at)
		}
		if strings.Contains(page, `data-testid="attempt-response"`) || strings.Contains(page, "ECHO") || !strings.Contains(page, `data-testid="delivery-summary-note"`) {
			t.Errorf("%s: the details page shows the response", who)
		}
		for what, text := range answers {
			if strings.HasPrefix(what, who+":") && strings.Contains(text, endpoint) {
				t.Errorf("%s shows the endpoint %s", what, endpoint)
			}
		}
	}
	answers["server log"] = logs.String()
	if !strings.Contains(answers["server log"], "level=") {
		t.Fatalf("no log lines were captured")
	}
	for what, text := range databaseText(t, app) {
		answers["database "+what] = text
	}

	searched := 0
	for name, value := range leakSecrets {
		for _, form := range searchForms(value) {
			for what, text := range answers {
				searched++
				if strings.Contains(text, form) {
					t.Errorf("%s holds secret %s as %q", what, name, form)
				}
			}
		}
	}
	t.Logf("searched %d answers, log lines and database rows for %d encodings (%d searches)", len(answers), len(searchForms(leakSecrets["API_KEY"])), searched)
}

// databaseText is the text of every row of every table the database's
// catalogue lists, by table. Byte columns (sealed secrets) are included.
func databaseText(t *testing.T, app *webtest.App) map[string]string {
	t.Helper()
	ctx := context.Background()
	q := `SELECT name FROM sqlite_master WHERE type = 'table'`
	if models.Dialect(app.DB) == "postgres" {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	var tables []string
	if err := app.DB.WithContext(ctx).Raw(q).Scan(&tables).Error; err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(tables, "delivery_attempts") || !slices.Contains(tables, "team_secrets") {
		t.Fatalf("the catalogue lists %v", tables)
	}
	out := map[string]string{}
	for _, table := range tables {
		rows, err := app.DB.WithContext(ctx).Raw(`SELECT * FROM "` + table + `"`).Rows()
		if err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		var b strings.Builder
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				switch v := v.(type) {
				case string:
					b.WriteString(v + "\x00")
				case []byte:
					b.Write(append(v, 0))
				}
			}
		}
		rows.Close()
		out[table] = b.String()
	}
	return out
}
