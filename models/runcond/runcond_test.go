package runcond

import (
	"errors"
	"testing"
	"time"
)

func f(v float64) *float64 { return &v }

func mustNormalize(t *testing.T, typ string, c Config) *Config {
	t.Helper()
	if err := c.Normalize(typ); err != nil {
		t.Fatalf("normalize %s %+v: %v", typ, c, err)
	}
	return &c
}

// Each case's expectation is computed by hand in its name or comment.
func TestMetricThresholdEveryOperatorAndAggregation(t *testing.T) {
	vals := []float64{9, 1, 2, 3} // last 3: 1 2 3 → avg 2, min 1, max 3
	cases := []struct {
		name      string
		agg, op   string
		window    int
		threshold float64
		want      bool
		wantValue float64
	}{
		{"avg 2 > 1.5", "avg", ">", 3, 1.5, true, 2},
		{"avg 2 > 2 (equal)", "avg", ">", 3, 2, false, 2},
		{"avg 2 >= 2 (equal)", "avg", ">=", 3, 2, true, 2},
		{"avg 2 < 2 (equal)", "avg", "<", 3, 2, false, 2},
		{"avg 2 <= 2 (equal)", "avg", "<=", 3, 2, true, 2},
		{"avg 2 == 2", "avg", "==", 3, 2, true, 2},
		{"avg 2 != 2", "avg", "!=", 3, 2, false, 2},
		{"avg 2 != 2.5", "avg", "!=", 3, 2.5, true, 2},
		{"min 1 < 1.5", "min", "<", 3, 1.5, true, 1},
		{"min 1 > 1", "min", ">", 3, 1, false, 1},
		{"max 3 >= 3", "max", ">=", 3, 3, true, 3},
		{"max 3 > 3", "max", ">", 3, 3, false, 3},
		{"window 1 is the last value 3, whatever the aggregation", "min", "==", 1, 3, true, 3},
		{"window 4 avg (9+1+2+3)/4 = 3.75", "avg", "==", 4, 3.75, true, 3.75},
		{"fewer values (4) than the window (5): no firing", "avg", ">", 5, -100, false, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mustNormalize(t, RunMetric, Config{Metric: "loss", Window: tc.window, Agg: tc.agg, Op: tc.op, Threshold: f(tc.threshold)})
			got, v := c.Eval(RunMetric, vals)
			if got != tc.want || (tc.want && v != tc.wantValue) {
				t.Fatalf("Eval = %v, %v; want %v, %v", got, v, tc.want, tc.wantValue)
			}
		})
	}
}

func TestMetricChangeEveryTypeAndDirection(t *testing.T) {
	// prior window 2: 10 10 → mean 10; current window 2: 12 13 → mean 12.5.
	up := []float64{10, 10, 12, 13}
	// prior 10 10, current 8 7 → mean 7.5.
	down := []float64{10, 10, 8, 7}
	cases := []struct {
		name       string
		vals       []float64
		changeType string
		direction  string
		amount     float64
		want       bool
	}{
		{"relative increase 25% >= 0.25 (equal)", up, "relative", "increase", 0.25, true},
		{"relative increase 25% < 0.26", up, "relative", "increase", 0.26, false},
		{"relative decrease on a rise", up, "relative", "decrease", 0.1, false},
		{"relative any on a rise", up, "relative", "any", 0.2, true},
		{"relative decrease 25% >= 0.25", down, "relative", "decrease", 0.25, true},
		{"relative increase on a fall", down, "relative", "increase", 0.01, false},
		{"relative any on a fall 25%", down, "relative", "any", 0.25, true},
		{"absolute increase 2.5 >= 2.5 (equal)", up, "absolute", "increase", 2.5, true},
		{"absolute increase 2.5 < 3", up, "absolute", "increase", 3, false},
		{"absolute decrease 2.5 >= 2", down, "absolute", "decrease", 2, true},
		{"absolute any fall 2.5 < 2.6", down, "absolute", "any", 2.6, false},
		{"zero prior mean: relative change undefined, no firing", []float64{0, 0, 5, 5}, "relative", "any", 0.1, false},
		{"zero prior mean: absolute change 5 fires", []float64{0, 0, 5, 5}, "absolute", "increase", 5, true},
		{"negative prior mean -10 → -5 is a 50% increase", []float64{-10, -10, -5, -5}, "relative", "increase", 0.5, true},
		{"fewer values (3) than both windows (4): no firing", []float64{10, 12, 13}, "absolute", "any", 0.001, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mustNormalize(t, RunMetricChange, Config{Metric: "acc", Window: 2, PriorWindow: 2,
				ChangeType: tc.changeType, Direction: tc.direction, Amount: f(tc.amount)})
			if got, _ := c.Eval(RunMetricChange, tc.vals); got != tc.want {
				t.Fatalf("Eval = %v, want %v", got, tc.want)
			}
		})
	}
	c := mustNormalize(t, RunMetricChange, Config{Metric: "acc", Window: 2, PriorWindow: 2, Amount: f(0.1)})
	if _, v := c.Eval(RunMetricChange, up); v != 12.5 {
		t.Fatalf("metric_value = %v, want the current mean 12.5", v)
	}
	// Only the newest window+prior values count: a huge older value is outside.
	if got, _ := c.Eval(RunMetricChange, append([]float64{1e9}, 10, 10, 10, 10)); got {
		t.Fatal("a value older than both windows changed the result")
	}
}

func TestZScoreEveryDirection(t *testing.T) {
	// Preceding window 2 4 → mean 3, population sd 1; newest 5 → z = 2; newest 1 → z = -2.
	cases := []struct {
		name      string
		vals      []float64
		direction string
		threshold float64
		want      bool
	}{
		{"above: z 2 >= 2 (equal)", []float64{2, 4, 5}, "above", 2, true},
		{"above: z 2 < 2.1", []float64{2, 4, 5}, "above", 2.1, false},
		{"above: z -2 never", []float64{2, 4, 1}, "above", 1, false},
		{"below: z -2 <= -2", []float64{2, 4, 1}, "below", 2, true},
		{"below: z 2 never", []float64{2, 4, 5}, "below", 1, false},
		{"either: z -2", []float64{2, 4, 1}, "either", 1.5, true},
		{"either: z 2 short of 3", []float64{2, 4, 5}, "either", 3, false},
		{"zero variance: undefined, no firing", []float64{3, 3, 100}, "either", 1, false},
		{"fewer values (2) than window+1 (3): no firing", []float64{2, 100}, "either", 0.1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mustNormalize(t, RunMetricZScore, Config{Metric: "loss", Window: 2, Threshold: f(tc.threshold), Direction: tc.direction})
			got, v := c.Eval(RunMetricZScore, tc.vals)
			if got != tc.want {
				t.Fatalf("Eval = %v, want %v", got, tc.want)
			}
			if got && v != tc.vals[len(tc.vals)-1] {
				t.Fatalf("metric_value = %v, want the newest value", v)
			}
		})
	}
}

func TestNormalizeDefaultsAndFieldErrors(t *testing.T) {
	c := mustNormalize(t, RunMetric, Config{Metric: " loss ", Op: "<", Threshold: f(0.2), States: []string{"running"}})
	if c.Window != 5 || c.Agg != "avg" || c.Metric != "loss" || c.States != nil || c.CooldownDuration() != 24*time.Hour {
		t.Fatalf("defaults: %+v", c)
	}
	ch := mustNormalize(t, RunMetricChange, Config{Metric: "acc", Amount: f(0.1)})
	if ch.Window != 10 || ch.PriorWindow != 50 || ch.ChangeType != "relative" || ch.Direction != "any" {
		t.Fatalf("change defaults: %+v", ch)
	}
	z := mustNormalize(t, RunMetricZScore, Config{Metric: "acc"})
	if z.Window != 30 || *z.Threshold != 3 || z.Direction != "either" {
		t.Fatalf("z-score defaults: %+v", z)
	}
	s := mustNormalize(t, RunState, Config{States: []string{"crashed", "finished", "failed"}, Cooldown: "7d", Metric: "x"})
	if len(s.States) != 2 || s.Metric != "" || s.CooldownDuration() != 7*24*time.Hour {
		t.Fatalf("state config: %+v", s)
	}
	if !s.MatchesState("crashed") || s.MatchesState("killed") || s.MatchesState("running") {
		t.Fatal("crashed must count as failed, killed never fires")
	}
	bad := []struct {
		typ   string
		c     Config
		field string
	}{
		{RunMetric, Config{Op: ">", Threshold: f(1)}, "event.metric"},
		{RunMetric, Config{Metric: "m", Op: "=>", Threshold: f(1)}, "event.op"},
		{RunMetric, Config{Metric: "m", Op: ">", Agg: "median", Threshold: f(1)}, "event.agg"},
		{RunMetric, Config{Metric: "m", Op: ">"}, "event.threshold"},
		{RunMetric, Config{Metric: "m", Op: ">", Threshold: f(1), Window: -1}, "event.window"},
		{RunMetric, Config{Metric: "m", Op: ">", Threshold: f(1), Window: MaxWindow + 1}, "event.window"},
		{RunMetric, Config{Metric: "m", Op: ">", Threshold: f(1), Cooldown: "soon"}, "event.cooldown"},
		{RunMetric, Config{Metric: "m", Op: ">", Threshold: f(1), RunNameRegex: "("}, "event.run_name_regex"},
		{RunMetricChange, Config{Metric: "m", Amount: f(0)}, "event.amount"},
		{RunMetricChange, Config{Metric: "m", Amount: f(1), ChangeType: "ratio"}, "event.change_type"},
		{RunMetricChange, Config{Metric: "m", Amount: f(1), Direction: "up"}, "event.direction"},
		{RunMetricChange, Config{Metric: "m", Amount: f(1), PriorWindow: 5000}, "event.prior_window"},
		{RunMetricZScore, Config{Metric: "m", Threshold: f(-1)}, "event.threshold"},
		{RunMetricZScore, Config{Metric: "m", Window: 1}, "event.window"},
		{RunMetricZScore, Config{Metric: "m", Direction: "sideways"}, "event.direction"},
		{RunState, Config{}, "event.states"},
		{RunState, Config{States: []string{"killed"}}, "event.states"},
		{RunState, Config{States: []string{"paused"}}, "event.states"},
	}
	for _, b := range bad {
		err := b.c.Normalize(b.typ)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != b.field {
			t.Errorf("%s %+v: got %v, want an error on %s", b.typ, b.c, err, b.field)
		}
	}
}

func TestRunFilters(t *testing.T) {
	c := mustNormalize(t, RunState, Config{States: []string{"failed"}, RunNameRegex: "sweep-.*", User: "Alice"})
	if !c.MatchesRun("sweep-12", "alice", "a@x") {
		t.Fatal("matching name and user (any case) refused")
	}
	if c.MatchesRun("my-sweep-12", "alice", "a@x") {
		t.Fatal("the regex must match the whole name")
	}
	if c.MatchesRun("sweep-12", "bob", "b@x") {
		t.Fatal("another user's run matched")
	}
	if !c.MatchesRun("sweep-1", "", "alice") {
		t.Fatal("the user filter also takes the email")
	}
}
