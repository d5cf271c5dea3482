package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/payload"
	"github.com/automations-dev/automations/web/webtest"
)

// aliasAutomation is projectAutomation watching ADD_ARTIFACT_ALIAS with regex.
func aliasAutomation(name, regex, tpl string) map[string]any {
	a := projectAutomation(name, "ADD_ARTIFACT_ALIAS", tpl)
	a["event"] = map[string]any{"type": "ADD_ARTIFACT_ALIAS", "alias_regex": regex}
	return a
}

// projectEvents lists the project's events, newest first.
func (f *automationFixture) projectEvents(t *testing.T) []map[string]any {
	t.Helper()
	out := f.must(t, http.StatusOK, "GET", "/api/v1/projects/ml/mnist/events?limit=500", nil)
	var evs []map[string]any
	for _, e := range out["events"].([]any) {
		evs = append(evs, e.(map[string]any))
	}
	return evs
}

func (f *automationFixture) logArtifact(t *testing.T, name, typ string, aliases ...string) map[string]any {
	t.Helper()
	if aliases == nil {
		aliases = []string{}
	}
	return f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{
		"name": name, "type": typ, "metadata": map[string]any{"accuracy": 0.91}, "aliases": aliases,
	})
}

// The preview of an automation is, byte for byte, the body its webhook
// then receives for that event (secret values shown as ••••), with the
// same headers (delivery id, timestamp and signatures aside).
func TestPreviewEqualsWhatTheReceiverGets(t *testing.T) {
	f := newAutomationFixture(t, nil)
	secretTpl := `{"version": "${artifact_version_string}", "extra": "$EXTRA", "token": "${ACCESS_TOKEN}",
		"automation": "${automation_name}", "accuracy": "${artifact_metadata.accuracy}", "alias": "${alias}"}`
	plainTpl := `{"v": "${artifact_version_string}", "automation": "${automation_name}", "author": "${event_author}"}`
	ship, plain := aliasAutomation("ship", "prod.*", secretTpl), aliasAutomation("plain", "prod.*", plainTpl)

	// No event yet: a sample event from the scope's real names.
	p := f.must(t, http.StatusOK, "POST", "/api/v1/automations/preview", ship)
	if p["sample"] != true || p["event_id"] != float64(0) {
		t.Fatalf("preview before any event = %v, want a sample", p)
	}
	sampleBody := p["request"].(map[string]any)["body"].(string)
	if !strings.Contains(sampleBody, `"version":"ml/mnist/my-model:production"`) || !strings.Contains(sampleBody, `"extra":"••••"`) {
		t.Errorf("sample preview body = %s", sampleBody)
	}

	f.must(t, http.StatusCreated, "POST", "/api/v1/automations", ship)
	f.must(t, http.StatusCreated, "POST", "/api/v1/automations", plain)
	f.logArtifact(t, "mnist-model", "model", "production")
	got := map[string]received{}
	for range 2 {
		r := f.receiver.next(t)
		var b map[string]any
		if err := json.Unmarshal(r.Body, &b); err != nil {
			t.Fatal(err)
		}
		got[b["automation"].(string)] = r
	}
	evs := f.projectEvents(t)
	aliasEvent := evs[0]["id"].(float64)
	if evs[0]["type"] != "ADD_ARTIFACT_ALIAS" {
		t.Fatalf("newest event = %v", evs[0])
	}

	for _, c := range []struct {
		name string
		body map[string]any
	}{{"ship", ship}, {"plain", plain}} {
		p := f.must(t, http.StatusOK, "POST", "/api/v1/automations/preview", c.body)
		if p["event_id"] != aliasEvent || p["sample"] != false {
			t.Fatalf("%s: preview rendered event %v (sample %v), want the newest matching event %v", c.name, p["event_id"], p["sample"], aliasEvent)
		}
		req := p["request"].(map[string]any)
		received := got[c.name]
		want := string(received.Body)
		for _, secret := range []string{tokenValue, extraValue} {
			want = strings.ReplaceAll(want, secret, payload.Redacted)
		}
		if req["body"] != want {
			t.Errorf("%s: preview body\n%s\nreceiver got (secrets masked)\n%s", c.name, req["body"], want)
		}
		headers := req["headers"].(map[string]any)
		for name, v := range headers {
			switch name {
			case "X-Automations-Delivery", "X-Automations-Timestamp", "Webhook-Id", "Webhook-Timestamp", "Webhook-Signature":
				if received.Header.Get(name) == "" {
					t.Errorf("%s: the receiver got no %s", c.name, name)
				}
			case "Authorization":
				if v != "Bearer "+payload.Redacted || received.Header.Get(name) != "Bearer "+tokenValue {
					t.Errorf("%s: Authorization preview %q, received %q", c.name, v, received.Header.Get(name))
				}
			case "X-Wandb-Signature":
				// A signature of the body: equal when no secret is in it.
				if c.name == "plain" && v != received.Header.Get(name) {
					t.Errorf("plain: X-Wandb-Signature preview %q, received %q", v, received.Header.Get(name))
				}
			default:
				if v != received.Header.Get(name) {
					t.Errorf("%s: header %s preview %q, received %q", c.name, name, v, received.Header.Get(name))
				}
			}
		}
		if len(headers) < 6 {
			t.Errorf("%s: preview headers = %v", c.name, headers)
		}
	}

	// Another event by id; one the automation does not match is refused.
	createEvent := evs[len(evs)-1]
	body := withField(ship, "event_id", createEvent["id"])
	if status, out := f.app.API(t, f.key, "POST", "/api/v1/automations/preview", body); status != http.StatusUnprocessableEntity || out["field"] != "event_id" {
		t.Errorf("preview for a CREATE_ARTIFACT event: %d %v, want 422 on event_id", status, out)
	}
	if status, _ := f.app.API(t, f.key, "POST", "/api/v1/automations/preview", withField(ship, "event_id", 999999)); status != http.StatusNotFound {
		t.Errorf("preview for a missing event: %d, want 404", status)
	}
}

func withField(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{}
	for key, val := range m {
		out[key] = val
	}
	out[k] = v
	return out
}

// A launch automation's preview is the run-queue item it would create:
// the job version's config with the overrides merged over it.
func TestPreviewLaunchConfig(t *testing.T) {
	f := newAutomationFixture(t, nil)
	f.must(t, http.StatusCreated, "POST", "/api/v1/teams/ml/queues", map[string]any{"name": "gpu"})
	f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{
		"name": "train", "type": "job", "metadata": map[string]any{"config": map[string]any{"lr": 0.1, "epochs": 3}},
	})
	f.logArtifact(t, "mnist-model", "model")
	p := f.must(t, http.StatusOK, "POST", "/api/v1/automations/preview", launchAutomation("retrain", false))
	launch, _ := p["launch"].(map[string]any)
	cfg, _ := launch["config"].(map[string]any)
	if launch["job_version"] != "v0" || cfg["lr"] != 0.5 || cfg["epochs"] != float64(3) || launch["queue"] != "gpu" {
		t.Errorf("launch preview = %v", p)
	}
}

func launchAutomation(name string, approval bool) map[string]any {
	return map[string]any{
		"name": name, "enabled": true, "require_approval": approval,
		"scope": map[string]any{"type": "project", "project": "ml/mnist", "collection": "mnist-model"},
		"event": map[string]any{"type": "CREATE_ARTIFACT"},
		"action": map[string]any{"type": "launch", "team": "ml", "queue": "gpu", "job": "ml/mnist/train", "job_version": "latest",
			"overrides": map[string]any{"lr": 0.5}, "destination_project": "ml/mnist"},
	}
}

// replay runs every stored event of the fixture through live matching
// again and returns, per automation id, the events it queued deliveries for.
func replay(t *testing.T, app *webtest.App) map[int64][]int64 {
	t.Helper()
	ctx := context.Background()
	var ids []int64
	if err := app.DB.Model(&models.Event{}).Order("id").Pluck("id", &ids).Error; err != nil {
		t.Fatal(err)
	}
	var before int64
	app.DB.Model(&models.Delivery{}).Select("COALESCE(MAX(id), 0)").Scan(&before)
	for _, id := range ids {
		ev, err := models.EventByID(ctx, app.DB, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := models.EnqueueDeliveries(ctx, app.DB, ev.ID, ev.MatchTarget()); err != nil {
			t.Fatal(err)
		}
	}
	var ds []models.Delivery
	if err := app.DB.Where("id > ?", before).Find(&ds).Error; err != nil {
		t.Fatal(err)
	}
	out := map[int64][]int64{}
	for _, d := range ds {
		out[*d.AutomationID] = append(out[*d.AutomationID], d.EventID)
	}
	return out
}

// A dry run counts exactly the events that live matching fires for: the
// same events replayed create that many deliveries, for those events.
func TestDryRunAgreesWithReplay(t *testing.T) {
	f := newAutomationFixture(t, nil, webtest.WithoutWorker())
	f.must(t, http.StatusCreated, "POST", "/api/v1/registries", map[string]any{"name": "models"})
	v0 := f.logArtifact(t, "mnist-model", "model", "production")
	f.logArtifact(t, "mnist-model", "model", "staging")
	f.logArtifact(t, "mnist-model", "model", "prod-eu")
	f.logArtifact(t, "data", "dataset", "production")
	f.must(t, http.StatusCreated, "POST", fmt.Sprintf("/api/v1/artifacts/%v/aliases", v0["id"]), map[string]any{"alias": "prod-us"})
	f.must(t, http.StatusCreated, "POST", fmt.Sprintf("/api/v1/artifacts/%v/links", v0["id"]), map[string]any{"registry": "models", "aliases": []string{"production"}})

	filtered := func(a map[string]any, collection string) map[string]any {
		a = withField(a, "scope", map[string]any{"type": "project", "project": "ml/mnist", "collection": collection})
		return a
	}
	registry := projectAutomation("reg-link", "LINK_ARTIFACT", "{}")
	registry["scope"] = map[string]any{"type": "registry", "registry": "models"}
	cases := []struct {
		name string
		body map[string]any
		want int
	}{
		{"every-create", projectAutomation("every-create", "CREATE_ARTIFACT", "{}"), 4},
		{"model-create", filtered(projectAutomation("model-create", "CREATE_ARTIFACT", "{}"), "mnist-model"), 3},
		{"prod-alias", aliasAutomation("prod-alias", "prod.*", "{}"), 4},
		{"model-prod-alias", filtered(aliasAutomation("model-prod-alias", "prod.*", "{}"), "mnist-model"), 3},
		{"exact-alias", aliasAutomation("exact-alias", "prod", "{}"), 0},
		{"reg-link", registry, 1},
	}
	dry := map[string]map[string]any{}
	created := map[int64]string{}
	for _, c := range cases {
		out := f.must(t, http.StatusOK, "POST", "/api/v1/automations/dry-run", c.body)
		if out["matches"] != float64(c.want) || out["days"] != float64(30) {
			t.Errorf("%s: dry run = %v, want %d matches in 30 days", c.name, out, c.want)
		}
		dry[c.name] = out
		a := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", c.body)
		created[int64(a["id"].(float64))] = c.name
	}
	fired := replay(t, f.app)
	for id, name := range created {
		var listed []int64
		for _, e := range dry[name]["events"].([]any) {
			listed = append(listed, int64(e.(map[string]any)["id"].(float64)))
		}
		got := fired[id]
		sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
		sort.Slice(listed, func(i, j int) bool { return listed[i] < listed[j] })
		if !slices.Equal(got, listed) {
			t.Errorf("%s: replay fired for events %v, the dry run listed %v", name, got, listed)
		}
		if int(dry[name]["matches"].(float64)) != len(got) {
			t.Errorf("%s: dry run counted %v, replay created %d deliveries", name, dry[name]["matches"], len(got))
		}
	}

	// Events older than the window are not counted.
	evs := f.projectEvents(t)
	oldest := evs[len(evs)-1] // mnist-model v0 CREATE_ARTIFACT
	if err := f.app.DB.Exec("UPDATE events SET created_at = ? WHERE id = ?", time.Now().UTC().AddDate(0, 0, -40), oldest["id"]).Error; err != nil {
		t.Fatal(err)
	}
	body := projectAutomation("every-create", "CREATE_ARTIFACT", "{}")
	if out := f.must(t, http.StatusOK, "POST", "/api/v1/automations/dry-run", body); out["matches"] != float64(3) {
		t.Errorf("30-day dry run after aging one event = %v, want 3", out["matches"])
	}
	if out := f.must(t, http.StatusOK, "POST", "/api/v1/automations/dry-run", withField(body, "days", 60)); out["matches"] != float64(4) {
		t.Errorf("60-day dry run = %v, want 4", out["matches"])
	}
	if status, out := f.app.API(t, f.key, "POST", "/api/v1/automations/dry-run", withField(body, "days", 400)); status != http.StatusUnprocessableEntity || out["field"] != "days" {
		t.Errorf("dry run over 400 days: %d %v", status, out)
	}
}

// countStates tallies deliveries by state.
func countStates(ds []map[string]any) map[string]int {
	out := map[string]int{}
	for _, d := range ds {
		out[d["state"].(string)]++
	}
	return out
}

// Dedupe: of many alias moves onto one version at once, one delivery is
// queued and the others are skipped with the reason, shown in history.
func TestDedupeUnderConcurrentAliasMoves(t *testing.T) {
	f := newAutomationFixture(t, nil, webtest.WithoutWorker())
	body := aliasAutomation("once", ".*", "{}")
	body["dedupe_window"] = "1h"
	a := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", body)
	if a["dedupe_window"] != "1h" {
		t.Errorf("automation dedupe_window = %v", a["dedupe_window"])
	}
	const n = 6
	var aliases []string
	for i := range n {
		aliases = append(aliases, fmt.Sprintf("cand-%d", i))
	}
	v0 := f.logArtifact(t, "mnist-model", "model")
	f.logArtifact(t, "mnist-model", "model", aliases...) // v1: one queued, n-1 skipped
	var wg sync.WaitGroup
	for _, alias := range aliases {
		wg.Go(func() {
			status, out := f.app.API(t, f.key, "POST", fmt.Sprintf("/api/v1/artifacts/%v/aliases", v0["id"]), map[string]any{"alias": alias})
			if status != http.StatusCreated {
				t.Errorf("move %s: %d %v", alias, status, out)
			}
		})
	}
	wg.Wait()
	ds := f.deliveries(t, a["id"], func(ds []map[string]any) bool { return len(ds) == 2*n })
	if got := countStates(ds); got["queued"] != 2 || got["skipped"] != 2*n-2 {
		t.Fatalf("deliveries by state = %v, want 2 queued and %d skipped", got, 2*n-2)
	}
	// One queued per version.
	perVersion := map[string]int{}
	for _, d := range ds {
		ev, err := models.EventByID(context.Background(), f.app.DB, int64(d["event_id"].(float64)))
		if err != nil {
			t.Fatal(err)
		}
		if d["state"] == "queued" {
			perVersion[strings.SplitN(ev.Vars.ArtifactVersionString, ":", 2)[0]+fmt.Sprint(ev.VersionID)]++
		} else if r, _ := d["reason"].(string); !strings.Contains(r, "at most once per artifact version within 1h") || !strings.Contains(r, "dlv_") {
			t.Errorf("skipped delivery reason = %q", r)
		}
	}
	if len(perVersion) != 2 {
		t.Errorf("queued deliveries by version = %v, want one for each of the two versions", perVersion)
	}
	s := f.app.SignInHTTP(t, "admin@example.com")
	_, page := s.Get(t, fmt.Sprintf("/automations/%v", a["id"]))
	if !strings.Contains(page, `data-state="skipped"`) || !strings.Contains(page, "dedupe: at most once per artifact version") {
		t.Error("the automation page does not show the skipped deliveries with their reason")
	}
}

// approvalFixture adds team members in each role to the automation fixture.
func approvalFixture(t *testing.T) (*automationFixture, map[string]string) {
	f := newAutomationFixture(t, nil)
	keys := map[string]string{}
	for _, m := range []struct{ email, role string }{
		{"lead@example.com", "admin"}, {"dev@example.com", "member"}, {"view@example.com", "viewer"}, {"out@example.com", ""},
	} {
		u := f.app.User(t, m.email, false)
		keys[strings.Split(m.email, "@")[0]] = f.app.APIKey(t, u)
		if m.role != "" {
			f.must(t, http.StatusCreated, "POST", "/api/v1/teams/ml/members", map[string]any{"email": m.email, "role": m.role})
		}
	}
	return f, keys
}

// A gated automation's deliveries wait for a scope admin: others cannot
// decide, approving sends it (decision kept on the delivery and in the
// audit log), rejecting and expiry end it unsent.
func TestApprovalApproveRejectExpire(t *testing.T) {
	f, keys := approvalFixture(t)
	gated := projectAutomation("gated", "CREATE_ARTIFACT", `{"gated": "${artifact_version_string}"}`)
	gated["require_approval"], gated["approval_timeout"] = true, "2h"
	a := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", gated)
	if a["require_approval"] != true || a["approval_timeout"] != "2h" {
		t.Fatalf("automation = %v", a)
	}
	f.must(t, http.StatusCreated, "POST", "/api/v1/automations", projectAutomation("open", "CREATE_ARTIFACT", `{"open": "${artifact_version_string}"}`))

	f.logArtifact(t, "mnist-model", "model")
	// The ungated automation's request arrives; the gated one waits.
	if got := f.receiver.next(t); !strings.Contains(string(got.Body), `"open"`) {
		t.Fatalf("first request = %s, want the ungated automation's", got.Body)
	}
	ds := f.deliveries(t, a["id"], allIn("awaiting_approval", 1))
	uid := ds[0]["id"].(string)
	if exp, _ := time.Parse(time.RFC3339, ds[0]["expires_at"].(string)); time.Until(exp) < 110*time.Minute || time.Until(exp) > 2*time.Hour {
		t.Errorf("expires_at = %v, want in about 2h", ds[0]["expires_at"])
	}

	// Who is asked: the scope's admins, in the API and on the home page.
	for who, want := range map[string]bool{"lead": true, "dev": false, "view": false, "out": false} {
		_, raw := f.app.APIRaw(t, keys[who], "GET", "/api/v1/deliveries/awaiting-approval", nil)
		if strings.Contains(string(raw), uid) != want {
			t.Errorf("%s: awaiting-approval lists the delivery: %v, want %v (%s)", who, !want, want, raw)
		}
	}
	lead := f.app.SignInHTTP(t, "lead@example.com")
	if _, page := lead.Get(t, "/teams"); !strings.Contains(page, `data-testid="waiting-for-you"`) || !strings.Contains(page, uid) {
		t.Error("the lead's home page does not list the waiting delivery")
	}
	if _, page := f.app.SignInHTTP(t, "dev@example.com").Get(t, "/teams"); strings.Contains(page, `data-testid="waiting-for-you"`) {
		t.Error("a member's home page lists a delivery they cannot decide")
	}

	for who, want := range map[string]int{"dev": 403, "view": 403, "out": 404} {
		if status, _ := f.app.API(t, keys[who], "POST", "/api/v1/deliveries/"+uid+"/approve", map[string]any{}); status != want {
			t.Errorf("%s approves: %d, want %d", who, status, want)
		}
	}
	out := f.mustAs(t, keys["lead"], http.StatusOK, "POST", "/api/v1/deliveries/"+uid+"/approve", map[string]any{"comment": "ship it"})
	if out["state"] != "queued" || out["decision_comment"] != "ship it" || out["decided_by"] != "lead" {
		t.Errorf("approved delivery = %v", out)
	}
	if got := f.receiver.next(t); !strings.Contains(string(got.Body), `"gated":"ml/mnist/mnist-model:v0"`) {
		t.Errorf("after approval the receiver got %s", got.Body)
	}
	f.deliveries(t, a["id"], allIn("succeeded", 1))
	if status, _ := f.app.API(t, keys["lead"], "POST", "/api/v1/deliveries/"+uid+"/reject", map[string]any{}); status != http.StatusConflict {
		t.Errorf("rejecting an approved delivery: %d, want 409", status)
	}
	var entries []struct {
		Kind, ActorName, Target, After string
		TeamID                         *int64
	}
	f.app.DB.Table("audit_log").Where("kind LIKE 'delivery.%'").Scan(&entries)
	if len(entries) != 1 || entries[0].Kind != "delivery.approve" || entries[0].ActorName != "lead" || entries[0].TeamID == nil ||
		!strings.Contains(entries[0].Target, uid) || !strings.Contains(entries[0].After, "ship it") {
		t.Errorf("audit log = %+v, want the lead's approval", entries)
	}

	// Rejected: never sent, the reason and comment kept.
	f.logArtifact(t, "mnist-model", "model")
	f.receiver.next(t) // the ungated one
	ds = f.deliveries(t, a["id"], func(ds []map[string]any) bool { return len(ds) == 2 && ds[0]["state"] == "awaiting_approval" })
	second := ds[0]["id"].(string)
	lead.PostForm(t, "/deliveries/"+second+"/reject", map[string][]string{"comment": {"not on a Friday"}})
	ds = f.deliveries(t, a["id"], func(ds []map[string]any) bool { return ds[0]["state"] == "rejected" })
	if ds[0]["reason"] != "rejected by lead" || ds[0]["decision_comment"] != "not on a Friday" {
		t.Errorf("rejected delivery = %v", ds[0])
	}

	// Expired: the sweep rejects what nobody decided in time.
	f.logArtifact(t, "mnist-model", "model")
	f.receiver.next(t)
	f.deliveries(t, a["id"], func(ds []map[string]any) bool { return len(ds) == 3 && ds[0]["state"] == "awaiting_approval" })
	if n, err := models.ExpireApprovals(context.Background(), f.app.DB, time.Now().Add(3*time.Hour)); err != nil || n != 1 {
		t.Fatalf("ExpireApprovals = %d, %v; want 1", n, err)
	}
	ds = f.deliveries(t, a["id"], func(ds []map[string]any) bool { return ds[0]["state"] == "rejected" })
	if r, _ := ds[0]["reason"].(string); !strings.HasPrefix(r, "expired") {
		t.Errorf("expired delivery reason = %q", r)
	}
	if n, err := models.ExpireApprovals(context.Background(), f.app.DB, time.Now().Add(3*time.Hour)); err != nil || n != 0 {
		t.Errorf("a second sweep expired %d (%v), want 0", n, err)
	}
	var kinds []string
	f.app.DB.Table("audit_log").Where("kind LIKE 'delivery.%' AND team_id IS NOT NULL").Order("id").Pluck("kind", &kinds)
	if !slices.Equal(kinds, []string{"delivery.approve", "delivery.reject", "delivery.expire"}) {
		t.Errorf("audit log kinds = %v", kinds)
	}
	_, page := lead.Get(t, fmt.Sprintf("/automations/%v", a["id"]))
	for _, want := range []string{"Approved by", "ship it", "Rejected by", "not on a Friday", "expired: nobody approved it in time"} {
		if !strings.Contains(page, want) {
			t.Errorf("the automation's history does not show %q", want)
		}
	}
}

// mustAs is must with another caller's key.
func (f *automationFixture) mustAs(t *testing.T, key string, want int, method, path string, body any) map[string]any {
	t.Helper()
	status, out := f.app.API(t, key, method, path, body)
	if status != want {
		t.Fatalf("%s %s: status %d, want %d: %v", method, path, status, want, out)
	}
	return out
}

// A gated launch automation creates its run-queue item only once
// approved: until then an agent finds nothing to claim.
func TestApprovalLaunchItemOnlyAfterApproval(t *testing.T) {
	f := newAutomationFixture(t, nil)
	f.must(t, http.StatusCreated, "POST", "/api/v1/teams/ml/queues", map[string]any{"name": "gpu"})
	f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{
		"name": "train", "type": "job", "metadata": map[string]any{"config": map[string]any{"lr": 0.1}},
	})
	f.logArtifact(t, "mnist-model", "model") // the collection the automation filters on
	a := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", launchAutomation("retrain", true))
	f.logArtifact(t, "mnist-model", "model")
	ds := f.deliveries(t, a["id"], allIn("awaiting_approval", 1))
	if status, raw := f.app.APIRaw(t, f.key, "POST", "/api/v1/teams/ml/queues/gpu/claim", map[string]any{"agent": "a1"}); status != http.StatusNoContent {
		t.Fatalf("claim before approval: %d %s, want 204", status, raw)
	}
	f.must(t, http.StatusOK, "POST", "/api/v1/deliveries/"+ds[0]["id"].(string)+"/approve", nil)
	f.deliveries(t, a["id"], allIn("succeeded", 1))
	item := f.must(t, http.StatusOK, "POST", "/api/v1/teams/ml/queues/gpu/claim", map[string]any{"agent": "a1"})
	if cfg, _ := item["config"].(map[string]any); cfg["lr"] != 0.5 || item["job"] != "ml/mnist/train" {
		t.Errorf("claimed item = %v", item)
	}
}

// An event's page says which automations fired (with their outcome) and,
// for each that did not, which rule kept it out.
func TestEventLineageExplainsEachAutomation(t *testing.T) {
	f, _ := approvalFixture(t)
	f.logArtifact(t, "data", "dataset")
	filtered := projectAutomation("filtered", "CREATE_ARTIFACT", "{}")
	filtered["scope"] = map[string]any{"type": "project", "project": "ml/mnist", "collection": "data"}
	off := projectAutomation("off", "CREATE_ARTIFACT", "{}")
	off["enabled"] = false
	dedup := aliasAutomation("dedup", ".*", "{}")
	dedup["dedupe_window"] = "1h"
	for _, body := range []map[string]any{
		projectAutomation("fires", "CREATE_ARTIFACT", "{}"), aliasAutomation("alias-only", "prod", "{}"), filtered, off, dedup,
	} {
		f.must(t, http.StatusCreated, "POST", "/api/v1/automations", body)
	}
	f.logArtifact(t, "mnist-model", "model", "a", "b")
	evs := f.projectEvents(t) // newest first: alias b, alias a, create
	createID, aliasB := evs[2]["id"], evs[0]["id"]
	f.receiver.next(t)
	f.receiver.next(t) // fires and dedup's first

	s := f.app.SignInHTTP(t, "view@example.com")
	status, page := s.Get(t, fmt.Sprintf("/events/%v", createID))
	if status != http.StatusOK {
		t.Fatalf("event page: %d", status)
	}
	if !strings.Contains(page, `data-automation="fires"`) || !strings.Contains(page, `data-state="`) {
		t.Error("the event page does not show the automation that fired and its delivery")
	}
	for name, rule := range map[string]string{"alias-only": "event type", "filtered": "collection filter", "off": "disabled", "dedup": "event type"} {
		if !strings.Contains(page, fmt.Sprintf(`data-automation="%s" data-rule="%s"`, name, rule)) {
			t.Errorf("the event page does not say %s did not fire because of its %s", name, rule)
		}
	}
	_, page = s.Get(t, fmt.Sprintf("/events/%v", aliasB))
	if !strings.Contains(page, `data-automation="alias-only" data-rule="alias regex"`) {
		t.Error("the alias event page does not blame alias-only's regex")
	}
	if !strings.Contains(page, `data-state="skipped"`) || !strings.Contains(page, "dedupe: at most once per artifact version") {
		t.Error("the alias event page does not show dedup's skipped delivery and why")
	}
	if _, page := s.Get(t, "/projects/ml/mnist/artifacts/mnist-model/v0"); !strings.Contains(page, fmt.Sprintf(`href="/events/%v"`, createID)) {
		t.Error("the version page does not link to its events' lineage")
	}
	if status, _ := f.app.SignInHTTP(t, "out@example.com").Get(t, fmt.Sprintf("/events/%v", createID)); status != http.StatusNotFound {
		t.Errorf("an outsider opens the event page: %d, want 404", status)
	}
}

// A gated Slack automation posts only once approved, and posts exactly
// the message its preview showed for that event.
func TestSlackApprovalPostsThePreviewedMessage(t *testing.T) {
	f := newSlackFixture(t)
	f.integration(t, "C0ALERTS", "alerts")
	af := &automationFixture{app: f.app, key: f.app.APIKey(t, f.alice)}
	body := map[string]any{
		"name": "gated-alerts", "enabled": true, "require_approval": true,
		"scope":  map[string]any{"type": "project", "project": "ml/vision"},
		"event":  map[string]any{"type": "CREATE_ARTIFACT"},
		"action": map[string]any{"type": "slack", "team": "ml", "channel": "#alerts"},
	}
	a := af.must(t, http.StatusCreated, "POST", "/api/v1/automations", body)
	af.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/vision/artifacts", map[string]any{"name": "dataset", "type": "dataset"})
	ds := af.deliveries(t, a["id"], allIn("awaiting_approval", 1))
	preview := af.must(t, http.StatusOK, "POST", "/api/v1/automations/preview", body)
	if preview["sample"] != false || preview["event_id"] != ds[0]["event_id"] {
		t.Fatalf("preview = %v, want the delivery's event %v", preview, ds[0]["event_id"])
	}
	if n := len(f.fake.Messages()); n != 0 {
		t.Fatalf("%d messages posted before approval", n)
	}
	af.must(t, http.StatusOK, "POST", "/api/v1/deliveries/"+ds[0]["id"].(string)+"/approve", map[string]any{"comment": "ok"})
	af.deliveries(t, a["id"], allIn("succeeded", 1))
	msgs := f.fake.Messages()
	slack := preview["slack"].(map[string]any)
	if len(msgs) != 1 || msgs[0].Channel != slack["channel"] || msgs[0].Text != slack["text"] {
		t.Fatalf("posted %+v, previewed %v", msgs, slack)
	}
	if want, _ := json.Marshal(slack["blocks"]); !jsonEqual(t, want, []byte(msgs[0].Blocks)) {
		t.Errorf("posted blocks %s, previewed %s", msgs[0].Blocks, want)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

// On the edit page the panels work from the stored automation (its
// automation_id) and the fields being edited; a member who cannot edit it
// gets 403.
func TestPreviewAndDryRunPanelsOnEdit(t *testing.T) {
	f, _ := approvalFixture(t)
	a := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", projectAutomation("edit-me", "CREATE_ARTIFACT", `{"v": "${artifact_version_string}"}`))
	f.logArtifact(t, "mnist-model", "model")
	f.receiver.next(t)
	form := map[string][]string{
		"automation_id": {fmt.Sprint(a["id"])}, "step": {"3"}, "event_type": {"CREATE_ARTIFACT"}, "team": {"ml"},
		"action_type": {"webhook"}, "webhook": {"ci"}, "payload": {`{"edited": "${artifact_version_string}"}`}, "name": {"edit-me"},
	}
	lead := f.app.SignInHTTP(t, "lead@example.com")
	status, panel := lead.PostFormHTMX(t, "/automations/preview", form)
	if status != http.StatusOK || !strings.Contains(panel, `{&#34;edited&#34;:&#34;ml/mnist/mnist-model:v0&#34;}`) {
		t.Errorf("edit preview: %d\n%s", status, panel)
	}
	status, panel = lead.PostFormHTMX(t, "/automations/dry-run", form)
	if status != http.StatusOK || !strings.Contains(panel, `data-testid="dry-run-count">1<`) {
		t.Errorf("edit dry run: %d\n%s", status, panel)
	}
	form["payload"] = []string{`{"v": "${no_such_variable}"}`}
	if _, panel = lead.PostFormHTMX(t, "/automations/preview", form); !strings.Contains(panel, `data-testid="preview-error"`) || !strings.Contains(panel, "no_such_variable") {
		t.Errorf("a bad payload's preview says:\n%s", panel)
	}
	if status, _ := f.app.SignInHTTP(t, "dev@example.com").PostFormHTMX(t, "/automations/preview", form); status != http.StatusForbidden {
		t.Errorf("a member previews an automation they cannot edit: %d, want 403", status)
	}
}
