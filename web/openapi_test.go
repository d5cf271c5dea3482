package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/secretbox"
	"github.com/automations-dev/automations/web/openapi"
	"github.com/automations-dev/automations/web/webtest"
)

// loadOpenAPI parses and validates the served document (OpenAPI 3.1, JSON
// Schema 2020-12 for its schemas).
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openapi.Document)
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
	}
	return doc
}

var echoParam = regexp.MustCompile(`:([A-Za-z_]+)`)

// The document describes exactly the server's /api/v1 routes: one added to
// routes.go without a description fails here, and so does a described
// route the server does not have.
func TestOpenAPIDescribesEveryAPIRoute(t *testing.T) {
	doc := loadOpenAPI(t)
	app := webtest.Start(t, webtest.WithoutWorker())

	served := map[string]bool{}
	for _, r := range app.Server.Routes() {
		if r.Method == echo.RouteNotFound || !strings.HasPrefix(r.Path, "/api/v1/") {
			continue
		}
		served[r.Method+" "+echoParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	described := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			described[method+" "+path] = true
		}
	}
	var missing, extra []string
	for k := range served {
		if !described[k] {
			missing = append(missing, k)
		}
	}
	for k := range described {
		if !served[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	for _, k := range missing {
		t.Errorf("route %s is not described in web/openapi/openapi.json", k)
	}
	for _, k := range extra {
		t.Errorf("openapi.json describes %s, which the server does not route", k)
	}
	if len(served) < 60 {
		t.Errorf("only %d /api/v1 routes found: the route listing is not what this test expects", len(served))
	}
}

// openAPIChecker is an http.RoundTripper that checks every API exchange
// against the document: the request must match a described operation, a
// request the server accepted (2xx) must fit the operation's parameters
// and body, and every answer must be a described status with a body that
// fits its schema.
type openAPIChecker struct {
	t      *testing.T
	router routers.Router
	mu     sync.Mutex
	// answered is each operation ("METHOD /path" as the document names it)
	// with the statuses it answered.
	answered map[string]map[int]bool
}

func newOpenAPIChecker(t *testing.T, doc *openapi3.T) *openAPIChecker {
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("openapi router: %v", err)
	}
	return &openAPIChecker{t: t, router: router, answered: map[string]map[int]bool{}}
}

func (c *openAPIChecker) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		var err error
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	c.check(req, reqBody, resp, respBody)
	return resp, nil
}

func (c *openAPIChecker) check(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) {
	c.t.Helper()
	what := fmt.Sprintf("%s %s → %d", req.Method, req.URL.RequestURI(), resp.StatusCode)
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		c.t.Errorf("%s: no operation in openapi.json: %v", what, err)
		return
	}
	c.mu.Lock()
	key := route.Method + " " + route.Path
	if c.answered[key] == nil {
		c.answered[key] = map[int]bool{}
	}
	c.answered[key][resp.StatusCode] = true
	c.mu.Unlock()

	ctx := context.Background()
	sent := req.Clone(ctx)
	sent.Body = io.NopCloser(bytes.NewReader(reqBody))
	in := &openapi3filter.RequestValidationInput{
		Request: sent, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	if resp.StatusCode < 300 {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			c.t.Errorf("%s: the server accepted a request the document refuses: %v\nbody: %s", what, err, reqBody)
		}
	}
	err = openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body:    io.NopCloser(bytes.NewReader(respBody)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	})
	if err != nil {
		c.t.Errorf("%s: the answer does not fit openapi.json: %v\nbody: %s", what, err, respBody)
	}
}

// openAPIFlow drives the API as the site admin with every exchange checked.
type openAPIFlow struct {
	t   *testing.T
	app *webtest.App
	key string
}

// call sends a request with key and fails unless it answers want.
func (f *openAPIFlow) call(key string, want int, method, path string, body any) map[string]any {
	f.t.Helper()
	status, out := f.app.API(f.t, key, method, path, body)
	if status != want {
		f.t.Fatalf("%s %s: status %d, want %d: %v", method, path, status, want, out)
	}
	return out
}

// must is call with the site admin's key.
func (f *openAPIFlow) must(want int, method, path string, body any) map[string]any {
	f.t.Helper()
	return f.call(f.key, want, method, path, body)
}

// refused checks an error answer: its status and the field it names.
func (f *openAPIFlow) refused(key string, want int, field, method, path string, body any) {
	f.t.Helper()
	out := f.call(key, want, method, path, body)
	if msg, _ := out["error"].(string); msg == "" || out["field"] != nilIfEmpty(field) {
		f.t.Errorf("%s %s: error %v, want a message on field %q", method, path, out, field)
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Real answers of the main flows, errors included, fit the document: each
// request and answer goes through openAPIChecker.
func TestOpenAPIAnswersMatchDocument(t *testing.T) {
	doc := loadOpenAPI(t)
	checker := newOpenAPIChecker(t, doc)
	rcv := newHookReceiver(t, nil)
	app := webtest.Start(t, webtest.WithAllowedTargets("127.0.0.1"))
	app.APIClient = &http.Client{Transport: checker}
	site := app.User(t, "site@example.com", true)
	member := app.User(t, "member@example.com", false)
	f := &openAPIFlow{t: t, app: app, key: app.APIKey(t, site)}
	memberKey := app.APIKey(t, member)

	// The description itself, without a key.
	status, raw := app.APIRaw(t, "", "GET", "/api/v1/openapi.json", nil)
	if status != http.StatusOK || !bytes.Equal(raw, openapi.Document) {
		t.Fatalf("GET /api/v1/openapi.json: %d, %d bytes (want the embedded %d)", status, len(raw), len(openapi.Document))
	}

	// People.
	f.must(201, "POST", "/api/v1/users", map[string]any{"email": "ada@example.com", "name": "Ada", "password": "a long password 1"})
	if out := f.must(201, "POST", "/api/v1/users", map[string]any{"email": "bob@example.com", "name": "Bob"}); out["invite_url"] == nil {
		t.Errorf("invited user: no invite_url: %v", out)
	}
	f.must(200, "GET", "/api/v1/users", nil)
	f.must(200, "PATCH", "/api/v1/users/bob@example.com", map[string]any{"name": "Robert"})
	f.refused(f.key, 409, "email", "POST", "/api/v1/users", map[string]any{"email": "ada@example.com", "name": "Ada"})

	// Teams, members, projects.
	f.must(201, "POST", "/api/v1/teams", map[string]any{"name": "ml"})
	f.must(200, "GET", "/api/v1/teams", nil)
	f.must(201, "POST", "/api/v1/teams/ml/members", map[string]any{"email": member.Email, "role": "member"})
	f.must(201, "POST", "/api/v1/teams/ml/members", map[string]any{"email": "ada@example.com", "role": "viewer"})
	if out := f.must(201, "POST", "/api/v1/teams/ml/members", map[string]any{"email": "new@example.com", "role": "viewer"}); out["invite_url"] == nil {
		t.Errorf("member with no account: no invite_url: %v", out)
	}
	f.must(200, "PATCH", "/api/v1/teams/ml/members/ada@example.com", map[string]any{"role": "member"})
	f.must(200, "GET", "/api/v1/teams/ml/members", nil)
	f.must(204, "DELETE", "/api/v1/teams/ml/members/new@example.com", nil)
	f.refused(f.key, 409, "role", "PATCH", "/api/v1/teams/ml/members/site@example.com", map[string]any{"role": "member"})
	f.refused(f.key, 422, "role", "POST", "/api/v1/teams/ml/members", map[string]any{"email": "x@example.com", "role": "owner"})
	f.must(201, "POST", "/api/v1/teams/ml/projects", map[string]any{"name": "mnist"})
	f.must(200, "GET", "/api/v1/teams/ml/projects", nil)
	f.refused(f.key, 422, "name", "POST", "/api/v1/teams/ml/projects", map[string]any{"name": "no spaces here"})

	// Secrets and a webhook integration: create, read, change, test, rotate.
	for _, name := range []string{"TOKEN", "SIGNING", "NEXT_SIGNING", "SPARE"} {
		f.must(201, "POST", "/api/v1/teams/ml/secrets", map[string]any{"name": name, "value": "value-of-" + name})
	}
	f.must(200, "GET", "/api/v1/teams/ml/secrets", nil)
	f.must(200, "PATCH", "/api/v1/teams/ml/secrets/SPARE", map[string]any{"value": "rotated"})
	f.must(204, "DELETE", "/api/v1/teams/ml/secrets/SPARE", nil)
	f.must(201, "POST", "/api/v1/teams/ml/webhooks", map[string]any{
		"name": "ci", "url": rcv.URL + "/hook", "access_token_secret": "TOKEN", "signing_secret": "SIGNING", "secrets": []string{},
	})
	f.must(200, "GET", "/api/v1/teams/ml/webhooks", nil)
	f.must(200, "PATCH", "/api/v1/teams/ml/webhooks/ci", map[string]any{"secrets": []string{"TOKEN"}})
	test := f.must(200, "POST", "/api/v1/teams/ml/webhooks/ci/test", map[string]any{"payload": `{"v": "${artifact_version_string}"}`})
	if test["response"] == nil {
		t.Errorf("webhook test: no response: %v", test)
	}
	rcv.next(t)
	f.must(200, "POST", "/api/v1/teams/ml/webhooks/ci/rotate-secret", map[string]any{"secret": "NEXT_SIGNING", "overlap": "1h"})
	f.must(200, "GET", "/api/v1/teams/ml/webhooks/ci", nil)
	f.must(200, "POST", "/api/v1/teams/ml/webhooks/ci/retry-failed", map[string]any{"since": "1h"})
	f.must(200, "PATCH", "/api/v1/teams/ml/webhooks/ci", map[string]any{"max_concurrent": 4, "max_per_minute": 600})
	f.must(200, "POST", "/api/v1/teams/ml/webhooks/ci/enable", map[string]any{"held": "send"})
	f.refused(f.key, 422, "held", "POST", "/api/v1/teams/ml/webhooks/ci/enable", map[string]any{"held": "later"})
	alerts := f.slackIntegration("ml")
	f.must(200, "POST", fmt.Sprintf("/api/v1/teams/ml/slack/integrations/%d/enable", alerts), map[string]any{"held": "discard"})
	f.refused(f.key, 404, "", "POST", "/api/v1/teams/ml/slack/integrations/999999/enable", map[string]any{})
	f.refused(f.key, 422, "url", "POST", "/api/v1/teams/ml/webhooks", map[string]any{"name": "bad", "url": "ftp://example.com"})
	f.refused(memberKey, 403, "", "POST", "/api/v1/teams/ml/webhooks", map[string]any{"name": "m", "url": rcv.URL})
	f.refused(f.key, 400, "colour", "POST", "/api/v1/teams/ml/webhooks", map[string]any{"name": "c", "colour": "red"})

	// Automations: an artifact one and a run one.
	created := f.must(201, "POST", "/api/v1/automations", map[string]any{
		"name": "notify", "description": "tell CI", "enabled": true,
		"scope":  map[string]any{"type": "project", "project": "ml/mnist"},
		"event":  map[string]any{"type": "CREATE_ARTIFACT"},
		"action": map[string]any{"type": "webhook", "team": "ml", "webhook": "ci", "payload": `{"v": "${artifact_version_string}"}`},
	})
	id := int64(created["id"].(float64))
	runAuto := f.must(201, "POST", "/api/v1/automations", map[string]any{
		"name": "run done", "scope": map[string]any{"type": "project", "project": "ml/mnist"},
		"event":  map[string]any{"type": "RUN_STATE", "states": []string{"finished"}, "cooldown": "1h"},
		"action": map[string]any{"type": "webhook", "team": "ml", "webhook": "ci", "payload": `{"run": "${run_name}"}`},
	})
	f.must(200, "GET", "/api/v1/automations", nil)
	f.must(200, "GET", "/api/v1/automations?project=ml/mnist", nil)
	f.must(200, "GET", fmt.Sprintf("/api/v1/automations/%d", id), nil)
	f.must(200, "PATCH", fmt.Sprintf("/api/v1/automations/%d", id), map[string]any{"description": "tell CI, politely"})
	f.refused(f.key, 422, "event.type", "POST", "/api/v1/automations", map[string]any{
		"name": "bad", "scope": map[string]any{"type": "project", "project": "ml/mnist"},
		"event":  map[string]any{"type": "NOPE"},
		"action": map[string]any{"type": "webhook", "team": "ml", "webhook": "ci", "payload": `{}`},
	})
	f.refused(f.key, 404, "", "GET", "/api/v1/automations/999999", nil)

	// Artifacts: log (fires the automation), aliases, registry links.
	v1 := f.must(201, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{
		"name": "model", "type": "model", "metadata": map[string]any{"acc": 0.9}, "aliases": []string{"candidate"},
	})
	v := int64(v1["id"].(float64))
	rcv.next(t)
	f.must(200, "GET", "/api/v1/projects/ml/mnist/artifacts", nil)
	f.must(200, "GET", "/api/v1/projects/ml/mnist/artifacts/model/versions", nil)
	f.must(200, "GET", fmt.Sprintf("/api/v1/artifacts/%d", v), nil)
	f.must(201, "POST", fmt.Sprintf("/api/v1/artifacts/%d/aliases", v), map[string]any{"alias": "best"})
	f.must(200, "POST", fmt.Sprintf("/api/v1/artifacts/%d/aliases", v), map[string]any{"alias": "best"})
	f.must(204, "DELETE", fmt.Sprintf("/api/v1/artifacts/%d/aliases/best", v), nil)
	f.refused(f.key, 404, "alias", "DELETE", fmt.Sprintf("/api/v1/artifacts/%d/aliases/best", v), nil)
	f.must(200, "GET", "/api/v1/projects/ml/mnist/events?limit=10", nil)
	f.refused(f.key, 400, "limit", "GET", "/api/v1/projects/ml/mnist/events?limit=0", nil)

	f.must(201, "POST", "/api/v1/registries", map[string]any{"name": "prod", "description": "production models"})
	f.must(200, "GET", "/api/v1/registries", nil)
	f.must(201, "POST", "/api/v1/registries/prod/members", map[string]any{"email": member.Email, "role": "viewer"})
	f.must(200, "PATCH", "/api/v1/registries/prod/members/"+member.Email, map[string]any{"role": "member"})
	f.must(200, "GET", "/api/v1/registries/prod/members", nil)
	f.must(201, "POST", fmt.Sprintf("/api/v1/artifacts/%d/links", v), map[string]any{"registry": "prod", "collection": "mnist", "aliases": []string{"staging"}})
	f.must(200, "POST", fmt.Sprintf("/api/v1/artifacts/%d/links", v), map[string]any{"registry": "prod", "collection": "mnist"})
	f.must(200, "GET", "/api/v1/registries/prod/collections", nil)
	f.must(200, "GET", "/api/v1/registries/prod/collections/mnist/versions", nil)
	f.must(200, "GET", "/api/v1/registries/prod/events", nil)
	f.must(204, "DELETE", "/api/v1/registries/prod/members/"+member.Email, nil)

	// Deliveries: history with attempts, redeliver, retry failed.
	ds := f.waitDelivery(id, "succeeded")
	f.must(202, "POST", fmt.Sprintf("/api/v1/deliveries/%s/redeliver", ds[0]["id"]), nil)
	rcv.next(t)
	f.must(200, "POST", fmt.Sprintf("/api/v1/automations/%d/retry-failed", id), map[string]any{"since": "24h"})
	f.refused(f.key, 422, "since", "POST", fmt.Sprintf("/api/v1/automations/%d/retry-failed", id), map[string]any{"since": "whenever"})
	f.must(200, "GET", fmt.Sprintf("/api/v1/automations/%d/deliveries?page=1", id), nil)

	// Before saving: preview and dry run; after: an approval gate.
	gated := map[string]any{
		"name": "gated", "scope": map[string]any{"type": "project", "project": "ml/mnist"},
		"event":            map[string]any{"type": "CREATE_ARTIFACT"},
		"action":           map[string]any{"type": "webhook", "team": "ml", "webhook": "ci", "payload": `{"v": "${artifact_version_string}"}`},
		"require_approval": true, "approval_timeout": "24h", "dedupe_window": "1h",
	}
	if out := f.must(200, "POST", "/api/v1/automations/preview", gated); out["request"] == nil {
		t.Errorf("preview of a webhook automation: no request: %v", out)
	}
	f.must(200, "POST", "/api/v1/automations/dry-run", map[string]any{
		"scope": gated["scope"], "event": gated["event"], "action": gated["action"], "days": 7,
	})
	f.refused(f.key, 422, "days", "POST", "/api/v1/automations/dry-run", map[string]any{
		"scope": gated["scope"], "event": gated["event"], "action": gated["action"], "days": 400,
	})
	gatedID := f.must(201, "POST", "/api/v1/automations", gated)["id"]
	for range 2 {
		f.must(201, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "model", "type": "model"})
	}
	var waiting struct {
		Deliveries []map[string]any `json:"deliveries"`
	}
	if status, raw := app.APIRaw(t, f.key, "GET", "/api/v1/deliveries/awaiting-approval", nil); status != 200 || json.Unmarshal(raw, &waiting) != nil || len(waiting.Deliveries) != 2 {
		t.Fatalf("awaiting approval: %d %s", status, raw)
	}
	approve := fmt.Sprintf("/api/v1/deliveries/%s/approve", waiting.Deliveries[0]["id"])
	f.must(200, "POST", approve, nil)
	f.refused(f.key, 409, "state", "POST", approve, map[string]any{"comment": "again"})
	f.must(200, "POST", fmt.Sprintf("/api/v1/deliveries/%s/reject", waiting.Deliveries[1]["id"]), map[string]any{"comment": "not this one"})

	// Runs: a service account logs one, fires the run automation on finish.
	sa := f.must(201, "POST", "/api/v1/teams/ml/service-accounts", map[string]any{"name": "trainer", "role": "member"})
	f.must(200, "GET", "/api/v1/teams/ml/service-accounts", nil)
	saKey, _ := sa["api_key"].(string)
	run := f.call(saKey, 201, "POST", "/api/v1/projects/ml/mnist/runs", map[string]any{
		"display_name": "first", "config": map[string]any{"lr": 0.1}, "tags": []string{"baseline"},
	})
	runPath := fmt.Sprintf("/api/v1/runs/%d", int64(run["id"].(float64)))
	token, _ := run["token"].(string)
	f.call(token, 200, "POST", runPath+"/history", map[string]any{"rows": []any{
		map[string]any{"step": 0, "metrics": map[string]any{"loss": 0.9}},
		map[string]any{"step": 1, "metrics": map[string]any{"loss": 0.5, "acc": 0.7}},
	}})
	f.refused(token, 422, "rows[0].metrics.loss", "POST", runPath+"/history", map[string]any{"rows": []any{
		map[string]any{"step": 2, "metrics": map[string]any{"loss": "low"}},
	}})
	f.call(token, 204, "POST", runPath+"/heartbeat", nil)
	// A run event's dry run replays the stored history: loss 0.5 at step 1.
	runDry := f.must(200, "POST", "/api/v1/automations/dry-run", map[string]any{
		"scope":  map[string]any{"type": "project", "project": "ml/mnist"},
		"event":  map[string]any{"type": "RUN_METRIC", "metric": "loss", "window": 1, "op": "<", "threshold": 0.6},
		"action": map[string]any{"type": "webhook", "team": "ml", "webhook": "ci", "payload": "{}"},
	})
	if evs, _ := runDry["events"].([]any); runDry["matches"] != float64(1) || len(evs) != 1 || evs[0].(map[string]any)["metric_step"] != float64(1) {
		t.Errorf("run dry run = %v, want one fire at step 1", runDry)
	}
	f.must(200, "GET", runPath, nil)
	f.must(200, "GET", "/api/v1/projects/ml/mnist/runs?state=running&limit=10", nil)
	if list := f.must(200, "GET", "/api/v1/projects/ml/mnist/runs?metrics=loss,acc", nil); fmt.Sprint(list["runs"].([]any)[0].(map[string]any)["last_metrics"]) != "map[acc:map[step:1 value:0.7] loss:map[step:1 value:0.5]]" {
		t.Errorf("runs list with metrics: %v", list)
	}
	f.refused(f.key, 422, "metrics", "GET", "/api/v1/projects/ml/mnist/runs?metrics=a,b,c,d,e,f,g,h,i,j,k", nil)
	f.call(saKey, 200, "PATCH", runPath, map[string]any{"state": "finished"})
	rcv.next(t)
	f.must(204, "DELETE", "/api/v1/teams/ml/service-accounts/trainer", nil)
	f.refused(saKey, 401, "", "GET", runPath, nil)

	// Launch queues: an agent claims an item and reports on it.
	f.must(201, "POST", "/api/v1/teams/ml/queues", map[string]any{"name": "gpu"})
	f.must(201, "POST", "/api/v1/teams/ml/queues", map[string]any{"name": "spare"})
	f.must(200, "GET", "/api/v1/teams/ml/queues", nil)
	f.enqueue("ml", "gpu")
	claim := "/api/v1/teams/ml/queues/gpu/claim"
	item := f.call(memberKey, 200, "POST", claim, map[string]any{"agent": "box-1"})
	f.call(memberKey, 204, "POST", claim, map[string]any{"agent": "box-2"})
	itemStatus := fmt.Sprintf("/api/v1/run-queue-items/%d/status", int64(item["id"].(float64)))
	f.call(memberKey, 200, "POST", itemStatus, map[string]any{"state": "running", "agent": "box-1"})
	f.call(memberKey, 200, "POST", itemStatus, map[string]any{"state": "finished", "exit_code": 0, "message": "done", "agent": "box-1"})
	f.must(200, "GET", "/api/v1/teams/ml/queues/gpu/items", nil)
	f.refused(memberKey, 403, "", "DELETE", "/api/v1/teams/ml/queues/gpu", nil)
	f.must(204, "DELETE", "/api/v1/teams/ml/queues/spare", nil)

	// The audit log saw it all; then clean up through the API.
	f.must(200, "GET", "/api/v1/teams/ml/audit-log?limit=5", nil)
	f.refused(f.key, 409, "name", "DELETE", "/api/v1/teams/ml/webhooks/ci", nil)
	f.must(204, "DELETE", fmt.Sprintf("/api/v1/automations/%d", id), nil)
	f.must(204, "DELETE", fmt.Sprintf("/api/v1/automations/%v", runAuto["id"]), nil)
	f.must(204, "DELETE", fmt.Sprintf("/api/v1/automations/%v", gatedID), nil)
	f.must(204, "DELETE", "/api/v1/teams/ml/webhooks/ci", nil)
	f.must(204, "DELETE", "/api/v1/users/bob@example.com", nil)
	f.refused("", 401, "", "GET", "/api/v1/teams", nil)

	// Every kind of answer was checked at least once.
	seen := map[int]bool{}
	var ops []string
	for op, statuses := range checker.answered {
		ops = append(ops, op)
		for s := range statuses {
			seen[s] = true
		}
	}
	for _, s := range []int{200, 201, 202, 204, 400, 401, 403, 404, 409, 422} {
		if !seen[s] {
			t.Errorf("no answer with status %d was checked", s)
		}
	}
	// A route added later is described (the test above) and exercised here.
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !slices.Contains(ops, method+" "+path) {
				t.Errorf("%s %s: no answer was checked; call it in this test", method, path)
			}
		}
	}
}

// waitDelivery polls the automation's history until its newest delivery is
// in state, and returns the history.
func (f *openAPIFlow) waitDelivery(id int64, state string) []map[string]any {
	f.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var out struct {
			Deliveries []map[string]any `json:"deliveries"`
		}
		status, raw := f.app.APIRaw(f.t, f.key, "GET", fmt.Sprintf("/api/v1/automations/%d/deliveries", id), nil)
		if status != http.StatusOK || json.Unmarshal(raw, &out) != nil {
			f.t.Fatalf("deliveries: %d %s", status, raw)
		}
		if len(out.Deliveries) > 0 && out.Deliveries[0]["state"] == state {
			return out.Deliveries
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("the newest delivery never became %s: %s", state, raw)
		}
		time.Sleep(50 * time.Millisecond) // polling interval, not synchronisation: the loop waits on the condition
	}
}

// enqueue puts a launch item on the team's queue, as a launch delivery
// would (the claim and status routes are what is checked here).
func (f *openAPIFlow) enqueue(team, queue string) {
	f.t.Helper()
	ctx := context.Background()
	tm, err := models.TeamByName(ctx, f.app.DB, team)
	if err != nil {
		f.t.Fatal(err)
	}
	q, err := models.QueueByName(ctx, f.app.DB, tm.ID, queue)
	if err != nil {
		f.t.Fatal(err)
	}
	item := &models.RunQueueItem{QueueID: q.ID, Job: team + "/mnist/train", JobVersion: "v1", Config: `{"lr": 0.1}`, DestinationProject: team + "/mnist"}
	if err := models.EnqueueRunItem(ctx, f.app.DB, item); err != nil {
		f.t.Fatal(err)
	}
}

// slackIntegration connects a Slack channel to the team directly (the OAuth
// flow is not what is checked here) and returns its id.
func (f *openAPIFlow) slackIntegration(team string) int64 {
	f.t.Helper()
	ctx := context.Background()
	tm, err := models.TeamByName(ctx, f.app.DB, team)
	if err != nil {
		f.t.Fatal(err)
	}
	box, err := secretbox.Open(ctx, "", f.app.Keys.Encryption)
	if err != nil {
		f.t.Fatal(err)
	}
	defer box.Close()
	site, err := models.UserByEmail(ctx, f.app.DB, "site@example.com")
	if err != nil {
		f.t.Fatal(err)
	}
	s, err := models.CreateSlackIntegration(ctx, f.app.DB, box, tm.ID, "T0ACME", "Acme", "C0ALERTS", "alerts", "xoxb-test", site)
	if err != nil {
		f.t.Fatal(err)
	}
	return s.ID
}
