package runs_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/runcond"
	"github.com/automations-dev/automations/models/runs"
)

// The ingestion benchmark of issue 14: batches of 1,000 steps × 10
// metrics logged into one project with 0, 100 and 1,000 RUN_METRIC
// automations (spread over the ten metrics, evaluated on every row, never
// firing, so the figure is the cost of evaluation), against a bare bulk
// insert of the same rows into an identical table (COPY on PostgreSQL, one
// multi-row INSERT a batch on SQLite); and the same logging on a run that
// already holds 1,000 or 1,000,000 steps, to show evaluation does not read
// history. Run with
//
//	TEST_DB=sqlite go test -run '^$' -bench LogHistory -benchtime 9x ./models/runs/
//
// (and TEST_DB=postgres with TEST_DATABASE_URL). It prints values/s for
// each variant (metric values stored per second, from the median batch)
// and the three ratios the issue sets targets for.

const (
	benchSteps   = 1000
	benchMetrics = 10
)

func benchBatch(start int64) []runs.Point {
	out := make([]runs.Point, 0, benchSteps*benchMetrics)
	for s := start; s < start+benchSteps; s++ {
		for m := range benchMetrics {
			out = append(out, runs.Point{Metric: fmt.Sprintf("metric_%d", m), Step: s, Value: float64(s%97) / 97})
		}
	}
	return out
}

// benchAutomations stores n RUN_METRIC automations on the fixture's project,
// written directly (saving each through CreateAutomation would take a
// transaction each and prove nothing here).
func benchAutomations(b *testing.B, f *fixture, n int) {
	b.Helper()
	if n == 0 {
		return
	}
	now := time.Now().UTC()
	rows := make([]models.Automation, n)
	for i := range rows {
		cfg := runcond.Config{Metric: fmt.Sprintf("metric_%d", i%benchMetrics), Window: 5, Agg: "avg", Op: ">", Threshold: ptr(1e9)}
		if err := cfg.Normalize(runcond.RunMetric); err != nil {
			b.Fatal(err)
		}
		rows[i] = models.Automation{Name: fmt.Sprintf("a%d", i), Enabled: true, ScopeType: models.ScopeProject,
			ProjectID: &f.project.ID, EventType: runcond.RunMetric, EventConfig: cfg.JSON(), ActionType: models.ActionWebhook,
			TeamID: f.team.ID, WebhookID: &f.webhook.ID, Payload: "{}", ActionConfig: "{}", CreatedBy: f.user.ID,
			CreatedAt: now, UpdatedAt: now}
	}
	if err := f.db.CreateInBatches(rows, 500).Error; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkLogHistory interleaves its variants: each round logs one
// batch into each, so a change in the machine's load during the run
// (other processes, PostgreSQL's checkpoints) falls on all of them alike,
// and the ratios compare medians of the same rounds.
func BenchmarkLogHistory(b *testing.B) {
	type variant struct {
		name string
		log  func(ctx context.Context, step int64) error
		step int64
		took []time.Duration
	}
	ctx := context.Background()
	logInto := func(b *testing.B, autos, stored int) func(context.Context, int64) error {
		f := newFixture(b)
		benchAutomations(b, f, autos)
		s := f.run(b, "bench")
		if stored > 0 {
			// One statement builds the stored history of every metric the
			// automations watch; logging continues after it.
			if err := prefill(f.db, s.Run.ID, stored); err != nil {
				b.Fatal(err)
			}
		}
		return func(ctx context.Context, step int64) error {
			res, err := runs.LogHistory(ctx, f.db, f.env, s, benchBatch(int64(stored)+step), f.user)
			if err == nil && res.Queued != 0 {
				err = fmt.Errorf("benchmark automations fired: %+v", res)
			}
			return err
		}
	}
	bare := func(b *testing.B) func(context.Context, int64) error {
		f := newFixture(b)
		s := f.run(b, "bench")
		if err := f.db.Exec(`CREATE TABLE bare_history (run_id BIGINT NOT NULL, metric TEXT NOT NULL, step BIGINT NOT NULL,
			value DOUBLE PRECISION NOT NULL, PRIMARY KEY (run_id, metric, step))`).Error; err != nil {
			b.Fatal(err)
		}
		return func(ctx context.Context, step int64) error { return bareInsert(ctx, f.db, s.Run.ID, benchBatch(step)) }
	}
	vs := []*variant{
		{name: "bare-bulk-insert", log: bare(b)},
		{name: "automations=0", log: logInto(b, 0, 0)},
		{name: "automations=100", log: logInto(b, 100, 0)},
		{name: "automations=1000", log: logInto(b, 1000, 0)},
		{name: "automations=0/stored-steps=1000", log: logInto(b, 0, 1000)},
		{name: "automations=100/stored-steps=1000", log: logInto(b, 100, 1000)},
		{name: "automations=0/stored-steps=1000000", log: logInto(b, 0, 1000000)},
		{name: "automations=100/stored-steps=1000000", log: logInto(b, 100, 1000000)},
	}
	b.ResetTimer()
	for range b.N {
		for _, v := range vs {
			start := time.Now()
			if err := v.log(ctx, v.step); err != nil {
				b.Fatalf("%s: %v", v.name, err)
			}
			v.took = append(v.took, time.Since(start))
			v.step += benchSteps
		}
	}
	b.StopTimer()
	rate := map[string]float64{}
	median := map[string]time.Duration{}
	for _, v := range vs {
		slices.Sort(v.took)
		median[v.name] = v.took[len(v.took)/2]
		rate[v.name] = benchSteps * benchMetrics / median[v.name].Seconds()
		if b.N > 1 {
			fmt.Printf("%-38s %9.0f values/s (median of %d batches of %d values)\n", v.name, rate[v.name], len(v.took), benchSteps*benchMetrics)
		}
	}
	// What 100 automations add to a batch, on a run with 1,000 and with
	// 1,000,000 stored steps: the evaluation's own cost, apart from
	// writing into a larger index.
	evalSmall := median["automations=100/stored-steps=1000"] - median["automations=0/stored-steps=1000"]
	evalLarge := median["automations=100/stored-steps=1000000"] - median["automations=0/stored-steps=1000000"]
	xBare := rate["automations=1000"] / rate["bare-bulk-insert"]
	cost := rate["automations=0"]/rate["automations=1000"] - 1
	b.ReportMetric(xBare, "x-bare@1000")
	b.ReportMetric(cost, "cost-1000-vs-0")
	b.ReportMetric(float64(evalSmall.Microseconds()), "eval-µs@1k-steps")
	b.ReportMetric(float64(evalLarge.Microseconds()), "eval-µs@1M-steps")
	if b.N > 1 {
		fmt.Printf("with 1,000 automations: %.2f× the bare insert; 1,000 automations cost %.0f%% against 0; "+
			"100 automations add %v a batch at 1,000 stored steps, %v at 1,000,000\n",
			xBare, 100*cost, evalSmall.Round(10*time.Microsecond), evalLarge.Round(10*time.Microsecond))
	}
}

// bareInsert stores points in bare_history the fastest plain way: COPY on
// PostgreSQL, one multi-row INSERT on SQLite, in one transaction.
func bareInsert(ctx context.Context, db *gorm.DB, runID int64, ps []runs.Point) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	if models.Dialect(db) == "postgres" {
		conn, err := sqlDB.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		return conn.Raw(func(dc any) error {
			rows := make([][]any, len(ps))
			for i, p := range ps {
				rows[i] = []any{runID, p.Metric, p.Step, p.Value}
			}
			_, err := dc.(*stdlib.Conn).Conn().CopyFrom(ctx, pgx.Identifier{"bare_history"},
				[]string{"run_id", "metric", "step", "value"}, pgx.CopyFromRows(rows))
			return err
		})
	}
	// SQLite: the multi-row INSERT the issue names, in statements of
	// bareRowsPerInsert rows (a statement of all 10,000 rows is slower
	// than our own logging: SQLite compiles a long VALUES list slowly),
	// through database/sql, whose cost is the floor under any logging.
	tx, err := sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	for start := 0; start < len(ps); start += bareRowsPerInsert {
		chunk := ps[start:min(start+bareRowsPerInsert, len(ps))]
		var sb strings.Builder
		sb.WriteString("INSERT INTO bare_history (run_id, metric, step, value) VALUES ")
		args := make([]any, 0, 4*len(chunk))
		for i, p := range chunk {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString("(?,?,?,?)")
			args = append(args, runID, p.Metric, p.Step, p.Value)
		}
		if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

const bareRowsPerInsert = 500

// prefill stores steps 0..n-1 of every benchmark metric in one statement.
func prefill(db *gorm.DB, runID int64, n int) error {
	if models.Dialect(db) == "postgres" {
		return db.Exec(`INSERT INTO run_history (run_id, metric, step, value)
			SELECT ?, 'metric_' || m, s, (s % 97) / 97.0 FROM generate_series(0, ? - 1) s, generate_series(0, ? - 1) m`,
			runID, n, benchMetrics).Error
	}
	return db.Exec(`WITH RECURSIVE s(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM s WHERE x + 1 < ?),
		m(y) AS (SELECT 0 UNION ALL SELECT y + 1 FROM m WHERE y + 1 < ?)
		INSERT INTO run_history (run_id, metric, step, value) SELECT ?, 'metric_' || y, x, (x % 97) / 97.0 FROM s, m`,
		n, benchMetrics, runID).Error
}

// BenchmarkDryRun is the dry run of a run automation over a project of 100
// runs × 1,000 steps × 10 metrics (1,000,000 stored values; the replay
// reads the 100,000 of the watched metric), for a RUN_METRIC automation of
// window 5 and for a RUN_METRIC_CHANGE one of windows 10 and 50, as the
// wizard's panel runs it. Run with
//
//	TEST_DB=sqlite go test -run '^$' -bench DryRun -benchtime 3x ./models/runs/
func BenchmarkDryRun(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	for i := range 100 {
		s := f.run(b, fmt.Sprintf("run-%d", i))
		if err := prefill(f.db, s.Run.ID, benchSteps); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range []struct {
		typ string
		cfg runcond.Config
	}{
		{runcond.RunMetric, runcond.Config{Metric: "metric_3", Window: 5, Agg: "avg", Op: ">", Threshold: ptr(0.9)}},
		{runcond.RunMetricChange, runcond.Config{Metric: "metric_3", Window: 10, PriorWindow: 50, Direction: "increase", Amount: ptr(0.5)}},
	} {
		cfg := c.cfg
		if err := cfg.Normalize(c.typ); err != nil {
			b.Fatal(err)
		}
		b.Run(c.typ, func(b *testing.B) {
			for range b.N {
				res, err := runs.DryRun(ctx, f.db, f.project.ID, c.typ, &cfg, time.Now().AddDate(0, 0, -30), 100)
				if err != nil || res.Count == 0 {
					b.Fatalf("%+v %v", res, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/dry-run")
		})
	}
}

// BenchmarkRunsListLastValues is a Runs list page's metric columns: 25
// runs × 10,000 steps × 10 metrics stored (2.5 million values), the last
// value of 5 metrics for every run of the page, plus the chooser's metric
// names; the cost is index seeks per cell, not the history's length (with
// 100,000 steps a run, 25 million values, it measured 1.8 ms a page on
// SQLite and 5.3 ms on PostgreSQL on a loaded 2-core machine).
//
//	TEST_DB=sqlite go test -run '^$' -bench LastValues -benchtime 20x ./models/runs/
func BenchmarkRunsListLastValues(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	var ids []int64
	for i := range 25 {
		s := f.run(b, fmt.Sprintf("run-%d", i))
		if err := prefill(f.db, s.Run.ID, 10000); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, s.Run.ID)
	}
	metrics := []string{"metric_0", "metric_2", "metric_4", "metric_6", "metric_8"}
	b.ResetTimer()
	for range b.N {
		last, err := runs.LastValues(ctx, f.db, ids, metrics)
		if err != nil || len(last) != 25 || last[ids[0]]["metric_4"].Step != 9999 {
			b.Fatalf("%v %v", last[ids[0]], err)
		}
		names, err := runs.MetricNames(ctx, f.db, ids)
		if err != nil || len(names) != benchMetrics {
			b.Fatalf("%v %v", names, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/page")
}
