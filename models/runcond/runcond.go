// Package runcond holds the run event conditions of DESIGN.md §14: their
// parameters, as the API and the wizard give them and automations store
// them, and the window arithmetic that decides whether one holds. It reads
// no database: models/runs feeds it the newest values of a run's metric.
package runcond

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Run event types (DESIGN.md §14).
const (
	RunState        = "RUN_STATE"
	RunMetric       = "RUN_METRIC"
	RunMetricChange = "RUN_METRIC_CHANGE"
	RunMetricZScore = "RUN_METRIC_ZSCORE"
)

// Types lists the run event types in the order the wizard shows them.
func Types() []string { return []string{RunState, RunMetric, RunMetricChange, RunMetricZScore} }

// IsRunEvent reports whether typ is a run event type.
func IsRunEvent(typ string) bool { return slices.Contains(Types(), typ) }

// IsMetricEvent reports whether typ is evaluated when history is logged.
func IsMetricEvent(typ string) bool {
	return typ == RunMetric || typ == RunMetricChange || typ == RunMetricZScore
}

// Run states.
const (
	StateRunning  = "running"
	StateFinished = "finished"
	StateFailed   = "failed"
	StateCrashed  = "crashed"
	StateKilled   = "killed"
)

// Defaults and bounds of the parameters.
const (
	DefaultMetricWindow  = 5
	DefaultChangeWindow  = 10
	DefaultPriorWindow   = 50
	DefaultZScoreWindow  = 30
	DefaultZScoreThresh  = 3.0
	DefaultCooldown      = 24 * time.Hour
	MaxWindow            = 1000
	maxCooldown          = 366 * 24 * time.Hour
	maxMetricNameLength  = 200
	maxRunNameRegexChars = 500
)

// Config is the parameters of a run event. Fields that do not apply to
// the event type are empty once normalised.
type Config struct {
	States       []string `json:"states,omitempty"`
	RunNameRegex string   `json:"run_name_regex,omitempty"`
	User         string   `json:"user,omitempty"`
	Metric       string   `json:"metric,omitempty"`
	Window       int      `json:"window,omitempty"`
	Agg          string   `json:"agg,omitempty"`
	Op           string   `json:"op,omitempty"`
	Threshold    *float64 `json:"threshold,omitempty"`
	PriorWindow  int      `json:"prior_window,omitempty"`
	ChangeType   string   `json:"change_type,omitempty"`
	Direction    string   `json:"direction,omitempty"`
	Amount       *float64 `json:"amount,omitempty"`
	Cooldown     string   `json:"cooldown,omitempty"`

	nameRE   *regexp.Regexp
	cooldown time.Duration
}

// FieldError names the event parameter to fix (as "event.<param>").
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + " " + e.Message }

func invalid(field, format string, args ...any) error {
	return &FieldError{Field: "event." + field, Message: fmt.Sprintf(format, args...)}
}

// Normalize checks c for event type typ, fills the defaults and clears
// what does not apply. The error is a *FieldError.
func (c *Config) Normalize(typ string) error {
	if !IsRunEvent(typ) {
		return invalid("type", "%q is not a run event", typ)
	}
	if err := c.normalizeFilters(); err != nil {
		return err
	}
	keep := Config{States: c.States, RunNameRegex: c.RunNameRegex, User: c.User, Cooldown: c.Cooldown,
		nameRE: c.nameRE, cooldown: c.cooldown}
	switch typ {
	case RunState:
		if len(c.States) == 0 {
			return invalid("states", "choose at least one of running, finished, failed")
		}
		var states []string
		for _, s := range c.States {
			s = strings.ToLower(strings.TrimSpace(s))
			switch s {
			case StateRunning, StateFinished, StateFailed:
			case StateCrashed:
				s = StateFailed // crashed counts as failed
			case StateKilled:
				return invalid("states", "killed never fires: a run is killed on purpose")
			default:
				return invalid("states", "%q is not a state: use running, finished or failed", s)
			}
			if !slices.Contains(states, s) {
				states = append(states, s)
			}
		}
		keep.States = states
		*c = keep
		return nil
	}
	keep.States = nil
	metric := strings.TrimSpace(c.Metric)
	if err := ValidateMetricName("event.metric", metric); err != nil {
		return err
	}
	keep.Metric = metric
	switch typ {
	case RunMetric:
		w, err := window("window", c.Window, DefaultMetricWindow)
		if err != nil {
			return err
		}
		keep.Window = w
		keep.Agg = strings.ToLower(strings.TrimSpace(c.Agg))
		if keep.Agg == "" {
			keep.Agg = "avg"
		}
		if !slices.Contains([]string{"avg", "min", "max"}, keep.Agg) {
			return invalid("agg", "%q is not an aggregation: use avg, min or max", c.Agg)
		}
		keep.Op = strings.TrimSpace(c.Op)
		if !slices.Contains([]string{">", ">=", "<", "<=", "==", "!="}, keep.Op) {
			return invalid("op", "%q is not an operator: use >, >=, <, <=, == or !=", c.Op)
		}
		if c.Threshold == nil {
			return invalid("threshold", "is required: the number to compare with")
		}
		if !finite(*c.Threshold) {
			return invalid("threshold", "must be a finite number")
		}
		keep.Threshold = c.Threshold
	case RunMetricChange:
		w, err := window("window", c.Window, DefaultChangeWindow)
		if err != nil {
			return err
		}
		p, err := window("prior_window", c.PriorWindow, DefaultPriorWindow)
		if err != nil {
			return err
		}
		keep.Window, keep.PriorWindow = w, p
		keep.ChangeType = strings.ToLower(strings.TrimSpace(c.ChangeType))
		if keep.ChangeType == "" {
			keep.ChangeType = "relative"
		}
		if keep.ChangeType != "relative" && keep.ChangeType != "absolute" {
			return invalid("change_type", "%q is not a change type: use relative or absolute", c.ChangeType)
		}
		keep.Direction = strings.ToLower(strings.TrimSpace(c.Direction))
		if keep.Direction == "" {
			keep.Direction = "any"
		}
		if !slices.Contains([]string{"increase", "decrease", "any"}, keep.Direction) {
			return invalid("direction", "%q is not a direction: use increase, decrease or any", c.Direction)
		}
		if c.Amount == nil {
			return invalid("amount", "is required: e.g. 0.1 for a 10%% relative change")
		}
		if !finite(*c.Amount) || *c.Amount <= 0 {
			return invalid("amount", "must be a number greater than 0")
		}
		keep.Amount = c.Amount
	case RunMetricZScore:
		w, err := window("window", c.Window, DefaultZScoreWindow)
		if err != nil {
			return err
		}
		if w < 2 {
			return invalid("window", "must be at least 2: a z-score needs a spread of values")
		}
		keep.Window = w
		t := DefaultZScoreThresh
		if c.Threshold != nil {
			t = *c.Threshold
		}
		if !finite(t) || t <= 0 {
			return invalid("threshold", "must be a number greater than 0")
		}
		keep.Threshold = &t
		keep.Direction = strings.ToLower(strings.TrimSpace(c.Direction))
		if keep.Direction == "" {
			keep.Direction = "either"
		}
		if !slices.Contains([]string{"above", "below", "either"}, keep.Direction) {
			return invalid("direction", "%q is not a direction: use above, below or either", c.Direction)
		}
	}
	*c = keep
	return nil
}

func (c *Config) normalizeFilters() error {
	c.RunNameRegex = strings.TrimSpace(c.RunNameRegex)
	c.nameRE = nil
	if c.RunNameRegex != "" {
		if len(c.RunNameRegex) > maxRunNameRegexChars {
			return invalid("run_name_regex", "must be at most %d characters", maxRunNameRegexChars)
		}
		re, err := regexp.Compile(c.RunNameRegex)
		if err != nil {
			return invalid("run_name_regex", "is not a valid regular expression: %v", err)
		}
		re.Longest() // whole-name match, as alias regexes (see MatchesRun)
		c.nameRE = re
	}
	c.User = strings.TrimSpace(c.User)
	c.Cooldown = strings.TrimSpace(c.Cooldown)
	d := DefaultCooldown
	if c.Cooldown != "" {
		var err error
		if d, err = ParseCooldown(c.Cooldown); err != nil {
			return invalid("cooldown", "%s", err.Error())
		}
	}
	c.cooldown = d
	return nil
}

// ParseCooldown reads a duration such as 30m, 24h or 7d.
func ParseCooldown(s string) (time.Duration, error) {
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, perr := strconv.Atoi(days)
		if perr != nil {
			return 0, fmt.Errorf("%q is not a duration: write e.g. 30m, 24h or 7d", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else if d, err = time.ParseDuration(s); err != nil {
		return 0, fmt.Errorf("%q is not a duration: write e.g. 30m, 24h or 7d", s)
	}
	if d < 0 || d > maxCooldown {
		return 0, fmt.Errorf("must be between 0s and 366d")
	}
	return d, nil
}

func window(field string, n, def int) (int, error) {
	if n == 0 {
		return def, nil
	}
	if n < 1 || n > MaxWindow {
		return 0, invalid(field, "must be between 1 and %d", MaxWindow)
	}
	return n, nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// ValidateMetricName checks a metric name: 1 to 200 characters, no
// control characters (names such as loss, val/acc, system/gpu.0.temp).
func ValidateMetricName(field, name string) error {
	if name == "" {
		return &FieldError{Field: field, Message: "is required: the metric's name, e.g. loss or val/acc"}
	}
	if len(name) > maxMetricNameLength {
		return &FieldError{Field: field, Message: fmt.Sprintf("must be at most %d characters", maxMetricNameLength)}
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return &FieldError{Field: field, Message: "must not contain control characters"}
		}
	}
	return nil
}

// Parse reads a stored configuration of event type typ.
func Parse(typ, raw string) (*Config, error) {
	c := &Config{}
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), c); err != nil {
			return nil, fmt.Errorf("run event config: %w", err)
		}
	}
	if err := c.Normalize(typ); err != nil {
		return nil, err
	}
	return c, nil
}

// JSON is the stored form of a normalised c.
func (c *Config) JSON() string {
	b, _ := json.Marshal(c) // plain fields only
	return string(b)
}

// CooldownDuration is the normalised cooldown.
func (c *Config) CooldownDuration() time.Duration { return c.cooldown }

// MatchesRun applies the run-name regex (the whole display name must
// match) and the user filter (the run author's username or email).
func (c *Config) MatchesRun(displayName, username, email string) bool {
	if c.nameRE != nil {
		loc := c.nameRE.FindStringIndex(displayName)
		if loc == nil || loc[0] != 0 || loc[1] != len(displayName) {
			return false
		}
	}
	if c.User != "" && !strings.EqualFold(c.User, username) && !strings.EqualFold(c.User, email) {
		return false
	}
	return true
}

// MatchesState reports whether entering state fires a RUN_STATE
// automation with c: crashed counts as failed, killed never fires.
func (c *Config) MatchesState(state string) bool {
	if state == StateCrashed {
		state = StateFailed
	}
	return state != StateKilled && slices.Contains(c.States, state)
}

// Need is how many of a run's newest values of the metric an evaluation
// reads: the window, the window and the prior window, or the window and
// the newest value.
func (c *Config) Need(typ string) int {
	switch typ {
	case RunMetric:
		return c.Window
	case RunMetricChange:
		return c.Window + c.PriorWindow
	case RunMetricZScore:
		return c.Window + 1
	}
	return 0
}

// Eval decides whether the condition holds on values, a run's values of
// the metric in step order ending at the step being evaluated (at least
// Need values, else it does not hold). It returns the value the payload
// reports as metric_value: the aggregate (RUN_METRIC), the current
// window's mean (RUN_METRIC_CHANGE) or the newest value (RUN_METRIC_ZSCORE).
//
// Edges, on purpose: a relative change against a prior mean of 0 is not
// defined and never holds; a z-score against values of zero variance is
// not defined and never holds; a value equal to the threshold satisfies
// >=, <=, == and, for changes and z-scores, "at least" the amount.
func (c *Config) Eval(typ string, values []float64) (bool, float64) {
	st, ok := c.Stat(typ, values)
	if !ok {
		return false, 0
	}
	return c.Holds(typ, st), st.Reported
}

// StatKey identifies what a condition computes from a run's values before
// comparing: conditions with equal keys (say, 1,000 automations watching
// the 5-step mean of val/loss with different thresholds) compute the same
// Stat, so an evaluator computes it once a step and compares it each.
type StatKey struct {
	Type, Agg, ChangeType string
	Window, PriorWindow   int
}

// Key is c's StatKey for event type typ.
func (c *Config) Key(typ string) StatKey {
	return StatKey{Type: typ, Agg: c.Agg, ChangeType: c.ChangeType, Window: c.Window, PriorWindow: c.PriorWindow}
}

// Stat is what a condition compares with its threshold or amount, and the
// value a firing reports as metric_value.
type Stat struct {
	Compared, Reported float64
	// Undefined: a relative change against a prior mean of 0, or a
	// z-score against values of zero variance. It never holds.
	Undefined bool
}

// Stat computes, from values as Eval takes them, what c compares; ok is
// false when there are fewer values than Need. It depends only on
// c.Key(typ).
func (c *Config) Stat(typ string, values []float64) (Stat, bool) {
	need := c.Need(typ)
	if need == 0 || len(values) < need {
		return Stat{}, false
	}
	values = values[len(values)-need:]
	switch typ {
	case RunMetric:
		v := aggregate(c.Agg, values)
		return Stat{Compared: v, Reported: v}, true
	case RunMetricChange:
		prior, cur := mean(values[:c.PriorWindow]), mean(values[c.PriorWindow:])
		diff := cur - prior
		if c.ChangeType == "relative" {
			if prior == 0 {
				return Stat{Reported: cur, Undefined: true}, true
			}
			diff /= math.Abs(prior)
		}
		return Stat{Compared: diff, Reported: cur}, true
	case RunMetricZScore:
		prior, x := values[:c.Window], values[c.Window]
		m := mean(prior)
		var ss float64
		for _, v := range prior {
			ss += (v - m) * (v - m)
		}
		sd := math.Sqrt(ss / float64(len(prior)))
		if sd == 0 {
			return Stat{Reported: x, Undefined: true}, true
		}
		return Stat{Compared: (x - m) / sd, Reported: x}, true
	}
	return Stat{}, false
}

// Holds decides c on a Stat computed for c's key: a threshold on one side
// of it (Bound, which an evaluator of many conditions sorts by), or, for
// == and !=, the comparison itself.
func (c *Config) Holds(typ string, st Stat) bool {
	if st.Undefined {
		return false
	}
	if side, strict, bound, ok := c.Bound(typ); ok {
		v := SideOf(side, st.Compared)
		return v > bound || !strict && v == bound
	}
	if typ != RunMetric {
		return false
	}
	switch c.Op {
	case "==":
		return st.Compared == *c.Threshold
	case "!=":
		return st.Compared != *c.Threshold
	}
	return false
}

func aggregate(agg string, values []float64) float64 {
	if len(values) == 1 {
		return values[0] // N = 1: the last value
	}
	switch agg {
	case "min":
		return slices.Min(values)
	case "max":
		return slices.Max(values)
	}
	return mean(values)
}

func mean(values []float64) float64 {
	var s float64
	for _, v := range values {
		s += v
	}
	return s / float64(len(values))
}

// Sides of a Stat's Compared value that Bound orders conditions on.
const (
	SideUp   = 1 // Compared
	SideDown = 2 // -Compared
	SideAbs  = 3 // |Compared|
)

// Bound states Holds as a threshold on one side of the Stat:
// Holds(st) ⇔ side(st.Compared) > Value (Strict) or ≥ Value, for a
// defined st. Conditions of one StatKey, side and strictness sorted by
// Value hold on a prefix of that order for any Stat, so an evaluator
// finds every condition that holds by a binary search rather than asking
// each. ok is false for == and != (not a prefix): ask Holds.
func (c *Config) Bound(typ string) (side int, strict bool, value float64, ok bool) {
	switch typ {
	case RunMetric:
		t := *c.Threshold
		switch c.Op {
		case ">":
			return SideUp, true, t, true
		case ">=":
			return SideUp, false, t, true
		case "<":
			return SideDown, true, -t, true
		case "<=":
			return SideDown, false, -t, true
		}
		return 0, false, 0, false
	case RunMetricChange, RunMetricZScore:
		v := 0.0
		if typ == RunMetricChange {
			v = *c.Amount
		} else {
			v = *c.Threshold
		}
		switch c.Direction {
		case "increase", "above":
			return SideUp, false, v, true
		case "decrease", "below":
			return SideDown, false, v, true
		}
		return SideAbs, false, v, true
	}
	return 0, false, 0, false
}

// SideOf is st.Compared seen from side.
func SideOf(side int, compared float64) float64 {
	switch side {
	case SideDown:
		return -compared
	case SideAbs:
		return math.Abs(compared)
	}
	return compared
}
