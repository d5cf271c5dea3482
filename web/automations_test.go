package web_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/web"
	"github.com/automations-dev/automations/web/webtest"

	"gorm.io/gorm/logger"
)

// received is one request a test receiver got.
type received struct {
	Header http.Header
	Body   []byte
}

// hookReceiver is a webhook endpoint on loopback. Its answer function picks
// the status for the n-th request (1-based).
type hookReceiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []received
	ch   chan received
	code func(n int) int
}

func newHookReceiver(t *testing.T, code func(n int) int) *hookReceiver {
	r := &hookReceiver{ch: make(chan received, 100), code: code}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{Header: req.Header.Clone(), Body: body})
		n := len(r.got)
		r.mu.Unlock()
		status := http.StatusOK
		if r.code != nil {
			status = r.code(n)
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"n": %d}`, n)
		r.ch <- received{Header: req.Header.Clone(), Body: body}
	}))
	t.Cleanup(r.Close)
	return r
}

// next waits for the receiver's next request, up to a deadline.
func (r *hookReceiver) next(t *testing.T) received {
	t.Helper()
	select {
	case got := <-r.ch:
		return got
	case <-time.After(15 * time.Second):
		t.Fatal("the receiver got no request within 15s")
		return received{}
	}
}

// automationFixture is a team "ml" with project "mnist", three secrets and
// a webhook "ci" pointing at a loopback receiver.
type automationFixture struct {
	app      *webtest.App
	key      string // the site admin's API key
	receiver *hookReceiver
}

const (
	tokenValue   = "ghp_token_value_0123456789"
	signingValue = "whsec_signing_value_abcdef"
	extraValue   = "extra-secret-value-xyz"
)

func newAutomationFixture(t *testing.T, code func(n int) int, opts ...webtest.Option) *automationFixture {
	rcv := newHookReceiver(t, code)
	opts = append([]webtest.Option{webtest.WithAllowedTargets("127.0.0.1")}, opts...)
	app := webtest.Start(t, opts...)
	admin := app.User(t, "admin@example.com", true)
	f := &automationFixture{app: app, key: app.APIKey(t, admin), receiver: rcv}
	f.must(t, http.StatusCreated, "POST", "/api/v1/teams", map[string]any{"name": "ml"})
	f.must(t, http.StatusCreated, "POST", "/api/v1/teams/ml/projects", map[string]any{"name": "mnist"})
	for name, value := range map[string]string{"GITHUB_TOKEN": tokenValue, "SIGNING": signingValue, "EXTRA": extraValue, "OTHER": "other-value"} {
		f.must(t, http.StatusCreated, "POST", "/api/v1/teams/ml/secrets", map[string]any{"name": name, "value": value})
	}
	f.must(t, http.StatusCreated, "POST", "/api/v1/teams/ml/webhooks", map[string]any{
		"name": "ci", "url": rcv.URL + "/hook", "access_token_secret": "GITHUB_TOKEN",
		"signing_secret": "SIGNING", "secrets": []string{"EXTRA"},
	})
	return f
}

// must sends an API request as the site admin and fails unless it answers want.
func (f *automationFixture) must(t *testing.T, want int, method, path string, body any) map[string]any {
	t.Helper()
	status, out := f.app.API(t, f.key, method, path, body)
	if status != want {
		t.Fatalf("%s %s: status %d, want %d: %v", method, path, status, want, out)
	}
	return out
}

func projectAutomation(name, event, payload string) map[string]any {
	return map[string]any{
		"name": name, "description": "test", "enabled": true,
		"scope":  map[string]any{"type": "project", "project": "ml/mnist"},
		"event":  map[string]any{"type": event},
		"action": map[string]any{"type": "webhook", "team": "ml", "webhook": "ci", "payload": payload},
	}
}

// deliveries polls an automation's history until done says it is complete.
func (f *automationFixture) deliveries(t *testing.T, id any, done func([]map[string]any) bool) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		status, raw := f.app.APIRaw(t, f.key, "GET", fmt.Sprintf("/api/v1/automations/%v/deliveries", id), nil)
		if status != http.StatusOK {
			t.Fatalf("deliveries: status %d: %s", status, raw)
		}
		var out struct {
			Deliveries []map[string]any `json:"deliveries"`
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatal(err)
		}
		if done(out.Deliveries) {
			return out.Deliveries
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries never reached the expected state: %s", raw)
		}
		time.Sleep(50 * time.Millisecond) // polling interval, not synchronisation: the loop waits on the condition
	}
}

func allIn(state string, n int) func([]map[string]any) bool {
	return func(ds []map[string]any) bool {
		if len(ds) != n {
			return false
		}
		for _, d := range ds {
			if d["state"] != state {
				return false
			}
		}
		return true
	}
}

// Logging an artifact through the API makes the receiver get the signed
// POST with the rendered payload; history keeps the request with secrets
// redacted.
func TestAutomationDeliversSignedWebhook(t *testing.T) {
	f := newAutomationFixture(t, nil)
	tpl := `{"event": "${event_type}", "version": "${artifact_version_string}", "author": "${event_author}",
		"accuracy": "${artifact_metadata.accuracy}", "note": "by ${event_author}: ${artifact_metadata.note}",
		"extra": "$EXTRA", "token": "${ACCESS_TOKEN}", "automation": "${automation_name}", "entity": "${entity_name}"}`
	a := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", projectAutomation("notify-ci", "CREATE_ARTIFACT", tpl))
	f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{
		"name": "mnist-model", "type": "model",
		"metadata": map[string]any{"accuracy": 0.93, "note": `he said "hi"\n${EXTRA}`},
	})

	got := f.receiver.next(t)
	if auth := got.Header.Get("Authorization"); auth != "Bearer "+tokenValue {
		t.Errorf("Authorization = %q", auth)
	}
	mac := hmac.New(sha256.New, []byte(signingValue))
	mac.Write(got.Body)
	if sig := got.Header.Get("X-Wandb-Signature"); sig != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
		t.Errorf("X-Wandb-Signature = %q does not sign the body", sig)
	}
	var body map[string]any
	if err := json.Unmarshal(got.Body, &body); err != nil {
		t.Fatalf("the receiver got invalid JSON: %v\n%s", err, got.Body)
	}
	want := map[string]any{
		"event": "CREATE_ARTIFACT", "version": "ml/mnist/mnist-model:v0", "author": "admin",
		"accuracy": 0.93, "note": `by admin: he said "hi"\n${EXTRA}`, "extra": extraValue,
		"token": tokenValue, "automation": "notify-ci", "entity": "ml",
	}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("payload %s = %#v, want %#v", k, body[k], v)
		}
	}
	if len(body) != len(want) {
		t.Errorf("payload has %d keys, want %d: %v", len(body), len(want), body)
	}

	ds := f.deliveries(t, a["id"], allIn("succeeded", 1))
	if got.Header.Get("webhook-id") != ds[0]["id"] {
		t.Errorf("webhook-id %q is not the delivery id %q", got.Header.Get("webhook-id"), ds[0]["id"])
	}
	attempts := ds[0]["attempts_detail"].([]any)
	if len(attempts) != 1 {
		t.Fatalf("attempts = %d", len(attempts))
	}
	at := attempts[0].(map[string]any)
	req := at["request_body"].(string) + at["request_headers"].(string)
	for _, secret := range []string{tokenValue, signingValue, extraValue} {
		if strings.Contains(req, secret) {
			t.Errorf("history holds the secret %q: %s", secret, req)
		}
	}
	if !strings.Contains(at["request_body"].(string), "••••") {
		t.Errorf("history does not show the redaction mark: %s", at["request_body"])
	}
	// A success is stored without its body (no copy per delivery); history
	// renders it again: exactly what was sent, the secret values redacted.
	if shown := strings.NewReplacer(tokenValue, "••••", extraValue, "••••").Replace(string(got.Body)); at["request_body"] != shown {
		t.Errorf("history's request body\n%s\nis not the body sent, redacted\n%s", at["request_body"], shown)
	}
	var stored []string
	if err := f.app.DB.Raw("SELECT request_body FROM delivery_attempts").Scan(&stored).Error; err != nil || len(stored) != 1 || stored[0] != "" {
		t.Errorf("stored request bodies %q (%v), want the success's left out", stored, err)
	}
	// History shows the headers as the receiver got them, the token redacted.
	for _, line := range []string{"Authorization: Bearer ••••", "Webhook-Id: " + got.Header.Get("webhook-id"),
		"X-Wandb-Signature: " + got.Header.Get("X-Wandb-Signature")} {
		if !strings.Contains(at["request_headers"].(string), line) {
			t.Errorf("history's request headers lack %q:\n%s", line, at["request_headers"])
		}
	}
	if at["response_status"].(float64) != 200 || !strings.Contains(at["response_body"].(string), `"n": 1`) {
		t.Errorf("attempt response = %v %v", at["response_status"], at["response_body"])
	}
}

// A receiver that fails twice then succeeds gets three attempts of the
// same delivery, all recorded.
func TestAutomationRetriesUntilSuccess(t *testing.T) {
	f := newAutomationFixture(t, func(n int) int {
		if n <= 2 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	}, webtest.WithConfig(func(c *web.Config) { c.RetrySchedule = "20ms,20ms,20ms" }))
	a := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", projectAutomation("retry", "CREATE_ARTIFACT", `{"v": "${artifact_version_string}"}`))
	f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "data", "type": "dataset"})

	ids := map[string]bool{}
	for range 3 {
		ids[f.receiver.next(t).Header.Get("webhook-id")] = true
	}
	ds := f.deliveries(t, a["id"], allIn("succeeded", 1))
	if len(ids) != 1 || !ids[ds[0]["id"].(string)] {
		t.Errorf("the three attempts carried delivery ids %v, want only %v", ids, ds[0]["id"])
	}
	attempts := ds[0]["attempts_detail"].([]any)
	if len(attempts) != 3 || ds[0]["attempts"].(float64) != 3 {
		t.Fatalf("attempts = %d (%v), want 3", len(attempts), ds[0]["attempts"])
	}
	for i, want := range []float64{503, 503, 200} {
		if got := attempts[i].(map[string]any)["response_status"]; got != want {
			t.Errorf("attempt %d status = %v, want %v", i+1, got, want)
		}
	}
}

// Saving validates the payload against the event and the webhook; nothing
// is saved on any error, and the error names the field.
func TestAutomationValidation(t *testing.T) {
	f := newAutomationFixture(t, nil)
	cases := []struct {
		name  string
		body  map[string]any
		field string
		say   string
	}{
		{"not JSON", projectAutomation("x", "CREATE_ARTIFACT", `{"a": }`), "action.payload", "JSON"},
		{"unknown variable", projectAutomation("x", "CREATE_ARTIFACT", `{"a": "${project_nam}"}`), "action.payload", "project_nam"},
		{"ungranted secret", projectAutomation("x", "CREATE_ARTIFACT", `{"a": "$OTHER"}`), "action.payload", "OTHER"},
		{"alias variable on a create event", projectAutomation("x", "CREATE_ARTIFACT", `{"a": "${alias}"}`), "action.payload", "alias"},
		{"registry event in a project", projectAutomation("x", "LINK_ARTIFACT", `{}`), "event.type", "LINK_ARTIFACT"},
		{"bad alias regex", func() map[string]any {
			b := projectAutomation("x", "ADD_ARTIFACT_ALIAS", `{}`)
			b["event"] = map[string]any{"type": "ADD_ARTIFACT_ALIAS", "alias_regex": "prod("}
			return b
		}(), "event.alias_regex", "regular expression"},
		{"alias regex escaping the whole-alias anchoring", func() map[string]any {
			b := projectAutomation("x", "ADD_ARTIFACT_ALIAS", `{}`)
			b["event"] = map[string]any{"type": "ADD_ARTIFACT_ALIAS", "alias_regex": "prod)|(?:zzz"}
			return b
		}(), "event.alias_regex", "regular expression"},
		{"unknown webhook", func() map[string]any {
			b := projectAutomation("x", "CREATE_ARTIFACT", `{}`)
			b["action"].(map[string]any)["webhook"] = "nope"
			return b
		}(), "action.webhook", "nope"},
		{"no name", projectAutomation("", "CREATE_ARTIFACT", `{}`), "name", "required"},
	}
	for _, c := range cases {
		status, out := f.app.API(t, f.key, "POST", "/api/v1/automations", c.body)
		if status != http.StatusUnprocessableEntity || out["field"] != c.field || !strings.Contains(fmt.Sprint(out["error"]), c.say) {
			t.Errorf("%s: %d %v, want 422 on %s saying %q", c.name, status, out, c.field, c.say)
		}
	}
	status, out := f.app.API(t, f.key, "POST", "/api/v1/automations", `{"name": "x", "scope": 3}`)
	if status != http.StatusBadRequest || out["field"] != "scope" {
		t.Errorf("wrong JSON type: %d %v", status, out)
	}
	list := f.must(t, http.StatusOK, "GET", "/api/v1/automations", nil)
	if n := len(list["automations"].([]any)); n != 0 {
		t.Fatalf("%d automations saved by invalid requests", n)
	}
}

// Alias automations fire only for aliases their regex matches as a whole,
// never for the automatic latest/vN, and a disabled automation fires nothing.
func TestAliasAutomationMatching(t *testing.T) {
	f := newAutomationFixture(t, nil)
	body := projectAutomation("on-prod", "ADD_ARTIFACT_ALIAS", `{"alias": "${alias}", "version": "${artifact_version_string}"}`)
	body["event"] = map[string]any{"type": "ADD_ARTIFACT_ALIAS", "alias_regex": "prod"}
	a := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", body)
	off := projectAutomation("disabled", "CREATE_ARTIFACT", `{}`)
	off["enabled"] = false
	f.must(t, http.StatusCreated, "POST", "/api/v1/automations", off)

	v := f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "m", "type": "model"})
	f.must(t, http.StatusCreated, "POST", fmt.Sprintf("/api/v1/artifacts/%v/aliases", v["id"]), map[string]any{"alias": "production"})
	f.must(t, http.StatusCreated, "POST", fmt.Sprintf("/api/v1/artifacts/%v/aliases", v["id"]), map[string]any{"alias": "prod"})
	got := f.receiver.next(t)
	var payload map[string]any
	if err := json.Unmarshal(got.Body, &payload); err != nil {
		t.Fatal(err)
	}
	if payload["alias"] != "prod" || payload["version"] != "ml/mnist/m:prod" {
		t.Errorf("payload = %v", payload)
	}
	f.deliveries(t, a["id"], allIn("succeeded", 1))
	f.receiver.mu.Lock()
	n := len(f.receiver.got)
	f.receiver.mu.Unlock()
	if n != 1 {
		t.Errorf("receiver got %d requests, want only the prod alias's", n)
	}
}

// Deleting an automation does not cancel what it already queued.
func TestDeletedAutomationStillDelivers(t *testing.T) {
	release := make(chan struct{})
	f := newAutomationFixture(t, func(n int) int {
		<-release
		return http.StatusOK
	})
	a := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", projectAutomation("gone", "CREATE_ARTIFACT", `{"v": "${artifact_version_string}"}`))
	f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "m", "type": "model"})
	f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "m", "type": "model"})
	f.must(t, http.StatusNoContent, "DELETE", fmt.Sprintf("/api/v1/automations/%v", a["id"]), nil)
	close(release)
	versions := map[string]bool{}
	for range 2 {
		var p map[string]string
		_ = json.Unmarshal(f.receiver.next(t).Body, &p)
		versions[p["v"]] = true
	}
	if !versions["ml/mnist/m:v0"] || !versions["ml/mnist/m:v1"] {
		t.Errorf("delivered %v, want both versions", versions)
	}
	status, _ := f.app.API(t, f.key, "GET", fmt.Sprintf("/api/v1/automations/%v", a["id"]), nil)
	if status != http.StatusNotFound {
		t.Errorf("deleted automation: status %d", status)
	}
}

// Registry automations fire on links into any collection of the registry
// (also new ones), with the registry's naming in the payload.
func TestRegistryAutomationOnLink(t *testing.T) {
	f := newAutomationFixture(t, nil)
	f.must(t, http.StatusCreated, "POST", "/api/v1/registries", map[string]any{"name": "models"})
	a := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", map[string]any{
		"name": "on-link", "scope": map[string]any{"type": "registry", "registry": "models"},
		"event":  map[string]any{"type": "LINK_ARTIFACT"},
		"action": map[string]any{"type": "webhook", "team": "ml", "webhook": "ci", "payload": `{"p": "${project_name}", "e": "${entity_name}", "v": "${artifact_version_string}"}`},
	})
	v := f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "m", "type": "model"})
	f.must(t, http.StatusCreated, "POST", fmt.Sprintf("/api/v1/artifacts/%v/links", v["id"]), map[string]any{"registry": "models", "collection": "mnist-classifier"})
	var p map[string]string
	if err := json.Unmarshal(f.receiver.next(t).Body, &p); err != nil {
		t.Fatal(err)
	}
	if p["p"] != "wandb-registry-models" || p["e"] != "org" || p["v"] != "org/wandb-registry-models/mnist-classifier:v0" {
		t.Errorf("payload = %v", p)
	}
	f.deliveries(t, a["id"], allIn("succeeded", 1))
}

// §9 for automations, each forbidden request sent directly.
func TestAutomationRoles(t *testing.T) {
	f := newAutomationFixture(t, nil)
	app := f.app
	for email, role := range map[string]string{"member@example.com": "member", "viewer@example.com": "viewer", "teamadmin@example.com": "admin"} {
		app.User(t, email, false)
		f.must(t, http.StatusCreated, "POST", "/api/v1/teams/ml/members", map[string]any{"email": email, "role": role})
	}
	app.User(t, "outsider@example.com", false)
	f.must(t, http.StatusCreated, "POST", "/api/v1/teams", map[string]any{"name": "other"})
	f.must(t, http.StatusCreated, "POST", "/api/v1/teams/other/projects", map[string]any{"name": "p"})
	f.must(t, http.StatusCreated, "POST", "/api/v1/teams/other/members", map[string]any{"email": "member@example.com", "role": "admin"})
	f.must(t, http.StatusCreated, "POST", "/api/v1/teams/other/members", map[string]any{"email": "viewer@example.com", "role": "admin"})
	f.must(t, http.StatusCreated, "POST", "/api/v1/registries", map[string]any{"name": "models"})
	f.must(t, http.StatusCreated, "POST", "/api/v1/registries/models/members", map[string]any{"email": "member@example.com", "role": "member"})
	key := func(email string) string {
		u, err := modelsUser(app, email)
		if err != nil {
			t.Fatal(err)
		}
		return app.APIKey(t, u)
	}
	member, viewer, teamAdmin, outsider := key("member@example.com"), key("viewer@example.com"), key("teamadmin@example.com"), key("outsider@example.com")
	a := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", projectAutomation("keep", "CREATE_ARTIFACT", `{}`))
	path := fmt.Sprintf("/api/v1/automations/%v", a["id"])

	registryBody := map[string]any{
		"name": "r", "scope": map[string]any{"type": "registry", "registry": "models"},
		"event": map[string]any{"type": "LINK_ARTIFACT"}, "action": map[string]any{"team": "ml", "webhook": "ci", "payload": `{}`},
	}
	otherProject := projectAutomation("x", "CREATE_ARTIFACT", `{}`)
	otherProject["scope"] = map[string]any{"type": "project", "project": "other/p"}
	cases := []struct {
		who, key, method, path string
		body                   any
		want                   int
	}{
		{"member creates a project automation", member, "POST", "/api/v1/automations", projectAutomation("x", "CREATE_ARTIFACT", `{}`), 403},
		{"viewer creates a project automation", viewer, "POST", "/api/v1/automations", projectAutomation("x", "CREATE_ARTIFACT", `{}`), 403},
		{"outsider creates a project automation", outsider, "POST", "/api/v1/automations", projectAutomation("x", "CREATE_ARTIFACT", `{}`), 404},
		{"registry member creates a registry automation", member, "POST", "/api/v1/automations", registryBody, 403},
		{"admin of other/p uses ml's webhook as a viewer of ml", viewer, "POST", "/api/v1/automations", otherProject, 403},
		{"member edits", member, "PATCH", path, map[string]any{"name": "renamed"}, 403},
		{"viewer deletes", viewer, "DELETE", path, nil, 403},
		{"outsider reads", outsider, "GET", path, nil, 404},
		{"outsider reads deliveries", outsider, "GET", path + "/deliveries", nil, 404},
	}
	for _, c := range cases {
		status, out := app.API(t, c.key, c.method, c.path, c.body)
		if status != c.want {
			t.Errorf("%s: status %d, want %d: %v", c.who, status, c.want, out)
		}
	}
	// Allowed: viewers read, the team admin edits.
	if status, _ := app.API(t, viewer, "GET", path, nil); status != http.StatusOK {
		t.Errorf("viewer reads: %d", status)
	}
	if status, out := app.API(t, teamAdmin, "PATCH", path, map[string]any{"description": "changed"}); status != http.StatusOK || out["description"] != "changed" {
		t.Errorf("team admin edits: %d %v", status, out)
	}
	got := f.must(t, http.StatusOK, "GET", path, nil)
	if got["name"] != "keep" || got["description"] != "changed" {
		t.Errorf("forbidden requests changed the automation: %v", got)
	}
	list := f.must(t, http.StatusOK, "GET", "/api/v1/automations", nil)
	if n := len(list["automations"].([]any)); n != 1 {
		t.Errorf("forbidden requests created automations: %d", n)
	}
}

// The wizard lists the webhooks (with their URLs) of the team its form
// names: a user who may not write to that team must not see them, even by
// sending the team's name directly.
func TestWizardListsOnlyWritableTeamsIntegrations(t *testing.T) {
	f := newAutomationFixture(t, nil)
	app := f.app
	app.User(t, "viewer@example.com", false)
	f.must(t, http.StatusCreated, "POST", "/api/v1/teams/ml/members", map[string]any{"email": "viewer@example.com", "role": "viewer"})
	f.must(t, http.StatusCreated, "POST", "/api/v1/teams", map[string]any{"name": "other"})
	f.must(t, http.StatusCreated, "POST", "/api/v1/teams/other/projects", map[string]any{"name": "p"})
	f.must(t, http.StatusCreated, "POST", "/api/v1/teams/other/members", map[string]any{"email": "viewer@example.com", "role": "admin"})
	s := app.SignInHTTP(t, "viewer@example.com")
	path := "/projects/other/p/automations/new"
	form := url.Values{"refresh": {"1"}, "step": {"2"}, "event": {"CREATE_ARTIFACT"}, "team": {"ml"}}
	status, body := s.PostFormHTMX(t, path, form)
	if status != http.StatusOK {
		t.Fatalf("wizard refresh: %d", status)
	}
	if strings.Contains(body, f.receiver.URL) {
		t.Errorf("the wizard showed team ml's webhook URL to a viewer of ml")
	}
	// The team admin of ml sees it, so the check above can fail.
	admin := app.SignInHTTP(t, "admin@example.com")
	if _, body := admin.PostFormHTMX(t, "/projects/ml/mnist/automations/new", form); !strings.Contains(body, f.receiver.URL) {
		t.Errorf("the wizard did not list team ml's webhook to its admin")
	}
}

func modelsUser(app *webtest.App, email string) (*models.User, error) {
	return models.UserByEmail(context.Background(), app.DB, email)
}

// statementCounter is a gorm logger that counts the statements run.
type statementCounter struct {
	logger.Interface
	n atomic.Int64
}

func (c *statementCounter) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	c.n.Add(1)
	c.Interface.Trace(ctx, begin, fc, err)
}

// The automation lists read the names they show with the listing, not one
// query per row: the statement count does not grow with the automations.
func TestAutomationListsReadAFixedNumberOfStatements(t *testing.T) {
	f := newAutomationFixture(t, nil, webtest.WithoutWorker())
	f.must(t, http.StatusCreated, "POST", "/api/v1/registries", map[string]any{"name": "models"})
	f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "resnet", "type": "model"})
	counter := &statementCounter{Interface: f.app.DB.Config.Logger}
	f.app.DB.Config.Logger = counter // no request has run yet: nothing reads it concurrently
	session := f.app.SignInHTTP(t, "admin@example.com")
	pages := []string{"/api/v1/automations?project=ml/mnist", "/api/v1/automations?registry=models", "/api/v1/automations",
		"/projects/ml/mnist/automations", "/registries/models/automations"}
	statements := func() []int64 {
		out := make([]int64, len(pages))
		for i, p := range pages {
			before := counter.n.Load()
			var status int
			if strings.HasPrefix(p, "/api/") {
				status, _ = f.app.APIRaw(t, f.key, "GET", p, nil)
			} else {
				status, _ = session.Get(t, p)
			}
			if status != http.StatusOK {
				t.Fatalf("GET %s: status %d", p, status)
			}
			out[i] = counter.n.Load() - before
		}
		return out
	}
	create := func(i int) {
		scope := map[string]any{"type": "project", "project": "ml/mnist"}
		event := "CREATE_ARTIFACT"
		switch i % 3 {
		case 1:
			scope["collection"] = "resnet"
		case 2:
			scope, event = map[string]any{"type": "registry", "registry": "models"}, "LINK_ARTIFACT"
		}
		f.must(t, http.StatusCreated, "POST", "/api/v1/automations", map[string]any{
			"name": fmt.Sprintf("a%d", i), "scope": scope, "event": map[string]any{"type": event},
			"action": map[string]any{"type": "webhook", "team": "ml", "webhook": "ci", "payload": `{}`},
		})
	}
	for i := range 3 {
		create(i)
	}
	few := statements()
	for i := 3; i < 12; i++ {
		create(i)
	}
	many := statements()
	for i, p := range pages {
		if few[i] == 0 || many[i] != few[i] {
			t.Errorf("GET %s: %d statements with 3 automations, %d with 12; want the same, more than 0", p, few[i], many[i])
		}
	}
	// The collection filter's name comes with the listing.
	_, out := f.app.API(t, f.key, "GET", "/api/v1/automations?project=ml/mnist", nil)
	list, _ := out["automations"].([]any)
	filtered := 0
	for _, a := range list {
		scope := a.(map[string]any)["scope"].(map[string]any)
		if scope["collection"] == "resnet" {
			filtered++
		}
		if action := a.(map[string]any)["action"].(map[string]any); action["webhook"] != "ci" || action["team"] != "ml" {
			t.Errorf("listed action = %v, want webhook ci of team ml", action)
		}
	}
	if len(list) != 8 || filtered != 4 {
		t.Errorf("listed %d project automations, %d filtered on resnet; want 8 and 4", len(list), filtered)
	}
	// Registry-wide automations listed under one collection keep their own scope.
	_, v := f.app.API(t, f.key, "GET", "/api/v1/projects/ml/mnist/artifacts/resnet/versions", nil)
	id := v["versions"].([]any)[0].(map[string]any)["id"]
	f.must(t, http.StatusCreated, "POST", fmt.Sprintf("/api/v1/artifacts/%v/links", id), map[string]any{"registry": "models", "collection": "classifier"})
	_, out = f.app.API(t, f.key, "GET", "/api/v1/automations?registry=models&collection=classifier", nil)
	list, _ = out["automations"].([]any)
	for _, a := range list {
		if scope := a.(map[string]any)["scope"].(map[string]any); scope["type"] != "registry" || scope["collection"] != nil {
			t.Errorf("registry-wide automation listed under classifier with scope %v", scope)
		}
	}
	if len(list) != 4 {
		t.Errorf("listed %d automations under classifier, want the 4 registry-wide ones", len(list))
	}
}
