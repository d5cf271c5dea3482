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
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		r, err := lockRun(tx, s.Run.ID)
		if err != nil {
			return err
		}
		if err := touch(tx, r); err != nil {
			return err
		}
		s.Run = r
		cs, err := candidates(tx, s, []string{runcond.RunMetric, runcond.RunMetricChange, runcond.RunMetricZScore})
		if err != nil {
			return err
		}
		var fires []fire
		if len(cs) > 0 {
			if fires, err = evaluate(tx, s, cs, points); err != nil {
				return err
			}
		}
		if err := storePoints(tx, r.ID, points); err != nil {
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
func evaluate(tx *gorm.DB, s *Scope, cs []candidate, points []Point) ([]fire, error) {
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
	var out []fire
	for _, m := range slices.Sorted(maps.Keys(batch)) {
		logged := batch[m]
		slices.SortFunc(logged, func(a, b Point) int { return cmpInt(a.Step, b.Step) })
		series, err := window(tx, s.Run.ID, m, logged, need[m])
		if err != nil {
			return nil, err
		}
		pos := make(map[int64]int, len(series))
		for i, p := range series {
			pos[p.Step] = i
		}
		values := make([]float64, len(series))
		for i, p := range series {
			values[i] = p.Value
		}
		pending := slices.Clone(byMetric[m])
		for _, p := range logged {
			if len(pending) == 0 {
				break
			}
			i := pos[p.Step]
			kept := pending[:0]
			for _, c := range pending {
				lo := max(0, i+1-c.cfg.Need(c.EventType))
				if ok, v := c.cfg.Eval(c.EventType, values[lo:i+1]); ok {
					out = append(out, fire{c: c, step: p.Step, value: v, at: now})
					continue
				}
				kept = append(kept, c)
			}
			pending = kept
		}
	}
	slices.SortFunc(out, func(a, b fire) int { return cmpInt(a.c.ID, b.c.ID) })
	return out, nil
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

// window is the run's series of metric m that the batch's steps are
// evaluated on, in step order: up to need stored values before the
// batch's first step, the stored values among its steps, and the batch's
// values, which replace stored ones at the same step.
func window(tx *gorm.DB, runID int64, m string, logged []Point, need int) ([]Point, error) {
	first, last := logged[0].Step, logged[len(logged)-1].Step
	var before, inside []Point
	if need > 1 {
		// Newest first through the (run_id, metric, step) key, then reversed.
		if err := tx.Table("run_history").Select("metric, step, value").
			Where("run_id = ? AND metric = ? AND step < ?", runID, m, first).
			Order("step DESC").Limit(need - 1).Find(&before).Error; err != nil {
			return nil, fmt.Errorf("read %s history: %w", m, err)
		}
		slices.Reverse(before)
	}
	if err := tx.Table("run_history").Select("metric, step, value").
		Where("run_id = ? AND metric = ? AND step >= ? AND step <= ?", runID, m, first, last).
		Find(&inside).Error; err != nil {
		return nil, fmt.Errorf("read %s history: %w", m, err)
	}
	byStep := make(map[int64]float64, len(inside)+len(logged))
	for _, p := range inside {
		byStep[p.Step] = p.Value
	}
	for _, p := range logged {
		byStep[p.Step] = p.Value
	}
	series := before
	for _, step := range slices.Sorted(maps.Keys(byStep)) {
		series = append(series, Point{Metric: m, Step: step, Value: byStep[step]})
	}
	return series, nil
}

// rowsPerInsert keeps a statement's parameters (4 a row) under SQLite's
// limit of 32,766 and PostgreSQL's of 65,535.
const rowsPerInsert = 2000

// storePoints writes points, replacing the value of a step stored before.
func storePoints(tx *gorm.DB, runID int64, points []Point) error {
	if models.Dialect(tx) == "postgres" {
		return storePointsPG(tx, runID, points)
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
		if err := tx.Exec(sb.String(), args...).Error; err != nil {
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

// storePointsPG writes the batch as three arrays unnested in one
// statement: PostgreSQL parses and plans it once, with four parameters
// however many rows, instead of a VALUES list of 4 parameters a row. (The
// batch holds each step and metric once, as ON CONFLICT requires.)
func storePointsPG(tx *gorm.DB, runID int64, points []Point) error {
	metrics := make([]string, len(points))
	steps := make([]int64, len(points))
	values := make([]float64, len(points))
	for i, p := range points {
		metrics[i], steps[i], values[i] = p.Metric, p.Step, p.Value
	}
	appendOnly, err := appendsOnly(tx, runID, points)
	if err != nil {
		return err
	}
	// The common case, steps after every stored one, skips ON CONFLICT's
	// speculative insertion (the run is locked, so nothing comes between).
	conflict := "ON CONFLICT (run_id, metric, step) DO UPDATE SET value = excluded.value"
	if appendOnly {
		conflict = ""
	}
	// Straight to the connection: gorm would expand the slices into lists.
	_, err = tx.Statement.ConnPool.ExecContext(tx.Statement.Context, `INSERT INTO run_history (run_id, metric, step, value)
SELECT $1, m, s, v FROM unnest($2::text[], $3::bigint[], $4::float8[]) AS t(m, s, v) `+conflict, runID, metrics, steps, values)
	if err != nil {
		return fmt.Errorf("store history: %w", err)
	}
	return nil
}

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
