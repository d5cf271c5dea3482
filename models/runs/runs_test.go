package runs_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/modeltest"
	"github.com/automations-dev/automations/models/runcond"
	"github.com/automations-dev/automations/models/runs"
)

type fixture struct {
	db      *gorm.DB
	user    *models.User
	team    *models.Team
	project *models.Project
	webhook *models.Webhook
	env     runs.Env
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	db := modeltest.Open(t)
	u := modeltest.User(t, db, "alice@example.com", false)
	team := modeltest.Team(t, db, "ml", u)
	p, err := models.CreateProject(ctx, db, team, "vision", u)
	if err != nil {
		t.Fatal(err)
	}
	wh, err := models.CreateWebhook(ctx, db, team.ID, models.WebhookSpec{Name: "hook", URL: "https://example.com/hook"}, u)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{db: db, user: u, team: team, project: p, webhook: wh, env: runs.Env{BaseURL: "http://automations.test", Conditions: runcond.NewCache()}}
}

func (f *fixture) automation(t testing.TB, name, typ string, cfg runcond.Config) *models.Automation {
	t.Helper()
	a, err := models.CreateAutomation(context.Background(), f.db, models.AutomationSpec{
		Name: name, Enabled: true, Scope: models.ScopeProject, ProjectID: &f.project.ID,
		EventType: typ, RunEvent: &cfg, ActionType: models.ActionWebhook, TeamID: f.team.ID, WebhookID: &f.webhook.ID,
		Payload: `{"v": "${metric_value}"}`, PayloadContext: f.webhook.PayloadContext(typ),
	}, f.user)
	if typ == runcond.RunState {
		a, err = models.CreateAutomation(context.Background(), f.db, models.AutomationSpec{
			Name: name, Enabled: true, Scope: models.ScopeProject, ProjectID: &f.project.ID,
			EventType: typ, RunEvent: &cfg, ActionType: models.ActionWebhook, TeamID: f.team.ID, WebhookID: &f.webhook.ID,
			Payload: `{"run": "${run_name}", "state": "${run_state}"}`, PayloadContext: f.webhook.PayloadContext(typ),
		}, f.user)
	}
	if err != nil {
		t.Fatalf("create automation %s: %v", name, err)
	}
	return a
}

func (f *fixture) run(t testing.TB, name string) *runs.Scope {
	t.Helper()
	r, err := runs.Create(context.Background(), f.db, f.env, f.team, f.project, runs.NewRun{Name: name, Config: json.RawMessage(`{"lr": 0.1}`)}, f.user)
	if err != nil {
		t.Fatal(err)
	}
	s, err := runs.LoadScope(context.Background(), f.db, r)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func rows(t testing.TB, metric string, steps []int64, values []float64) []runs.Point {
	t.Helper()
	var out []runs.Point
	for i, s := range steps {
		out = append(out, runs.Point{Metric: metric, Step: s, Value: values[i]})
	}
	return out
}

// events returns the run events of the run, oldest first, with the
// automations their deliveries went to.
type firedEvent struct {
	models.Event
	AutomationName string `gorm:"column:automation_name"`
}

func fired(t testing.TB, db *gorm.DB, runID int64) []firedEvent {
	t.Helper()
	var out []firedEvent
	if err := db.Table("events AS e").Select("e.*, d.automation_name").Joins("JOIN deliveries d ON d.event_id = e.id").
		Where("e.run_id = ?", runID).Order("e.id, d.id").Scan(&out).Error; err != nil {
		t.Fatal(err)
	}
	for i := range out {
		if err := json.Unmarshal([]byte(out[i].Payload), &out[i].Vars); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestMetricAutomationFiresAtTheFirstStepWhereTheWindowHolds(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.automation(t, "loss low", runcond.RunMetric, runcond.Config{Metric: "loss", Window: 3, Agg: "avg", Op: "<", Threshold: ptr(0.5)})
	s := f.run(t, "r1")
	// Windows of 3: steps 0-2 avg 0.8, 1-3 avg 0.6, 2-4 avg (0.6+0.5+0.3)/3 = 0.4667 → fires at step 4.
	res, err := runs.LogHistory(ctx, f.db, f.env, s, rows(t, "loss", []int64{0, 1, 2, 3, 4}, []float64{1, 0.8, 0.6, 0.5, 0.3}), f.user)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 5 || res.Queued != 1 {
		t.Fatalf("result %+v, want 5 accepted and 1 delivery", res)
	}
	evs := fired(t, f.db, s.Run.ID)
	if len(evs) != 1 || evs[0].Vars.MetricStep != "4" || evs[0].Vars.MetricName != "loss" || evs[0].Vars.MetricThreshold != "0.5" {
		t.Fatalf("events %+v", evs)
	}
	if evs[0].Vars.MetricValue[:6] != "0.4666" {
		t.Fatalf("metric_value %s, want the window's mean 0.4666…", evs[0].Vars.MetricValue)
	}
	if evs[0].Vars.RunURL != "http://automations.test/projects/ml/vision/runs/"+evs[0].Vars.RunID || evs[0].Vars.RunUser != models.AuthorHandle(f.user) {
		t.Fatalf("run variables %+v", evs[0].Vars)
	}
}

func TestMetricWindowSpansBatchesAndCooldownSuppresses(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.automation(t, "acc high", runcond.RunMetric, runcond.Config{Metric: "acc", Window: 2, Agg: "min", Op: ">=", Threshold: ptr(0.9)})
	s := f.run(t, "r1")
	// Batch 1: one value, a window of 2 is not full: nothing.
	if res, err := runs.LogHistory(ctx, f.db, f.env, s, rows(t, "acc", []int64{0}, []float64{0.95}), f.user); err != nil || res.Queued != 0 {
		t.Fatalf("%+v %v", res, err)
	}
	// Batch 2: window = stored 0.95 and the new 0.9: min 0.9 >= 0.9 (equal) fires.
	if res, err := runs.LogHistory(ctx, f.db, f.env, s, rows(t, "acc", []int64{1}, []float64{0.9}), f.user); err != nil || res.Queued != 1 {
		t.Fatalf("second batch: %+v %v, want a delivery", res, err)
	}
	// Batch 3: holds again, but within the 24h cooldown.
	if res, err := runs.LogHistory(ctx, f.db, f.env, s, rows(t, "acc", []int64{2, 3}, []float64{0.99, 0.99}), f.user); err != nil || res.Queued != 0 {
		t.Fatalf("third batch: %+v %v, want the cooldown to hold it", res, err)
	}
	// Another run of the same project has its own cooldown.
	other := f.run(t, "r2")
	if res, err := runs.LogHistory(ctx, f.db, f.env, other, rows(t, "acc", []int64{0, 1}, []float64{0.99, 0.99}), f.user); err != nil || res.Queued != 1 {
		t.Fatalf("other run: %+v %v", res, err)
	}
}

func TestZeroCooldownFiresAgainInTheNextBatch(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.automation(t, "spike", runcond.RunMetric, runcond.Config{Metric: "loss", Window: 1, Op: ">", Threshold: ptr(10), Cooldown: "0s"})
	s := f.run(t, "r1")
	for i := range 2 {
		res, err := runs.LogHistory(ctx, f.db, f.env, s, rows(t, "loss", []int64{int64(i)}, []float64{11}), f.user)
		if err != nil || res.Queued != 1 {
			t.Fatalf("batch %d: %+v %v", i, res, err)
		}
	}
}

func TestStepsOutOfOrderAreOrderedByStepAndRepeatsReplace(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// Fires when the last 2 values by step average above 5.
	f.automation(t, "high", runcond.RunMetric, runcond.Config{Metric: "m", Window: 2, Agg: "avg", Op: ">", Threshold: ptr(5)})
	s := f.run(t, "r1")
	// Stored: step 10 = 1, step 30 = 1.
	if res, err := runs.LogHistory(ctx, f.db, f.env, s, rows(t, "m", []int64{30, 10}, []float64{1, 1}), f.user); err != nil || res.Queued != 0 {
		t.Fatalf("%+v %v", res, err)
	}
	// Step 20 arrives late with 9: by step order its window is steps 10, 20 → avg 5: not above 5.
	if res, err := runs.LogHistory(ctx, f.db, f.env, s, rows(t, "m", []int64{20}, []float64{9}), f.user); err != nil || res.Queued != 0 {
		t.Fatalf("late step: %+v %v", res, err)
	}
	// Step 10 logged again with 3 replaces 1: at step 10 the window is
	// only one value; at no logged step does a full window exceed 5
	// (step 10 alone). Then step 20 again as 9.5 → window 10,20 = (3+9.5)/2 = 6.25 fires.
	res, err := runs.LogHistory(ctx, f.db, f.env, s, rows(t, "m", []int64{10, 20}, []float64{3, 9.5}), f.user)
	if err != nil || res.Queued != 1 {
		t.Fatalf("repeat: %+v %v", res, err)
	}
	evs := fired(t, f.db, s.Run.ID)
	if evs[len(evs)-1].Vars.MetricValue != "6.25" || evs[len(evs)-1].Vars.MetricStep != "20" {
		t.Fatalf("fired %+v", evs[len(evs)-1].Vars)
	}
	hist, err := runs.History(ctx, f.db, s.Run.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	got := hist["m"]
	if len(got) != 3 || got[0].Step != 10 || got[0].Value != 3 || got[1].Value != 9.5 || got[2].Step != 30 {
		t.Fatalf("stored %+v, want steps 10=3, 20=9.5, 30=1", got)
	}
}

func TestRunFiltersAndOtherMetrics(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.automation(t, "sweeps only", runcond.RunMetric, runcond.Config{Metric: "loss", Window: 1, Op: ">", Threshold: ptr(0), RunNameRegex: "sweep-.*"})
	f.automation(t, "bob only", runcond.RunMetric, runcond.Config{Metric: "loss", Window: 1, Op: ">", Threshold: ptr(0), User: "bob"})
	f.automation(t, "other metric", runcond.RunMetric, runcond.Config{Metric: "acc", Window: 1, Op: ">", Threshold: ptr(0)})
	plain := f.run(t, "plain")
	if res, _ := runs.LogHistory(ctx, f.db, f.env, plain, rows(t, "loss", []int64{0}, []float64{1}), f.user); res.Queued != 0 {
		t.Fatalf("filters admitted a run they exclude: %+v", res)
	}
	sweep := f.run(t, "sweep-1")
	if res, _ := runs.LogHistory(ctx, f.db, f.env, sweep, rows(t, "loss", []int64{0}, []float64{1}), f.user); res.Queued != 1 {
		t.Fatalf("the name filter: %+v", res)
	}
}

func TestStateEventsAndTheCrashSweep(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.automation(t, "failures", runcond.RunState, runcond.Config{States: []string{"failed"}})
	f.automation(t, "starts", runcond.RunState, runcond.Config{States: []string{"running"}})
	s := f.run(t, "r1")
	if evs := fired(t, f.db, s.Run.ID); len(evs) != 1 || evs[0].AutomationName != "starts" || evs[0].Vars.RunState != "running" {
		t.Fatalf("creating a run fired %+v", evs)
	}
	killed := f.run(t, "r2")
	if n, err := runs.SetState(ctx, f.db, f.env, killed, runcond.StateKilled, f.user); err != nil || n != 0 {
		t.Fatalf("killed fired %d, %v", n, err)
	}
	if _, err := runs.SetState(ctx, f.db, f.env, killed, runcond.StateFinished, f.user); !isConflict(err) {
		t.Fatalf("a killed run changed state: %v", err)
	}
	// r1 goes silent: the sweep marks it crashed, which fires as failed.
	if err := f.db.Exec("UPDATE runs SET heartbeat_at = ? WHERE id = ?", time.Now().UTC().Add(-time.Hour), s.Run.ID).Error; err != nil {
		t.Fatal(err)
	}
	crashed, queued, err := runs.SweepCrashed(ctx, f.db, f.env, 10*time.Minute, 100)
	if err != nil || crashed != 1 || queued != 1 {
		t.Fatalf("sweep: %d crashed, %d queued, %v", crashed, queued, err)
	}
	evs := fired(t, f.db, s.Run.ID)
	if last := evs[len(evs)-1]; last.AutomationName != "failures" || last.Vars.RunState != "crashed" {
		t.Fatalf("crash fired %+v", last)
	}
	// A crashed run that sends a heartbeat is running again; the sweep leaves fresh runs alone.
	if err := runs.Heartbeat(ctx, f.db, s.Run.ID); err != nil {
		t.Fatal(err)
	}
	if crashed, _, _ := runs.SweepCrashed(ctx, f.db, f.env, 10*time.Minute, 100); crashed != 0 {
		t.Fatalf("swept %d fresh runs", crashed)
	}
	r, _ := runs.ByID(ctx, f.db, s.Run.ID)
	if r.State != runcond.StateRunning {
		t.Fatalf("state after heartbeat %s", r.State)
	}
}

func TestParseRowsNamesTheRowAndMetric(t *testing.T) {
	cases := []struct {
		body  string
		field string
	}{
		{`[{"step": 0, "metrics": {"loss": "NaN"}}]`, "rows[0].metrics.loss"},
		{`[{"step": 0, "metrics": {"a": 1}}, {"step": 1, "metrics": {"acc": 1e999}}]`, "rows[1].metrics.acc"},
		{`[{"step": 0, "metrics": {"ok": true}}]`, "rows[0].metrics.ok"},
		{`[{"step": 0, "metrics": {"ok": null}}]`, "rows[0].metrics.ok"},
		{`[{"step": -1, "metrics": {"a": 1}}]`, "rows[0].step"},
		{`[{"step": 1.5, "metrics": {"a": 1}}]`, "rows[0].step"},
		{`[{"metrics": {"a": 1}}]`, "rows[0].step"},
		{`[{"step": 2, "metrics": {}}]`, "rows[0].metrics"},
		{`[]`, "rows"},
	}
	for _, tc := range cases {
		var rs []runs.Row
		if err := json.Unmarshal([]byte(tc.body), &rs); err != nil {
			t.Fatal(err)
		}
		_, err := runs.ParseRows(rs)
		var ve *models.ValidationError
		if !errors.As(err, &ve) || ve.Field != tc.field {
			t.Errorf("%s: got %v, want an error on %s", tc.body, err, tc.field)
		}
	}
	var rs []runs.Row
	_ = json.Unmarshal([]byte(`[{"step": 3, "metrics": {"a": 1, "b": -2.5e-3}}, {"step": 3, "metrics": {"a": 7}}]`), &rs)
	ps, err := runs.ParseRows(rs)
	if err != nil || len(ps) != 2 || ps[0].Value != 7 || ps[1].Value != -0.0025 {
		t.Fatalf("parsed %+v %v: a step logged twice keeps the later value", ps, err)
	}
}

func isConflict(err error) bool {
	var ce *models.ConflictError
	return errors.As(err, &ce)
}

func ptr(v float64) *float64 { return &v }

// Metric names may hold quotes and backslashes; appending and replacing
// both store them as given.
func TestMetricNamesWithQuotesAndBackslashes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	s := f.run(t, "r1")
	name := `eval/"top-1"\acc`
	for _, batch := range [][]runs.Point{rows(t, name, []int64{0, 1}, []float64{1, 2}), rows(t, name, []int64{2}, []float64{3}), rows(t, name, []int64{1}, []float64{5})} {
		if _, err := runs.LogHistory(ctx, f.db, f.env, s, batch, f.user); err != nil {
			t.Fatal(err)
		}
	}
	hist, err := runs.History(ctx, f.db, s.Run.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	got := hist[name]
	if len(got) != 3 || got[1].Value != 5 || got[2].Value != 3 {
		t.Fatalf("stored %+v", hist)
	}
}
