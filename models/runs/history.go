package runs

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/runcond"
)

// MaxRows is the most history rows one request may log.
const MaxRows = 10000

// Row is one logged step: its metrics as the request gave them (JSON
// values, checked by LogHistory so errors can name the row and metric).
type Row struct {
	Step    json.RawMessage            `json:"step"`
	Metrics map[string]json.RawMessage `json:"metrics"`
}

// Point is one stored value.
type Point struct {
	Metric string  `gorm:"column:metric"`
	Step   int64   `gorm:"column:step"`
	Value  float64 `gorm:"column:value"`
}

// ParseRows checks rows and returns their values, one Point per metric
// value, the last one winning when a step and metric repeat. A step is an
// integer from 0; a value is a finite JSON number.
func ParseRows(rows []Row) ([]Point, error) {
	if len(rows) == 0 {
		return nil, models.Invalid("rows", "is required: e.g. [{\"step\": 0, \"metrics\": {\"loss\": 0.5}}]")
	}
	if len(rows) > MaxRows {
		return nil, models.Invalid("rows", "at most %d rows a request (got %d): send them in batches", MaxRows, len(rows))
	}
	type key struct {
		metric string
		step   int64
	}
	at := map[key]int{}
	var out []Point
	for i, row := range rows {
		field := "rows[" + strconv.Itoa(i) + "]"
		step, err := strconv.ParseInt(strings.TrimSpace(string(row.Step)), 10, 64)
		if err != nil || step < 0 {
			return nil, models.Invalid(field+".step", "must be a whole number from 0")
		}
		if len(row.Metrics) == 0 {
			return nil, models.Invalid(field+".metrics", "is required: an object of metric names and numbers")
		}
		for _, name := range slices.Sorted(maps.Keys(row.Metrics)) {
			mfield := field + ".metrics." + name
			if err := runcond.ValidateMetricName(field+".metrics", name); err != nil {
				return nil, models.Invalid(field+".metrics", "metric name %q %s", name, err.(*runcond.FieldError).Message)
			}
			v, err := number(row.Metrics[name])
			if err != nil {
				return nil, models.Invalid(mfield, "%s", err.Error())
			}
			k := key{name, step}
			if j, seen := at[k]; seen {
				out[j].Value = v // logged twice: the later value replaces it
				continue
			}
			at[k] = len(out)
			out = append(out, Point{Metric: name, Step: step, Value: v})
		}
	}
	return out, nil
}

// number reads a finite JSON number; strings such as "NaN", booleans,
// null and numbers beyond float64 are refused.
func number(raw json.RawMessage) (float64, error) {
	text := strings.TrimSpace(string(raw))
	if text == "" || !(text[0] == '-' || text[0] >= '0' && text[0] <= '9') {
		return 0, fmt.Errorf("must be a number, not %s", shorten(text))
	}
	v, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return 0, fmt.Errorf("must be a finite number, not %s", shorten(text))
	}
	return v, nil
}

func shorten(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// LogResult is what logging a batch did.
type LogResult struct {
	Accepted int // values stored
	Queued   int // deliveries queued by metric events
}

// LogHistory stores points (from ParseRows) in s's run, replacing values
// of steps logged before, and evaluates the project's metric automations
// in the same transaction. It counts as a heartbeat.
//
// Evaluation reads, per metric that a candidate automation watches, only
// the newest values before the batch's first step (as many as the widest
// window needs) and any stored values among the batch's own steps, through
// run_history's key: the work per logged row is O(candidate automations ×
// their windows), whatever the history's length. Each logged step is
// checked over the values at and before it in step order (a step logged
// out of order is placed by its step; one logged again counts with its new
// value); an automation fires at most once a batch, at the first step
// where its condition holds, and then not again for the run within its
// cooldown.
func LogHistory(ctx context.Context, db *gorm.DB, env Env, s *Scope, points []Point, author *models.User) (LogResult, error) {
	res := LogResult{Accepted: len(points)}
	err := withRawConn(ctx, db, func(tx *gorm.DB, raw rawConn) error {
		r, err := lockRun(tx, s.Run.ID)
		if err != nil {
			return err
		}
		if err := touch(tx, r); err != nil {
			return err
		}
		s.Run = r
		cs, err := candidates(tx, env, s, []string{runcond.RunMetric, runcond.RunMetricChange, runcond.RunMetricZScore})
		if err != nil {
			return err
		}
		// On PostgreSQL, whether the batch only appends decides both what
		// evaluation reads and how the batch is written.
		appendOnly := false
		if raw != nil {
			if appendOnly, err = appendsOnly(tx, r.ID, points); err != nil {
				return err
			}
		}
		var fires []fire
		if len(cs) > 0 {
			if fires, err = evaluate(tx, s, cs, points, appendOnly); err != nil {
				return err
			}
		}
		if err := storePoints(tx, raw, r.ID, points, appendOnly); err != nil {
			return err
		}
		for _, f := range fires {
			vars := eventVars(env, s, f.c.EventType, author)
			vars.MetricName = f.c.cfg.Metric
			vars.MetricValue = formatNumber(f.value)
			vars.MetricStep = strconv.FormatInt(f.step, 10)
			if f.c.EventType == runcond.RunMetricChange {
				vars.MetricThreshold = formatNumber(*f.c.cfg.Amount)
			} else {
				vars.MetricThreshold = formatNumber(*f.c.cfg.Threshold)
			}
			n, err := writeEvent(ctx, tx, s, vars, []int64{f.c.ID}, f.at)
			if err != nil {
				return err
			}
			res.Queued += n
		}
		return nil
	})
	return res, err
}

func formatNumber(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

type fire struct {
	c     *candidate
	step  int64
	value float64
	at    time.Time
}

// evaluate decides which candidates fire for the batch, before its points
// are stored (so the stored values it reads are the old ones).
func evaluate(tx *gorm.DB, s *Scope, cs []candidate, points []Point, appendOnly bool) ([]fire, error) {
	now := time.Now().UTC()
	cool, err := cooling(tx, s.Run.ID, cs, now)
	if err != nil {
		return nil, err
	}
	byMetric := map[string][]*candidate{}
	need := map[string]int{}
	for i := range cs {
		c := &cs[i]
		if cool[c.ID] {
			continue
		}
		m := c.cfg.Metric
		byMetric[m] = append(byMetric[m], c)
		need[m] = max(need[m], c.cfg.Need(c.EventType))
	}
	batch := map[string][]Point{}
	for _, p := range points {
		if _, watched := byMetric[p.Metric]; watched {
			batch[p.Metric] = append(batch[p.Metric], p)
		}
	}
	for _, logged := range batch {
		slices.SortFunc(logged, func(a, b Point) int { return cmpInt(a.Step, b.Step) })
	}
	stored, err := readWindows(tx, s.Run.ID, batch, need, appendOnly)
	if err != nil {
		return nil, err
	}
	var out []fire
	for _, m := range slices.Sorted(maps.Keys(batch)) {
		logged := batch[m]
		series, at := window(m, stored[m], logged)
		values := make([]float64, len(series))
		for i, p := range series {
			values[i] = p.Value
		}
		for _, h := range firstHolds(byMetric[m], values, at) {
			out = append(out, fire{c: h.c, step: series[h.i].Step, value: h.value, at: now})
		}
	}
	slices.SortFunc(out, func(a, b fire) int { return cmpInt(a.c.ID, b.c.ID) })
	return out, nil
}

// hold is where a candidate's condition held: values[i], with the value
// the payload reports as metric_value.
type hold struct {
	c     *candidate
	i     int
	value float64
}

// firstHolds is the batch rule, shared by live logging and the dry run's
// replay: it walks the positions at (ascending) of values, a run's values
// of one metric in step order, and returns for each of cs the first
// position where its condition holds over the values at and before it. An
// automation fires at most once a batch, at its first step that holds.
func firstHolds(cs []*candidate, values []float64, at []int) []hold {
	if len(cs) == 1 {
		// One condition (the dry run replays one automation a step at a
		// time): asking it directly costs less than grouping.
		c := cs[0]
		for _, i := range at {
			lo := max(0, i+1-c.cfg.Need(c.EventType))
			if ok, v := c.cfg.Eval(c.EventType, values[lo:i+1]); ok {
				return []hold{{c: c, i: i, value: v}}
			}
		}
		return nil
	}
	var out []hold
	for k, f := range firstFirings(cs, values, at) {
		if f.at >= 0 {
			out = append(out, hold{c: cs[k], i: at[f.at], value: f.value})
		}
	}
	return out
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// storedWindow is what evaluation reads of one metric's stored history:
// up to need-1 values before the batch's first step, oldest first, and
// the stored values among the batch's steps (replaced by the batch).
type storedWindow struct {
	before, inside []Point
}

// readWindows reads the stored windows of the batch's metrics through
// run_history's (run_id, metric, step) key. On PostgreSQL one statement
// reads every metric's values before the batch, and the values among the
// batch's steps are read only when the batch does not just append.
func readWindows(tx *gorm.DB, runID int64, batch map[string][]Point, need map[string]int, appendOnly bool) (map[string]storedWindow, error) {
	out := make(map[string]storedWindow, len(batch))
	names := slices.Sorted(maps.Keys(batch))
	postgres := models.Dialect(tx) == "postgres"
	if postgres {
		if err := readBeforePG(tx, runID, names, batch, need, out); err != nil {
			return nil, err
		}
		if appendOnly {
			return out, nil
		}
	}
	for _, m := range names {
		logged := batch[m]
		first, last := logged[0].Step, logged[len(logged)-1].Step
		w := out[m]
		if need[m] > 1 && !postgres {
			// Newest first through the key, then reversed.
			if err := tx.Table("run_history").Select("metric, step, value").
				Where("run_id = ? AND metric = ? AND step < ?", runID, m, first).
				Order("step DESC").Limit(need[m] - 1).Find(&w.before).Error; err != nil {
				return nil, fmt.Errorf("read %s history: %w", m, err)
			}
			slices.Reverse(w.before)
		}
		if err := tx.Table("run_history").Select("metric, step, value").
			Where("run_id = ? AND metric = ? AND step >= ? AND step <= ?", runID, m, first, last).
			Find(&w.inside).Error; err != nil {
			return nil, fmt.Errorf("read %s history: %w", m, err)
		}
		out[m] = w
	}
	return out, nil
}

// readBeforePG reads, in one statement, each metric's up to need-1 stored
// values before the batch's first step into out's before, oldest first.
func readBeforePG(tx *gorm.DB, runID int64, names []string, batch map[string][]Point, need map[string]int, out map[string]storedWindow) error {
	var ms []string
	var firsts, limits []int64
	for _, m := range names {
		if need[m] > 1 {
			ms = append(ms, m)
			firsts = append(firsts, batch[m][0].Step)
			limits = append(limits, int64(need[m]-1))
		}
	}
	if len(ms) == 0 {
		return nil
	}
	rows, err := tx.Statement.ConnPool.QueryContext(tx.Statement.Context, `SELECT t.m, h.step, h.value
FROM unnest($2::text[], $3::bigint[], $4::bigint[]) AS t(m, first, n)
CROSS JOIN LATERAL (SELECT step, value FROM run_history
  WHERE run_id = $1 AND metric = t.m AND step < t.first ORDER BY step DESC LIMIT t.n) h`, runID, ms, firsts, limits)
	if err != nil {
		return fmt.Errorf("read history windows: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p Point
		if err := rows.Scan(&p.Metric, &p.Step, &p.Value); err != nil {
			return fmt.Errorf("read history windows: %w", err)
		}
		w := out[p.Metric]
		w.before = append(w.before, p)
		out[p.Metric] = w
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read history windows: %w", err)
	}
	for m, w := range out {
		slices.SortFunc(w.before, func(a, b Point) int { return cmpInt(a.Step, b.Step) })
		out[m] = w
	}
	return nil
}

// window is the run's series of metric m that the batch's steps are
// evaluated on, in step order: the stored values before the batch's
// first step, the stored values among its steps, and the batch's values
// (logged, in step order), which replace stored ones at the same step;
// and at, the position in the series of each logged step.
func window(m string, stored storedWindow, logged []Point) (series []Point, at []int) {
	at = make([]int, len(logged))
	if len(stored.inside) == 0 && stepsIncrease(logged) {
		// The common case, a batch after the stored steps: the series is
		// the values before it and the batch, as they are.
		series = append(slices.Clip(stored.before), logged...)
		for k := range at {
			at[k] = len(stored.before) + k
		}
		return series, at
	}
	byStep := make(map[int64]float64, len(stored.inside)+len(logged))
	for _, p := range stored.inside {
		byStep[p.Step] = p.Value
	}
	for _, p := range logged {
		byStep[p.Step] = p.Value
	}
	series = slices.Clip(stored.before)
	pos := make(map[int64]int, len(byStep))
	for _, step := range slices.Sorted(maps.Keys(byStep)) {
		pos[step] = len(series)
		series = append(series, Point{Metric: m, Step: step, Value: byStep[step]})
	}
	for k, p := range logged {
		at[k] = pos[p.Step]
	}
	return series, at
}

// stepsIncrease reports whether ps's steps strictly increase.
func stepsIncrease(ps []Point) bool {
	for i := 1; i < len(ps); i++ {
		if ps[i].Step <= ps[i-1].Step {
			return false
		}
	}
	return true
}

// rowsPerInsert is the rows of one SQLite statement: it keeps the
// parameters (4 a row) under SQLite's limit of 32,766, and SQLite
// compiles a long VALUES list more slowly per row than a short one
// (measured on a loaded 2-core machine: logging 10,000 values rose from
// about 49,000 to 76,000 values/s going from 2,000 rows a statement to
// 500).
const rowsPerInsert = 500

// storePoints writes points, replacing the value of a step stored before.
func storePoints(tx *gorm.DB, raw rawConn, runID int64, points []Point, appendOnly bool) error {
	if raw != nil {
		return storePointsPG(tx, raw, runID, points, appendOnly)
	}
	for start := 0; start < len(points); start += rowsPerInsert {
		chunk := points[start:min(start+rowsPerInsert, len(points))]
		var sb strings.Builder
		sb.WriteString("INSERT INTO run_history (run_id, metric, step, value) VALUES ")
		args := make([]any, 0, 4*len(chunk))
		for i, p := range chunk {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString("(?,?,?,?)")
			args = append(args, runID, p.Metric, p.Step, p.Value)
		}
		sb.WriteString(" ON CONFLICT (run_id, metric, step) DO UPDATE SET value = excluded.value")
		// Straight to the connection: gorm would scan the statement and
		// its 2,000 parameters again.
		if _, err := tx.Statement.ConnPool.ExecContext(tx.Statement.Context, sb.String(), args...); err != nil {
			return fmt.Errorf("store history: %w", err)
		}
	}
	return nil
}

// History returns a run's values, by metric in step order, at most limit
// values a metric (the newest).
func History(ctx context.Context, db *gorm.DB, runID int64, limit int) (map[string][]Point, error) {
	var names []string
	if err := db.WithContext(ctx).Table("run_history").Where("run_id = ?", runID).
		Distinct("metric").Order("metric").Pluck("metric", &names).Error; err != nil {
		return nil, fmt.Errorf("list metrics: %w", err)
	}
	out := make(map[string][]Point, len(names))
	for _, m := range names {
		var ps []Point
		if err := db.WithContext(ctx).Table("run_history").Select("metric, step, value").
			Where("run_id = ? AND metric = ?", runID, m).Order("step DESC").Limit(limit).Find(&ps).Error; err != nil {
			return nil, fmt.Errorf("read %s history: %w", m, err)
		}
		slices.Reverse(ps)
		out[m] = ps
	}
	return out, nil
}

// storePointsPG writes the batch. The common case, steps after every
// stored one, is a COPY on the transaction's connection: the bulk path
// PostgreSQL has, with no per-row parsing or speculative insertion (the
// run is locked, so nothing comes between the check and the write).
// Otherwise three arrays unnested in one upsert: planned once, with four
// parameters however many rows. (The batch holds each step and metric
// once, as ON CONFLICT requires.)
func storePointsPG(tx *gorm.DB, raw rawConn, runID int64, points []Point, appendOnly bool) error {
	if appendOnly {
		err := raw(func(conn *pgx.Conn) error {
			_, err := conn.CopyFrom(tx.Statement.Context, pgx.Identifier{"run_history"},
				[]string{"run_id", "metric", "step", "value"}, &pointRows{runID: runID, points: points, at: -1})
			return err
		})
		if err != nil {
			return fmt.Errorf("store history: %w", err)
		}
		return nil
	}
	metrics := make([]string, len(points))
	steps := make([]int64, len(points))
	values := make([]float64, len(points))
	for i, p := range points {
		metrics[i], steps[i], values[i] = p.Metric, p.Step, p.Value
	}
	// Straight to the connection: gorm would expand the slices into lists.
	_, err := tx.Statement.ConnPool.ExecContext(tx.Statement.Context, `INSERT INTO run_history (run_id, metric, step, value)
SELECT $1, m, s, v FROM unnest($2::text[], $3::bigint[], $4::float8[]) AS t(m, s, v)
ON CONFLICT (run_id, metric, step) DO UPDATE SET value = excluded.value`, runID, metrics, steps, values)
	if err != nil {
		return fmt.Errorf("store history: %w", err)
	}
	return nil
}

// pointRows feeds points to COPY without building a row slice each.
type pointRows struct {
	runID  int64
	points []Point
	at     int
	row    [4]any
}

func (r *pointRows) Next() bool { r.at++; return r.at < len(r.points) }

func (r *pointRows) Values() ([]any, error) {
	p := &r.points[r.at]
	r.row = [4]any{r.runID, p.Metric, p.Step, p.Value}
	return r.row[:], nil
}

func (r *pointRows) Err() error { return nil }

// appendsOnly reports whether every point's step comes after the newest
// stored step of its metric, reading one row per metric through the key.
func appendsOnly(tx *gorm.DB, runID int64, points []Point) (bool, error) {
	first := map[string]int64{}
	for _, p := range points {
		if s, ok := first[p.Metric]; !ok || p.Step < s {
			first[p.Metric] = p.Step
		}
	}
	names := slices.Sorted(maps.Keys(first))
	var newest []Point
	if err := tx.Raw(`SELECT t.metric, h.step FROM unnest(CAST(? AS text[])) AS t(metric)
CROSS JOIN LATERAL (SELECT step FROM run_history WHERE run_id = ? AND metric = t.metric ORDER BY step DESC LIMIT 1) h`,
		pgTextArray(names), runID).Scan(&newest).Error; err != nil {
		return false, fmt.Errorf("newest stored steps: %w", err)
	}
	for _, n := range newest {
		if first[n.Metric] <= n.Step {
			return false, nil
		}
	}
	return true, nil
}

// pgTextArray is a text[] literal of names (metric names hold no control
// characters; quotes and backslashes are escaped).
func pgTextArray(names []string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(n))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}
