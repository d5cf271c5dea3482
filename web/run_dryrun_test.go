package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/web/webtest"
)

// runFire names one fire of a run automation the way both a live delivery
// (its event's snapshot) and a dry run's listed fire can say it.
func runFire(runID any, stepOrState, author string) string {
	return fmt.Sprintf("run %v %s by %s", runID, stepOrState, author)
}

// liveRunFires lists the fires of automation id that live events queued
// deliveries for, read from the deliveries and their events' snapshots.
func liveRunFires(t *testing.T, app *webtest.App, id any) []string {
	t.Helper()
	var rows []struct {
		RunID   int64  `gorm:"column:run_id"`
		Payload string `gorm:"column:payload"`
	}
	if err := app.DB.Raw(`SELECT e.run_id, e.payload FROM deliveries d JOIN events e ON e.id = d.event_id
		WHERE d.automation_id = ?`, id).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		var v models.EventVars
		if err := json.Unmarshal([]byte(r.Payload), &v); err != nil {
			t.Fatal(err)
		}
		what := "step " + v.MetricStep
		if v.EventType == "RUN_STATE" {
			what = "state " + v.RunState
		}
		out = append(out, runFire(r.RunID, what, v.EventAuthor))
	}
	slices.Sort(out)
	return out
}

// dryRunFires lists the fires a dry run answer lists.
func dryRunFires(out map[string]any) []string {
	var fires []string
	for _, e := range out["events"].([]any) {
		f := e.(map[string]any)
		what := "state " + fmt.Sprint(f["state"])
		if step, ok := f["metric_step"]; ok {
			what = fmt.Sprintf("step %v", step)
		}
		fires = append(fires, runFire(f["run_id"], what, f["author"].(string)))
	}
	slices.Sort(fires)
	return fires
}

// logSteps logs values of val/loss one step a request (the batch the dry
// run's replay assumes), as the user with key.
func (f *automationFixture) logSteps(t *testing.T, key string, runID any, values ...float64) {
	t.Helper()
	for i, v := range values {
		f.mustAs(t, key, http.StatusOK, "POST", fmt.Sprintf("/api/v1/runs/%v/history", runID),
			map[string]any{"rows": []map[string]any{{"step": i, "metrics": map[string]any{"val/loss": v}}}})
	}
}

// A dry run of a run automation counts exactly the deliveries that live
// logging of the same history creates, for the same runs, steps, states
// and authors: automations created first fire live while the runs are
// logged; then a dry run of each identical automation replays the stored
// runs. Run-name regex, user filter, cooldowns of 0 and of 24 h, crashed
// (fires as failed) and killed (never fires) are all in play.
func TestRunDryRunAgreesWithLiveLogging(t *testing.T) {
	f := newAutomationFixture(t, nil, webtest.WithoutWorker())
	mia := f.app.User(t, "mia@example.com", false)
	f.must(t, http.StatusCreated, "POST", "/api/v1/teams/ml/members", map[string]any{"email": "mia@example.com", "role": "member"})
	miaKey := f.app.APIKey(t, mia)

	metric := func(extra map[string]any) map[string]any {
		ev := map[string]any{"type": "RUN_METRIC", "metric": "val/loss", "window": 2, "agg": "avg", "op": "<", "threshold": 0.2}
		for k, v := range extra {
			ev[k] = v
		}
		return ev
	}
	// The one-step logs below are what the replay assumes; big-1 is logged
	// in two batches, so automations that could fire twice a batch (cooldown
	// 0) leave it out through their regex.
	perStep := "(resnet|vgg)-.*"
	cases := []struct {
		name  string
		event map[string]any
		want  int // hand-computed where it says something; -1: agreement only
	}{
		{"loss-low", metric(nil), 4},
		{"loss-low-0", metric(map[string]any{"cooldown": "0s", "run_name_regex": perStep}), 6},
		{"resnet-only", metric(map[string]any{"window": 1, "cooldown": "0s", "run_name_regex": "resnet-.*"}), 6},
		{"mia-only", metric(map[string]any{"window": 1, "cooldown": "0s", "user": "mia@example.com"}), 2},
		{"change", map[string]any{"type": "RUN_METRIC_CHANGE", "metric": "val/loss", "window": 1, "prior_window": 1,
			"change_type": "absolute", "direction": "decrease", "amount": 0.3, "cooldown": "0s", "run_name_regex": perStep}, 2},
		{"zscore", map[string]any{"type": "RUN_METRIC_ZSCORE", "metric": "val/loss", "window": 3, "threshold": 1.2,
			"direction": "either", "cooldown": "0s", "run_name_regex": perStep}, -1},
		{"ended", map[string]any{"type": "RUN_STATE", "states": []string{"finished", "failed"}, "cooldown": "0s"}, 3},
		{"started-or-failed", map[string]any{"type": "RUN_STATE", "states": []string{"running", "failed"}}, 5},
		{"started-or-failed-0", map[string]any{"type": "RUN_STATE", "states": []string{"running", "failed"}, "cooldown": "0s"}, 7},
		{"vgg-failed", map[string]any{"type": "RUN_STATE", "states": []string{"failed"}, "run_name_regex": "vgg-.*"}, 1},
	}
	ids := map[string]any{}
	for _, c := range cases {
		a := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", runMetricAutomation(c.name, c.event, "{}"))
		ids[c.name] = a["id"]
	}

	newRun := func(key, name string) any {
		return f.mustAs(t, key, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/runs", map[string]any{"name": name})["id"]
	}
	setState := func(key string, id any, state string) {
		f.mustAs(t, key, http.StatusOK, "PATCH", fmt.Sprintf("/api/v1/runs/%v", id), map[string]any{"state": state})
	}
	r1 := newRun(f.key, "resnet-1")
	f.logSteps(t, f.key, r1, 0.5, 0.3, 0.05, 0.05, 0.4, 0.5, 0.1, 0.1, 0.5)
	setState(f.key, r1, "finished")
	r2 := newRun(miaKey, "resnet-2")
	f.logSteps(t, miaKey, r2, 0.1, 0.1, 0.9, 0.9)
	setState(miaKey, r2, "failed")
	v1 := newRun(f.key, "vgg-1")
	f.logSteps(t, f.key, v1, 0.9, 0.15, 0.15, 0.15)
	setState(f.key, v1, "crashed")
	v2 := newRun(miaKey, "vgg-2")
	setState(miaKey, v2, "killed")
	big := newRun(f.key, "big-1")
	hist := fmt.Sprintf("/api/v1/runs/%v/history", big)
	f.must(t, http.StatusOK, "POST", hist, historyRows(0, 0.5, 0.1, 0.1, 0.1, 0.5))
	f.must(t, http.StatusOK, "POST", hist, historyRows(5, 0.1, 0.1, 0.1, 0.9, 0.9))

	for _, c := range cases {
		body := runMetricAutomation(c.name+"-dry", c.event, "{}")
		out := f.must(t, http.StatusOK, "POST", "/api/v1/automations/dry-run", body)
		live := liveRunFires(t, f.app, ids[c.name])
		if c.want >= 0 && len(live) != c.want {
			t.Errorf("%s: live logging fired %d times, hand-computed %d: %v", c.name, len(live), c.want, live)
		}
		if out["matches"] != float64(len(live)) || out["partial"] != false {
			t.Errorf("%s: dry run = %v matches (partial %v), live logging created %d deliveries", c.name, out["matches"], out["partial"], len(live))
		}
		if listed := dryRunFires(out); !slices.Equal(listed, live) {
			t.Errorf("%s: dry run listed\n%v\nlive fired\n%v", c.name, listed, live)
		}
	}

	// The listed fires link to their runs and carry metric_value.
	out := f.must(t, http.StatusOK, "POST", "/api/v1/automations/dry-run", runMetricAutomation("x", metric(map[string]any{"run_name_regex": "vgg-1"}), "{}"))
	ev := out["events"].([]any)
	if len(ev) != 1 {
		t.Fatalf("vgg-1 dry run: %v", out)
	}
	fire := ev[0].(map[string]any)
	if fire["run_name"] != "vgg-1" || fire["run_url"] != fmt.Sprintf("%s/projects/ml/mnist/runs/%v", f.app.URL, v1) ||
		fire["metric_value"] != 0.15 || fire["metric_step"] != float64(2) || fire["author"] != "admin" {
		t.Errorf("vgg-1 fire = %v", fire)
	}
}

// The replay spaces a run's steps evenly between its start and its last
// heartbeat, so a cooldown shorter than the run lets it fire again; runs
// last active before the period are not counted, and a project without
// runs would have fired nothing.
func TestRunDryRunCooldownPeriodAndEmptyProject(t *testing.T) {
	f := newAutomationFixture(t, nil, webtest.WithoutWorker())
	run := f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/runs", map[string]any{"name": "timed"})
	vals := make([]float64, 11)
	for i := range vals {
		vals[i] = 0.1
	}
	f.must(t, http.StatusOK, "POST", fmt.Sprintf("/api/v1/runs/%v/history", run["id"]), historyRows(0, vals...))
	// Ten hours from the first step to the last: one an hour.
	now := time.Now().UTC()
	age := func(start, end time.Time) {
		t.Helper()
		if err := f.app.DB.Exec("UPDATE runs SET created_at = ?, heartbeat_at = ?, updated_at = ? WHERE id = ?",
			start, end, end, run["id"]).Error; err != nil {
			t.Fatal(err)
		}
	}
	age(now.Add(-10*time.Hour), now)
	dry := func(cooldown string, days int) map[string]any {
		ev := map[string]any{"type": "RUN_METRIC", "metric": "val/loss", "window": 1, "op": "<", "threshold": 0.2}
		if cooldown != "" {
			ev["cooldown"] = cooldown
		}
		body := runMetricAutomation("timed", ev, "{}")
		if days != 0 {
			body["days"] = days
		}
		return f.must(t, http.StatusOK, "POST", "/api/v1/automations/dry-run", body)
	}
	for _, c := range []struct {
		cooldown string
		want     float64
	}{{"", 1}, {"0s", 11}, {"59m", 11}, {"90m", 6}, {"4h", 3}} {
		if out := dry(c.cooldown, 0); out["matches"] != c.want {
			t.Errorf("cooldown %q over a 10-hour run firing every hour: %v matches, want %v", c.cooldown, out["matches"], c.want)
		}
	}
	out := dry("90m", 0)
	var steps []float64
	for _, e := range out["events"].([]any) {
		steps = append(steps, e.(map[string]any)["metric_step"].(float64))
	}
	if !slices.Equal(steps, []float64{10, 8, 6, 4, 2, 0}) {
		t.Errorf("listed steps (newest first) = %v, want 10 8 6 4 2 0", steps)
	}

	// Last active 40 days ago: outside 30 days, inside 60.
	age(now.AddDate(0, 0, -50), now.AddDate(0, 0, -40))
	if out := dry("0s", 0); out["matches"] != float64(0) {
		t.Errorf("a run last active 40 days ago counted in a 30-day dry run: %v", out)
	}
	if out := dry("0s", 60); out["matches"] != float64(11) {
		t.Errorf("60-day dry run over a run of 40–50 days ago: %v, want 11", out["matches"])
	}
	// Straddling the period's start: only the fires inside it count.
	age(now.AddDate(0, 0, -35), now.AddDate(0, 0, -25))
	if out := dry("0s", 0); out["matches"] != float64(5) {
		t.Errorf("a run of 35 to 25 days ago, one step a day: %v matches in 30 days, want 5 (days -29 to -25)", out["matches"])
	}

	f.must(t, http.StatusCreated, "POST", "/api/v1/teams/ml/projects", map[string]any{"name": "empty"})
	for _, ev := range []map[string]any{
		{"type": "RUN_STATE", "states": []string{"running"}},
		{"type": "RUN_METRIC", "metric": "val/loss", "op": "<", "threshold": 1},
	} {
		body := runMetricAutomation("none", ev, "{}")
		body["scope"] = map[string]any{"type": "project", "project": "ml/empty"}
		out := f.must(t, http.StatusOK, "POST", "/api/v1/automations/dry-run", body)
		if out["matches"] != float64(0) || len(out["events"].([]any)) != 0 {
			t.Errorf("%v in a project without runs: %v", ev["type"], out)
		}
	}
}

// The wizard's Dry run panel answers for run events too: the count, each
// fire with its run (a link), author, step and metric value, and what the
// replay assumes.
func TestRunDryRunWizardPanel(t *testing.T) {
	f := newAutomationFixture(t, nil, webtest.WithoutWorker())
	run := f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/runs", map[string]any{"name": "resnet-7"})
	f.logSteps(t, f.key, run["id"], 0.5, 0.1, 0.1)
	form := url.Values{
		"scope_type": {"project"}, "scope_project": {"ml/mnist"}, "step": {"3"}, "event_type": {"RUN_METRIC"},
		"metric": {"val/loss"}, "window": {"2"}, "agg": {"avg"}, "op": {"<"}, "threshold": {"0.2"}, "cooldown": {"0s"},
		"team": {"ml"}, "action_type": {"webhook"}, "webhook": {"ci"}, "payload": {"{}"}, "name": {"panel"},
	}
	admin := f.app.SignInHTTP(t, "admin@example.com")
	status, panel := admin.PostFormHTMX(t, "/automations/dry-run", form)
	runURL := fmt.Sprintf("/projects/ml/mnist/runs/%v", run["id"])
	for _, want := range []string{`data-testid="dry-run-count">1<`, `href="` + runURL + `"`, ">resnet-7<", ">2<", "<code>0.1</code>", `data-testid="dry-run-assumption"`} {
		if status != http.StatusOK || !strings.Contains(panel, want) {
			t.Errorf("run dry run panel: %d, missing %s:\n%s", status, want, panel)
		}
	}
	if n := strings.Count(panel, `data-testid="dry-run-fire"`); n != 1 {
		t.Errorf("panel lists %d fires, want 1", n)
	}
	form.Set("threshold", "0.01")
	if _, panel = admin.PostFormHTMX(t, "/automations/dry-run", form); !strings.Contains(panel, `data-testid="dry-run-count">0<`) {
		t.Errorf("a threshold nothing crosses:\n%s", panel)
	}
}
