package web_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/payload"
	"github.com/automations-dev/automations/web/webtest"
)

// Secret values of the integration tests: long and distinctive, so finding
// one (or its base64) anywhere is a leak and not a coincidence.
var secretValues = map[string]string{
	"GITHUB_TOKEN":   "ghp_tok3n-VALUE-that-must-not-leak-1",
	"SIGNING_SECRET": "whsec-signing-VALUE-must-not-leak-2",
	"DEPLOY_KEY":     "deploy \"key\" VALUE\nmust-not-leak-3",
}

// receivedRequest is one request a receiver got.
type receivedRequest struct {
	Header http.Header
	Body   []byte
}

// receiver is a webhook endpoint on loopback that records what it gets and
// answers 202 echoing the request (as httpbin does), so the tests can check
// that an echoed secret is redacted too.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []receivedRequest
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, receivedRequest{Header: req.Header.Clone(), Body: body})
		r.mu.Unlock()
		w.Header().Set("X-Receiver", "loopback")
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, "received %s\nauthorization=%s\nbody=%s", req.URL.Path, req.Header.Get("Authorization"), body)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []receivedRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]receivedRequest(nil), r.reqs...)
}

// integrations sets up the team fixture with loopback allowed, the three
// secrets and a webhook "ci" at the receiver using all of them.
type integrations struct {
	*teamFixture
	adminKey string
	recv     *receiver
}

func newIntegrations(t *testing.T, opts ...webtest.Option) *integrations {
	t.Helper()
	opts = append([]webtest.Option{webtest.WithAllowedTargets("127.0.0.1")}, opts...)
	f := &integrations{teamFixture: newTeamFixture(t, opts...), recv: newReceiver(t)}
	f.adminKey = f.app.APIKey(t, f.admin)
	for _, name := range []string{"GITHUB_TOKEN", "SIGNING_SECRET", "DEPLOY_KEY"} {
		status, body := f.app.API(t, f.adminKey, "POST", "/api/v1/teams/ml/secrets", map[string]string{"name": name, "value": secretValues[name]})
		if status != http.StatusCreated {
			t.Fatalf("create secret %s: %d %v", name, status, body)
		}
	}
	status, body := f.app.API(t, f.adminKey, "POST", "/api/v1/teams/ml/webhooks", map[string]any{
		"name": "ci", "url": f.recv.URL + "/hook", "access_token_secret": "GITHUB_TOKEN",
		"signing_secret": "SIGNING_SECRET", "secrets": []string{"DEPLOY_KEY"},
	})
	if status != http.StatusCreated {
		t.Fatalf("create webhook: %d %v", status, body)
	}
	return f
}

func (f *integrations) webhook(t *testing.T, name string) *models.Webhook {
	t.Helper()
	w, err := models.WebhookByName(context.Background(), f.app.DB, f.team.ID, name)
	if err != nil {
		t.Fatalf("load webhook %s: %v", name, err)
	}
	return w
}

func (f *integrations) secretNames(t *testing.T) []string {
	t.Helper()
	list, err := models.SecretsOf(context.Background(), f.app.DB, f.team.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range list {
		out = append(out, s.Name)
	}
	return out
}

// leakForms are the spellings of a value a careless page or log could hold.
func leakForms(v string) []string {
	forms := []string{v, base64.StdEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v))}
	// The parts of a multi-line value, in case it was split or escaped.
	for _, line := range strings.Split(v, "\n") {
		if len(line) >= 12 {
			forms = append(forms, line)
		}
	}
	return forms
}

func assertNoSecret(t *testing.T, what, text string) {
	t.Helper()
	for name, v := range secretValues {
		for _, form := range leakForms(v) {
			if strings.Contains(text, form) {
				t.Errorf("%s shows secret %s (as %q)", what, name, form)
			}
		}
	}
}

const echoPayload = `{"token": "$ACCESS_TOKEN", "key": "${DEPLOY_KEY}", "event": "${event_type}"}`

// Every Team Settings page and fragment and every API answer, after the
// secrets exist and have been used, and including error answers that
// repeat the input: none shows a value. The database holds ciphertext.
func TestSecretValuesAppearNowhere(t *testing.T) {
	f := newIntegrations(t)
	admin := f.app.SignInHTTP(t, "admin@example.com")
	answers := map[string]string{}
	page := func(what string, status int, body string, want int) {
		t.Helper()
		if status != want {
			t.Fatalf("%s: status %d, want %d: %s", what, status, want, body)
		}
		answers[what] = body
	}
	api := func(what, method, path string, body any, want int) {
		t.Helper()
		status, raw := f.app.APIRaw(t, f.adminKey, method, path, body)
		page("API "+what, status, string(raw), want)
	}

	// Forms, including their error re-renders with a value typed in.
	s, b := admin.PostForm(t, "/teams/ml/secrets", url.Values{"name": {"FORM_SECRET"}, "value": {secretValues["GITHUB_TOKEN"] + "-form"}})
	page("create secret form", s, b, http.StatusSeeOther)
	s, b = admin.PostForm(t, "/teams/ml/secrets", url.Values{"name": {"bad name"}, "value": {secretValues["GITHUB_TOKEN"]}})
	page("create secret form, bad name", s, b, http.StatusUnprocessableEntity)
	s, b = admin.PostForm(t, "/teams/ml/secrets", url.Values{"name": {"GITHUB_TOKEN"}, "value": {secretValues["SIGNING_SECRET"]}})
	page("create secret form, duplicate", s, b, http.StatusConflict)
	s, b = admin.PostForm(t, "/teams/ml/secrets/GITHUB_TOKEN", url.Values{"value": {secretValues["GITHUB_TOKEN"]}})
	page("edit secret form", s, b, http.StatusSeeOther)
	s, b = admin.PostForm(t, "/teams/ml/secrets/GITHUB_TOKEN/delete", url.Values{})
	page("delete secret in use", s, b, http.StatusSeeOther)
	s, b = admin.PostForm(t, "/teams/ml/webhooks", url.Values{"name": {"x"}, "url": {"ftp://example.com"}, "access_token_secret": {"GITHUB_TOKEN"}})
	page("create webhook form, bad url", s, b, http.StatusUnprocessableEntity)

	// Pages and fragments.
	s, b = admin.Get(t, "/teams/ml")
	page("team settings", s, b, http.StatusOK)
	s, b = admin.Get(t, "/teams/ml/webhooks/ci/edit")
	page("edit webhook page", s, b, http.StatusOK)
	s, b = admin.Get(t, "/teams/ml/webhooks/ci/test")
	page("test panel page", s, b, http.StatusOK)
	s, b = admin.GetHTMX(t, "/teams/ml/webhooks/ci/test")
	page("test panel fragment", s, b, http.StatusOK)
	s, b = admin.PostFormHTMX(t, "/teams/ml/webhooks/ci/test", url.Values{"payload": {echoPayload}})
	page("test result fragment", s, b, http.StatusOK)
	s, b = admin.PostForm(t, "/teams/ml/webhooks/ci/test", url.Values{"payload": {echoPayload}})
	page("test result page", s, b, http.StatusOK)
	s, b = admin.PostFormHTMX(t, "/teams/ml/webhooks/ci/test", url.Values{"payload": {`{"a": "$NOT_GRANTED"}`}})
	page("test result, bad payload", s, b, http.StatusOK)

	// The JSON API.
	api("list secrets", "GET", "/api/v1/teams/ml/secrets", nil, http.StatusOK)
	api("create secret", "POST", "/api/v1/teams/ml/secrets", map[string]string{"name": "API_SECRET", "value": secretValues["DEPLOY_KEY"] + "-api"}, http.StatusCreated)
	api("create duplicate secret", "POST", "/api/v1/teams/ml/secrets", map[string]string{"name": "API_SECRET", "value": secretValues["DEPLOY_KEY"]}, http.StatusConflict)
	api("create secret, bad name", "POST", "/api/v1/teams/ml/secrets", map[string]string{"name": "a-b", "value": secretValues["DEPLOY_KEY"]}, http.StatusUnprocessableEntity)
	api("rotate secret", "PATCH", "/api/v1/teams/ml/secrets/GITHUB_TOKEN", map[string]string{"value": secretValues["GITHUB_TOKEN"]}, http.StatusOK)
	api("delete secret in use", "DELETE", "/api/v1/teams/ml/secrets/DEPLOY_KEY", nil, http.StatusConflict)
	api("list webhooks", "GET", "/api/v1/teams/ml/webhooks", nil, http.StatusOK)
	api("get webhook", "GET", "/api/v1/teams/ml/webhooks/ci", nil, http.StatusOK)
	api("patch webhook", "PATCH", "/api/v1/teams/ml/webhooks/ci", map[string]any{"secrets": []string{"DEPLOY_KEY", "FORM_SECRET"}}, http.StatusOK)
	api("test webhook", "POST", "/api/v1/teams/ml/webhooks/ci/test", map[string]string{"payload": echoPayload}, http.StatusOK)
	api("test webhook, bad payload", "POST", "/api/v1/teams/ml/webhooks/ci/test", map[string]string{"payload": `{"a": "${NOPE}"}`}, http.StatusUnprocessableEntity)

	for what, body := range answers {
		assertNoSecret(t, what, body)
	}
	// The echo came back, so the redaction above was tested, not vacuous.
	if n := len(f.recv.requests()); n != 3 {
		t.Fatalf("receiver got %d requests, want 3 (the valid test sends)", n)
	}
	if !strings.Contains(answers["API test webhook"], `authorization=Bearer `+payload.Redacted) {
		t.Fatalf("the echoed Authorization is not shown redacted: %s", answers["API test webhook"])
	}

	// At rest: ciphertext, not the value, not its base64.
	var rows []struct {
		Name       string
		Ciphertext []byte
	}
	if err := f.app.DB.Table("team_secrets").Select("name, ciphertext").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 {
		t.Fatalf("%d secret rows, want 5", len(rows))
	}
	for _, r := range rows {
		if len(r.Ciphertext) < 40 {
			t.Errorf("secret %s: %d bytes of ciphertext", r.Name, len(r.Ciphertext))
		}
		for name, v := range secretValues {
			for _, form := range leakForms(v) {
				if bytes.Contains(r.Ciphertext, []byte(form)) {
					t.Errorf("column of %s holds secret %s as %q", r.Name, name, form)
				}
			}
		}
	}
}

func hmacBase64(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// The panel and the API send what a real delivery sends: the receiver checks
// the bearer token and the signature with the real secrets and gets the
// granted secret in the body, while what we show has •••• in their place.
func TestWebhookTestSendsSignedRequestAndShowsItRedacted(t *testing.T) {
	f := newIntegrations(t)
	status, out := f.app.API(t, f.adminKey, "POST", "/api/v1/teams/ml/webhooks/ci/test", map[string]string{"payload": echoPayload})
	if status != http.StatusOK || out["error"] != nil {
		t.Fatalf("test: %d %v", status, out)
	}
	reqs := f.recv.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests", len(reqs))
	}
	got := reqs[0]
	if a := got.Header.Get("Authorization"); a != "Bearer "+secretValues["GITHUB_TOKEN"] {
		t.Fatalf("receiver's Authorization = %q", a)
	}
	if sig := got.Header.Get("X-Wandb-Signature"); sig != hmacBase64(secretValues["SIGNING_SECRET"], got.Body) {
		t.Fatalf("X-Wandb-Signature %q does not verify with the signing secret", sig)
	}
	if !bytes.Contains(got.Body, []byte(`"token":"`+secretValues["GITHUB_TOKEN"]+`"`)) || !strings.Contains(string(got.Body), `"event":"ADD_ARTIFACT_ALIAS"`) {
		t.Fatalf("receiver's body = %s", got.Body)
	}

	req := out["request"].(map[string]any)
	resp := out["response"].(map[string]any)
	headers := req["headers"].(map[string]any)
	if headers["Authorization"] != "Bearer "+payload.Redacted {
		t.Fatalf("shown Authorization = %v", headers["Authorization"])
	}
	// Every other header shown is exactly what the receiver got.
	for name, v := range headers {
		if name != "Authorization" && got.Header.Get(name) != v {
			t.Errorf("shown %s: %v, receiver got %q", name, v, got.Header.Get(name))
		}
	}
	for _, name := range []string{"X-Wandb-Signature", "Webhook-Signature", "Webhook-Id", "Webhook-Timestamp", "Content-Type"} {
		if headers[name] == nil {
			t.Errorf("shown request lacks %s: %v", name, headers)
		}
	}
	wantBody := `{"token":"` + payload.Redacted + `","key":"` + payload.Redacted + `","event":"ADD_ARTIFACT_ALIAS"}`
	if req["body"] != wantBody || req["url"] != f.recv.URL+"/hook" || req["method"] != "POST" {
		t.Fatalf("shown request = %v", req)
	}
	if resp["status"] != float64(http.StatusAccepted) || !strings.HasPrefix(resp["body"].(string), "received /hook") {
		t.Fatalf("shown response = %v", resp)
	}
	if resp["headers"].(map[string]any)["X-Receiver"] != "loopback" {
		t.Fatalf("response headers = %v", resp["headers"])
	}
	if d, ok := out["duration_ms"].(float64); !ok || d < 0 {
		t.Fatalf("duration_ms = %v", out["duration_ms"])
	}

	// The htmx panel shows the same, as a fragment.
	admin := f.app.SignInHTTP(t, "admin@example.com")
	s, page := admin.PostFormHTMX(t, "/teams/ml/webhooks/ci/test", url.Values{"payload": {echoPayload}})
	if s != http.StatusOK || strings.Contains(page, "<html") {
		t.Fatalf("panel answer: %d, a whole page: %v", s, strings.Contains(page, "<html"))
	}
	for _, want := range []string{`data-testid="test-status"`, "202 Accepted", "X-Wandb-Signature: ", "Authorization: Bearer " + payload.Redacted, "received /hook", "X-Receiver: loopback", " ms"} {
		if !strings.Contains(page, want) {
			t.Errorf("panel lacks %q", want)
		}
	}
	if n := len(f.recv.requests()); n != 2 {
		t.Fatalf("receiver got %d requests after the panel's send, want 2", n)
	}
}

// A bad payload is a clear error and nothing is sent.
func TestWebhookTestRefusesBadPayloads(t *testing.T) {
	f := newIntegrations(t)
	admin := f.app.SignInHTTP(t, "admin@example.com")
	cases := []struct{ payload, want string }{
		{`{"a": `, "JSON"},
		{`{"a": "${NOT_A_VARIABLE}"}`, "NOT_A_VARIABLE"},
		{`{"a": "$API_KEY"}`, "API_KEY"},
		{`{"a": "$api_key"}`, "$api_key"}, // a bare lower-case name is checked like ${api_key}
	}
	for _, c := range cases {
		status, out := f.app.API(t, f.adminKey, "POST", "/api/v1/teams/ml/webhooks/ci/test", map[string]string{"payload": c.payload})
		msg, _ := out["error"].(string)
		if status != http.StatusUnprocessableEntity || out["field"] != "payload" || !strings.Contains(msg, c.want) {
			t.Errorf("API %s: %d %v, want 422 on payload naming %s", c.payload, status, out, c.want)
		}
		s, page := admin.PostFormHTMX(t, "/teams/ml/webhooks/ci/test", url.Values{"payload": {c.payload}})
		if s != http.StatusOK || !strings.Contains(page, `data-testid="test-error"`) || !strings.Contains(page, c.want) || strings.Contains(page, `data-testid="test-request"`) {
			t.Errorf("panel %s: %d, want the error and no request: %s", c.payload, s, page)
		}
	}
	if n := len(f.recv.requests()); n != 0 {
		t.Fatalf("bad payloads were sent: %d requests", n)
	}
	// An empty payload sends {}.
	if status, out := f.app.API(t, f.adminKey, "POST", "/api/v1/teams/ml/webhooks/ci/test", map[string]string{"payload": ""}); status != 200 || out["request"].(map[string]any)["body"] != "{}" {
		t.Fatalf("empty payload: %d %v", status, out)
	}
}

// A target SSRF protection refuses is shown with the reason, and so is one
// that does not answer. Here only 127.0.0.2 is allowed: the receiver there
// redirects to 127.0.0.1, which is not.
func TestWebhookTestShowsWhyATargetIsBlocked(t *testing.T) {
	f := newTeamFixture(t, webtest.WithAllowedTargets("127.0.0.2"))
	key := f.app.APIKey(t, f.admin)
	inner := newReceiver(t) // on 127.0.0.1
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.2: %v", err)
	}
	redirector := httptest.NewUnstartedServer(http.RedirectHandler(inner.URL+"/private", http.StatusFound))
	redirector.Listener.Close()
	redirector.Listener = ln
	redirector.Start()
	t.Cleanup(redirector.Close)
	closed, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + closed.Addr().String() + "/"
	closed.Close() // nothing listens there any more

	for name, u := range map[string]string{"redirects": redirector.URL + "/start", "closed": closedURL} {
		if status, out := f.app.API(t, key, "POST", "/api/v1/teams/ml/webhooks", map[string]string{"name": name, "url": u}); status != http.StatusCreated {
			t.Fatalf("create %s: %d %v", name, status, out)
		}
	}
	// A webhook saved before the operator narrowed ALLOWED_TARGETS.
	if err := f.app.DB.Exec("INSERT INTO webhooks (team_id, name, url, created_at, updated_at) VALUES (?, 'legacy', ?, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)", f.team.ID, inner.URL+"/").Error; err != nil {
		t.Fatal(err)
	}
	cases := map[string][]string{
		"redirects": {"Blocked a redirect", "127.0.0.1 is a loopback address"},
		"closed":    {"Could not reach the endpoint", "connection refused"},
		"legacy":    {"Not sent: the webhook URL", "127.0.0.1 is a loopback address"},
	}
	admin := f.app.SignInHTTP(t, "admin@example.com")
	for name, wants := range cases {
		status, out := f.app.API(t, key, "POST", "/api/v1/teams/ml/webhooks/"+name+"/test", map[string]string{"payload": `{"x": 1}`})
		msg, _ := out["error"].(string)
		if status != http.StatusOK || out["response"] != nil || out["request"] == nil {
			t.Fatalf("%s: %d %v, want 200 with the request, an error and no response", name, status, out)
		}
		_, page := admin.PostFormHTMX(t, "/teams/ml/webhooks/"+name+"/test", url.Values{"payload": {`{"x": 1}`}})
		for _, want := range wants {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: API error %q lacks %q", name, msg, want)
			}
			if !strings.Contains(page, want) {
				t.Errorf("%s: panel lacks %q: %s", name, want, page)
			}
		}
	}
	if n := len(inner.requests()); n != 0 {
		t.Fatalf("the blocked target got %d requests", n)
	}
}

// URL rules at save (DESIGN.md §6), through the API and the form, and the
// same URLs accepted once ALLOWED_TARGETS covers them (never ftp://).
func TestWebhookURLValidation(t *testing.T) {
	cases := []struct {
		url, want string
		allowable bool
	}{
		{"http://10.1.2.3/hook", "not an IP address", true},
		{"http://127.0.0.1:8080/hook", "loopback", true},
		{"http://[::1]:8080/hook", "not an IP address", true},
		{"http://localhost:8080/hook", "unless ALLOWED_TARGETS covers 127.0.0.1", true},
		{"http://2130706433/hook", "IP address 127.0.0.1 written another way", false},
		{"ftp://files.example.com/x", "http:// or https://", false},
		{"hooks.example.com/x", "http:// or https://", false},
		{"https://user:pw@hooks.example.com/", "user name or password", false},
		{"", "is required", false},
	}
	run := func(t *testing.T, app *webtest.App, key string, allowed bool) {
		admin := app.SignInHTTP(t, "admin@example.com")
		for i, c := range cases {
			name := fmt.Sprintf("hook%d", i)
			status, out := app.API(t, key, "POST", "/api/v1/teams/ml/webhooks", map[string]string{"name": name, "url": c.url})
			if allowed && c.allowable {
				if status != http.StatusCreated {
					t.Errorf("%s allowed: %d %v", c.url, status, out)
				}
				continue
			}
			msg, _ := out["error"].(string)
			if status != http.StatusUnprocessableEntity || out["field"] != "url" || !strings.Contains(msg, c.want) {
				t.Errorf("API %q: %d %v, want 422 on url with %q", c.url, status, out, c.want)
			}
			s, page := admin.PostForm(t, "/teams/ml/webhooks", url.Values{"name": {name}, "url": {c.url}})
			if s != http.StatusUnprocessableEntity || !strings.Contains(page, c.want) || !strings.Contains(page, `value="`+name+`"`) {
				t.Errorf("form %q: %d, want 422 with %q beside the field and the name kept", c.url, s, c.want)
			}
		}
	}
	t.Run("default", func(t *testing.T) {
		f := newTeamFixture(t)
		run(t, f.app, f.app.APIKey(t, f.admin), false)
		if hooks, _ := models.WebhooksOf(context.Background(), f.app.DB, f.team.ID); len(hooks) != 0 {
			t.Fatalf("refused webhooks were saved: %v", hooks)
		}
	})
	t.Run("allowed targets", func(t *testing.T) {
		f := newTeamFixture(t, webtest.WithAllowedTargets("10.0.0.0/8", "127.0.0.1", "::1", "localhost"))
		run(t, f.app, f.app.APIKey(t, f.admin), true)
	})
	// The local testing path: allowing the loopback address allows the
	// name localhost too, without listing it.
	t.Run("loopback allows localhost", func(t *testing.T) {
		f := newTeamFixture(t, webtest.WithAllowedTargets("127.0.0.1/32"))
		key := f.app.APIKey(t, f.admin)
		if status, out := f.app.API(t, key, "POST", "/api/v1/teams/ml/webhooks", map[string]string{"name": "local", "url": "http://localhost:9000/hook"}); status != http.StatusCreated {
			t.Fatalf("localhost with loopback allowed: %d %v", status, out)
		}
		if status, out := f.app.API(t, key, "POST", "/api/v1/teams/ml/webhooks", map[string]string{"name": "sub", "url": "http://api.localhost:9000/hook"}); status != http.StatusUnprocessableEntity {
			t.Fatalf("a .localhost name: %d %v, want 422", status, out)
		}
	})
}

// Rotation replaces the value the next send uses; the old one is gone.
func TestSecretRotation(t *testing.T) {
	f := newIntegrations(t)
	admin := f.app.SignInHTTP(t, "admin@example.com")
	if s, body := admin.PostForm(t, "/teams/ml/secrets/GITHUB_TOKEN", url.Values{"value": {"rotated-by-form"}}); s != http.StatusSeeOther {
		t.Fatalf("rotate by form: %d %s", s, body)
	}
	f.app.API(t, f.adminKey, "POST", "/api/v1/teams/ml/webhooks/ci/test", map[string]string{"payload": "{}"})
	status, out := f.app.API(t, f.adminKey, "PATCH", "/api/v1/teams/ml/secrets/GITHUB_TOKEN", map[string]string{"value": "rotated-by-api"})
	if status != http.StatusOK || out["updated_by"] != "admin@example.com" || out["value"] != nil {
		t.Fatalf("rotate by API: %d %v", status, out)
	}
	f.app.API(t, f.adminKey, "POST", "/api/v1/teams/ml/webhooks/ci/test", map[string]string{"payload": "{}"})
	reqs := f.recv.requests()
	if len(reqs) != 2 || reqs[0].Header.Get("Authorization") != "Bearer rotated-by-form" || reqs[1].Header.Get("Authorization") != "Bearer rotated-by-api" {
		t.Fatalf("tokens sent after rotations: %v", reqs)
	}
	// Edit with an empty value is refused beside the field, value unchanged.
	s, page := admin.PostForm(t, "/teams/ml/secrets/GITHUB_TOKEN", url.Values{"value": {""}})
	if s != http.StatusUnprocessableEntity || !strings.Contains(page, "is required") {
		t.Fatalf("empty rotation: %d", s)
	}
	if status, out := f.app.API(t, f.adminKey, "PATCH", "/api/v1/teams/ml/secrets/NOPE", map[string]string{"value": "x"}); status != http.StatusNotFound {
		t.Fatalf("rotate a missing secret: %d %v", status, out)
	}
}

// Deleting a secret a webhook uses, or a webhook an automation uses, is
// refused with the names, through the API and the forms; nothing is deleted.
func TestDeleteRefusalsNameWhatUsesIt(t *testing.T) {
	f := newIntegrations(t)
	ctx := context.Background()
	admin := f.app.SignInHTTP(t, "admin@example.com")

	status, out := f.app.API(t, f.adminKey, "DELETE", "/api/v1/teams/ml/secrets/SIGNING_SECRET", nil)
	if status != http.StatusConflict || !strings.Contains(out["error"].(string), "used by webhook ci (signing secret)") {
		t.Fatalf("delete secret in use: %d %v", status, out)
	}
	if s, _ := admin.PostForm(t, "/teams/ml/secrets/DEPLOY_KEY/delete", url.Values{}); s != http.StatusSeeOther {
		t.Fatalf("delete form: %d", s)
	}
	if _, page := admin.Get(t, "/teams/ml"); !strings.Contains(page, "secret DEPLOY_KEY is used by webhook ci (granted)") {
		t.Fatal("the refusal flash does not name the webhook")
	}
	if got := f.secretNames(t); len(got) != 3 {
		t.Fatalf("secrets after refused deletes: %v", got)
	}

	reg, err := models.CreateRegistry(ctx, f.app.DB, "prod-models", "", f.admin)
	if err != nil {
		t.Fatal(err)
	}
	w := f.webhook(t, "ci")
	if _, err := models.CreateAutomation(ctx, f.app.DB, models.AutomationSpec{
		Name: "deploy to prod", Enabled: true, Scope: models.ScopeRegistry, RegistryID: &reg.ID,
		EventType: models.EventLinkArtifact, ActionType: models.ActionWebhook, TeamID: f.team.ID,
		WebhookID: &w.ID, Payload: `{"v": "${artifact_version_string}"}`, PayloadContext: w.PayloadContext(""),
	}, f.admin); err != nil {
		t.Fatal(err)
	}
	status, out = f.app.API(t, f.adminKey, "DELETE", "/api/v1/teams/ml/webhooks/ci", nil)
	if status != http.StatusConflict || !strings.Contains(out["error"].(string), "used by automation deploy to prod") {
		t.Fatalf("delete webhook in use: %d %v", status, out)
	}
	if s, _ := admin.PostFormHTMX(t, "/teams/ml/webhooks/ci/delete", url.Values{}); s != http.StatusOK {
		t.Fatalf("delete webhook form (htmx): %d", s)
	}
	if _, page := admin.Get(t, "/teams/ml"); !strings.Contains(page, "webhook ci is used by automation deploy to prod") {
		t.Fatal("the refusal flash does not name the automation")
	}
	f.webhook(t, "ci") // still there

	// Unused ones go.
	if status, out := f.app.API(t, f.adminKey, "POST", "/api/v1/teams/ml/secrets", map[string]string{"name": "UNUSED", "value": "x"}); status != 201 {
		t.Fatalf("%d %v", status, out)
	}
	if status, _ := f.app.API(t, f.adminKey, "DELETE", "/api/v1/teams/ml/secrets/UNUSED", nil); status != http.StatusNoContent {
		t.Fatalf("delete unused secret: %d", status)
	}
	if status, _ := f.app.API(t, f.adminKey, "DELETE", "/api/v1/teams/ml/secrets/UNUSED", nil); status != http.StatusNotFound {
		t.Fatalf("delete it again: %d", status)
	}
}

// The Edit form of the … menu: the page opens with the webhook's values; a
// bad change comes back beside the field with the input kept and nothing
// saved; a good one is saved, grants included.
func TestWebhookEditForm(t *testing.T) {
	f := newIntegrations(t)
	admin := f.app.SignInHTTP(t, "admin@example.com")
	s, page := admin.Get(t, "/teams/ml/webhooks/ci/edit")
	if s != http.StatusOK || !strings.Contains(page, `data-testid="webhook-edit"`) || !strings.Contains(page, `value="`+f.recv.URL+`/hook"`) {
		t.Fatalf("edit page: %d", s)
	}
	if !strings.Contains(page, `value="DEPLOY_KEY" checked`) {
		t.Fatal("edit page does not check the granted secret")
	}
	bad := url.Values{"name": {"ci"}, "url": {"http://169.254.169.254/latest"}, "access_token_secret": {"GITHUB_TOKEN"}, "secrets": {"DEPLOY_KEY", "SIGNING_SECRET"}}
	s, page = admin.PostForm(t, "/teams/ml/webhooks/ci", bad)
	if s != http.StatusUnprocessableEntity || !strings.Contains(page, "metadata") || !strings.Contains(page, `value="http://169.254.169.254/latest"`) || !strings.Contains(page, `value="SIGNING_SECRET" checked`) {
		t.Fatalf("bad edit: %d, want 422 with the reason and the input kept", s)
	}
	if w := f.webhook(t, "ci"); w.URL != f.recv.URL+"/hook" || w.SigningSecret != "SIGNING_SECRET" {
		t.Fatalf("refused edit changed the webhook: %+v", w)
	}
	good := url.Values{"name": {"ci-2"}, "url": {f.recv.URL + "/v2"}, "access_token_secret": {""}, "signing_secret": {"SIGNING_SECRET"}, "secrets": {"GITHUB_TOKEN"}}
	if s, body := admin.PostForm(t, "/teams/ml/webhooks/ci", good); s != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", s, body)
	}
	w := f.webhook(t, "ci-2")
	if w.URL != f.recv.URL+"/v2" || w.AccessTokenSecret != "" || len(w.Secrets) != 1 || w.Secrets[0] != "GITHUB_TOKEN" {
		t.Fatalf("after edit: %+v", w)
	}
	if s, _ := admin.Get(t, "/teams/ml/webhooks/ci/edit"); s != http.StatusNotFound {
		t.Fatalf("old name still edits: %d", s)
	}
}
