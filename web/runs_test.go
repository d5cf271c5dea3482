package web_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/web"
	"github.com/automations-dev/automations/web/webtest"
)

func runMetricAutomation(name string, event map[string]any, payload string) map[string]any {
	return map[string]any{
		"name": name, "enabled": true,
		"scope":  map[string]any{"type": "project", "project": "ml/mnist"},
		"event":  event,
		"action": map[string]any{"type": "webhook", "team": "ml", "webhook": "ci", "payload": payload},
	}
}

func historyRows(start int, values ...float64) map[string]any {
	rows := make([]map[string]any, len(values))
	for i, v := range values {
		rows[i] = map[string]any{"step": start + i, "metrics": map[string]any{"val/loss": v, "acc": 0.5}}
	}
	return map[string]any{"rows": rows}
}

// Logging history through the API fires a RUN_METRIC automation: the
// loopback receiver gets the signed payload with the window's aggregate as
// metric_value; a second crossing within the cooldown sends nothing.
func TestRunMetricAutomationDeliversSignedPayloadAndCoolsDown(t *testing.T) {
	f := newAutomationFixture(t, nil)
	a := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", runMetricAutomation("loss-low",
		map[string]any{"type": "RUN_METRIC", "metric": "val/loss", "window": 2, "agg": "avg", "op": "<", "threshold": 0.2},
		`{"run": "${run_name}", "id": "${run_id}", "metric": "${metric_name}", "value": "${metric_value}", "step": "${metric_step}",
		  "threshold": "${metric_threshold}", "lr": "${run_config.lr}", "url": "${run_url}", "who": "${event_author}", "what": "${event_type} ${automation_name}"}`))
	ev := a["event"].(map[string]any)
	if ev["cooldown"] != nil && ev["cooldown"] != "" {
		t.Fatalf("stored event %v: the default cooldown is not written out", ev)
	}
	run := f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/runs",
		map[string]any{"display_name": "resnet-1", "config": map[string]any{"lr": 0.01}, "tags": []string{"baseline"}})
	id := run["id"]
	if run["state"] != "running" || run["url"] != fmt.Sprintf("%s/projects/ml/mnist/runs/%v", f.app.URL, id) {
		t.Fatalf("created run %v", run)
	}
	hist := fmt.Sprintf("/api/v1/runs/%v/history", id)
	// Windows of 2: (0.5+0.3)/2 = 0.4, (0.3+0.2)/2 = 0.25: nothing yet.
	out := f.must(t, http.StatusOK, "POST", hist, historyRows(0, 0.5, 0.3, 0.2))
	if out["accepted"] != float64(6) || out["queued"] != float64(0) {
		t.Fatalf("first batch: %v", out)
	}
	// Next batch: window (0.2+0.1)/2 = 0.15 < 0.2 fires at step 3.
	if out := f.must(t, http.StatusOK, "POST", hist, historyRows(3, 0.1)); out["queued"] != float64(1) {
		t.Fatalf("second batch: %v", out)
	}
	got := f.receiver.next(t)
	mac := hmac.New(sha256.New, []byte(signingValue))
	mac.Write(got.Body)
	if sig := got.Header.Get("X-Wandb-Signature"); sig != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
		t.Fatalf("X-Wandb-Signature = %q does not sign the body", sig)
	}
	var body map[string]any
	if err := json.Unmarshal(got.Body, &body); err != nil {
		t.Fatalf("payload %s: %v", got.Body, err)
	}
	want := map[string]any{
		"run": "resnet-1", "id": fmt.Sprint(id), "metric": "val/loss", "value": 0.15000000000000002, "step": float64(3),
		"threshold": 0.2, "lr": 0.01, "url": run["url"], "who": "admin", "what": "RUN_METRIC loss-low",
	}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("payload %s = %#v, want %#v (payload %s)", k, body[k], v, got.Body)
		}
	}
	// A second crossing of the same run within the 24h cooldown: stored, not sent.
	if out := f.must(t, http.StatusOK, "POST", hist, historyRows(4, 0.05, 0.01)); out["queued"] != float64(0) || out["accepted"] != float64(4) {
		t.Fatalf("within the cooldown: %v", out)
	}
	ds := f.deliveries(t, a["id"], allIn("succeeded", 1))
	if len(ds) != 1 {
		t.Fatalf("deliveries %v", ds)
	}
	select {
	case extra := <-f.receiver.ch:
		t.Fatalf("the cooldown let a second payload through: %s", extra.Body)
	default:
	}
}

// Bad history is refused with the row and metric named, and nothing of
// the batch is stored.
func TestRunHistoryRefusesNonFiniteAndNonNumericValues(t *testing.T) {
	f := newAutomationFixture(t, nil)
	run := f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/runs", map[string]any{"name": "r1"})
	hist := fmt.Sprintf("/api/v1/runs/%v/history", run["id"])
	for _, tc := range []struct {
		body  string
		field string
	}{
		{`{"rows": [{"step": 0, "metrics": {"loss": 1}}, {"step": 1, "metrics": {"loss": "NaN"}}]}`, "rows[1].metrics.loss"},
		{`{"rows": [{"step": 0, "metrics": {"acc": 1e400}}]}`, "rows[0].metrics.acc"},
		{`{"rows": [{"step": "x", "metrics": {"acc": 1}}]}`, "rows[0].step"},
	} {
		status, raw := f.app.APIRaw(t, f.key, "POST", hist, json.RawMessage(tc.body))
		var e struct{ Error, Field string }
		_ = json.Unmarshal(raw, &e)
		if status != http.StatusUnprocessableEntity || e.Field != tc.field {
			t.Errorf("%s: %d %s, want 422 on %s", tc.body, status, raw, tc.field)
		}
	}
	rows := make([]map[string]any, 10001)
	for i := range rows {
		rows[i] = map[string]any{"step": i, "metrics": map[string]any{"a": i}}
	}
	status, raw := f.app.APIRaw(t, f.key, "POST", hist, map[string]any{"rows": rows})
	if status != http.StatusUnprocessableEntity || !strings.Contains(string(raw), `"field":"rows"`) {
		t.Fatalf("10,001 rows: %d %s", status, raw)
	}
	// 10,000 rows of ten metrics (well over the server's general 2 MB limit) are accepted.
	rows = rows[:10000]
	for i := range rows {
		m := map[string]any{}
		for j := range 10 {
			m[fmt.Sprintf("metric_%d", j)] = float64(i) * 1.000001
		}
		rows[i] = map[string]any{"step": i, "metrics": m}
	}
	status, out := f.app.API(t, f.key, "POST", hist, map[string]any{"rows": rows})
	if status != http.StatusOK || out["accepted"] != float64(100000) {
		t.Fatalf("10,000 rows: %d %v", status, out)
	}
}

// Run states through the API: a run marked failed notifies the Slack
// fake; killed fires nothing; a finished run takes no more history; a
// viewer reads runs but cannot log them.
func TestRunFailedNotifiesSlack(t *testing.T) {
	f := newSlackFixture(t)
	f.integration(t, "C0ALERTS", "alerts")
	key := f.app.APIKey(t, f.alice)
	af := &automationFixture{app: f.app, key: key}
	a := af.must(t, http.StatusCreated, "POST", "/api/v1/automations", map[string]any{
		"name": "failures", "enabled": true,
		"scope":  map[string]any{"type": "project", "project": "ml/vision"},
		"event":  map[string]any{"type": "RUN_STATE", "states": []string{"failed"}, "run_name_regex": "train-.*"},
		"action": map[string]any{"type": "slack", "team": "ml", "channel": "#alerts"},
	})
	ignored := af.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/vision/runs", map[string]any{"name": "eval-1"})
	af.must(t, http.StatusOK, "PATCH", fmt.Sprintf("/api/v1/runs/%v", ignored["id"]), map[string]any{"state": "failed"})
	run := af.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/vision/runs", map[string]any{"name": "train-1"})
	path := fmt.Sprintf("/api/v1/runs/%v", run["id"])
	vera := f.app.APIKey(t, mustUser(t, f, "vera@example.com"))
	if status, _ := f.app.API(t, vera, "GET", path, nil); status != http.StatusOK {
		t.Fatalf("a viewer reads a run: %d", status)
	}
	if status, _ := f.app.API(t, vera, "POST", path+"/history", historyRows(0, 1)); status != http.StatusForbidden {
		t.Fatalf("a viewer logs history: %d, want 403", status)
	}
	out := af.must(t, http.StatusOK, "PATCH", path, map[string]any{"state": "failed"})
	if out["state"] != "failed" {
		t.Fatalf("PATCH answered %v", out)
	}
	ds := af.deliveries(t, a["id"], allIn("succeeded", 1))
	if len(ds) != 1 {
		t.Fatalf("deliveries %v", ds)
	}
	msgs := f.fake.Messages()
	if len(msgs) != 1 || msgs[0].Channel != "C0ALERTS" || !strings.Contains(msgs[0].Text, "Run train-1 is failed") ||
		!strings.Contains(msgs[0].Text, fmt.Sprintf("%s/projects/ml/vision/runs/%v", f.app.URL, run["id"])) {
		t.Fatalf("messages = %+v", msgs)
	}
	status, raw := f.app.APIRaw(t, key, "POST", path+"/history", historyRows(0, 1))
	if status != http.StatusConflict {
		t.Fatalf("history for a failed run: %d %s, want 409", status, raw)
	}
	list := af.must(t, http.StatusOK, "GET", "/api/v1/projects/ml/vision/runs?state=failed", nil)
	if list["total"] != float64(2) {
		t.Fatalf("failed runs: %v", list)
	}
}

func mustUser(t *testing.T, f *slackFixture, email string) *models.User {
	t.Helper()
	u, err := models.UserByEmail(t.Context(), f.app.DB, email)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// A run that goes silent for RUN_HEARTBEAT_TIMEOUT is marked crashed by
// the worker's sweep, which fires RUN_STATE as failed.
func TestSilentRunCrashesAndFiresAsFailed(t *testing.T) {
	f := newAutomationFixture(t, nil, webtest.WithConfig(func(c *web.Config) { c.RunHeartbeatTimeout = time.Second }))
	a := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", runMetricAutomation("crashes",
		map[string]any{"type": "RUN_STATE", "states": []string{"failed"}}, `{"state": "${run_state}", "run": "${run_name}"}`))
	run := f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/runs", map[string]any{"name": "silent"})
	got := f.receiver.next(t)
	if string(got.Body) != `{"state":"crashed","run":"silent"}` {
		t.Fatalf("payload %s", got.Body)
	}
	f.deliveries(t, a["id"], allIn("succeeded", 1))
	out := f.must(t, http.StatusOK, "GET", fmt.Sprintf("/api/v1/runs/%v", run["id"]), nil)
	if out["state"] != "crashed" {
		t.Fatalf("run %v", out)
	}
}

// Automation bodies for run events are validated with the field named,
// run events apply only to projects, and variables must fit the event.
func TestRunAutomationValidation(t *testing.T) {
	f := newAutomationFixture(t, nil)
	for _, tc := range []struct {
		event   map[string]any
		payload string
		field   string
	}{
		{map[string]any{"type": "RUN_METRIC", "metric": "loss", "op": ">", "threshold": 1, "window": 0.5}, "{}", "event.window"},
		{map[string]any{"type": "RUN_METRIC", "metric": "loss", "op": ">", "threshold": 1, "window": 5000}, "{}", "event.window"},
		{map[string]any{"type": "RUN_METRIC", "metric": "loss", "op": "~", "threshold": 1}, "{}", "event.op"},
		{map[string]any{"type": "RUN_METRIC", "op": ">", "threshold": 1}, "{}", "event.metric"},
		{map[string]any{"type": "RUN_METRIC_CHANGE", "metric": "acc", "amount": -1}, "{}", "event.amount"},
		{map[string]any{"type": "RUN_METRIC_ZSCORE", "metric": "acc", "direction": "up"}, "{}", "event.direction"},
		{map[string]any{"type": "RUN_STATE", "states": []string{"killed"}}, "{}", "event.states"},
		{map[string]any{"type": "RUN_STATE", "states": []string{"failed"}, "cooldown": "a while"}, "{}", "event.cooldown"},
		{map[string]any{"type": "RUN_STATE", "states": []string{"failed"}}, `{"v": "${artifact_version_string}"}`, "action.payload"},
		{map[string]any{"type": "RUN_STATE", "states": []string{"failed"}}, `{"v": "${metric_value}"}`, "action.payload"},
		{map[string]any{"type": "RUN_METRIC", "metric": "loss", "op": ">", "threshold": 1}, `{"v": "${artifact_metadata.x}"}`, "action.payload"},
		{map[string]any{"type": "CREATE_ARTIFACT"}, `{"v": "${run_name}"}`, "action.payload"},
	} {
		status, raw := f.app.APIRaw(t, f.key, "POST", "/api/v1/automations", runMetricAutomation("x", tc.event, tc.payload))
		var e struct{ Error, Field string }
		_ = json.Unmarshal(raw, &e)
		if (status != http.StatusUnprocessableEntity && status != http.StatusBadRequest) || e.Field != tc.field {
			t.Errorf("%v %s: %d %s, want an error on %s", tc.event, tc.payload, status, raw, tc.field)
		}
	}
	f.must(t, http.StatusCreated, "POST", "/api/v1/registries", map[string]any{"name": "models"})
	status, raw := f.app.APIRaw(t, f.key, "POST", "/api/v1/automations", map[string]any{
		"name": "x", "scope": map[string]any{"type": "registry", "registry": "models"},
		"event":  map[string]any{"type": "RUN_STATE", "states": []string{"failed"}},
		"action": map[string]any{"type": "webhook", "team": "ml", "webhook": "ci", "payload": "{}"},
	})
	if status != http.StatusUnprocessableEntity || !strings.Contains(string(raw), `"field":"event.type"`) {
		t.Fatalf("a registry run automation: %d %s", status, raw)
	}
	// PATCH changes parameters and keeps the rest; GET shows them with their defaults.
	a := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", runMetricAutomation("z",
		map[string]any{"type": "RUN_METRIC_ZSCORE", "metric": "acc"}, `{"z": "${metric_value}"}`))
	out := f.must(t, http.StatusOK, "PATCH", fmt.Sprintf("/api/v1/automations/%v", a["id"]),
		map[string]any{"event": map[string]any{"type": "RUN_METRIC_ZSCORE", "metric": "acc", "window": 10, "cooldown": "1h"}})
	ev := out["event"].(map[string]any)
	if ev["window"] != float64(10) || ev["threshold"] != float64(3) || ev["direction"] != "either" || ev["cooldown"] != "1h" {
		t.Fatalf("patched event %v", ev)
	}
}

// The wizard previews a run event on the project's recent runs: which
// would have fired, and at which step.
func TestWizardPreviewsRunEventOnRecentRuns(t *testing.T) {
	f := newAutomationFixture(t, nil)
	for name, values := range map[string][]float64{"high": {0.9, 0.8, 0.7}, "low": {0.5, 0.1, 0.05}} {
		run := f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/runs", map[string]any{"name": name})
		f.must(t, http.StatusOK, "POST", fmt.Sprintf("/api/v1/runs/%v/history", run["id"]), historyRows(0, values...))
	}
	admin := f.app.SignInHTTP(t, "admin@example.com")
	form := map[string][]string{"step": {"1"}, "refresh": {"1"}, "event_type": {"RUN_METRIC"}, "metric": {"val/loss"},
		"window": {"2"}, "agg": {"avg"}, "op": {"<"}, "threshold": {"0.3"}}
	status, body := admin.PostFormHTMX(t, "/projects/ml/mnist/automations/new", form)
	if status != http.StatusOK {
		t.Fatalf("preview: %d", status)
	}
	// low: windows (0.5+0.1)/2 = 0.3 (not < 0.3), (0.1+0.05)/2 = 0.075 at step 2; high never.
	if !strings.Contains(body, "yes, first at step 2 (val/loss 0.075") || strings.Count(body, `data-held="true"`) != 1 ||
		strings.Count(body, `data-testid="run-preview-row"`) != 2 {
		t.Fatalf("preview:\n%s", body)
	}
	// A bad window is refused beside its field when moving on, the input kept.
	form["window"], form["refresh"], form["go"] = []string{"0"}, nil, []string{"2"}
	status, body = admin.PostForm(t, "/projects/ml/mnist/automations/new", form)
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, "must be between 1 and 1000") || !strings.Contains(body, `value="val/loss"`) {
		t.Fatalf("bad window: %d\n%s", status, body)
	}
}
