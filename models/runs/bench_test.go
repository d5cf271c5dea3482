package runs_test

import (
	"context"
	"fmt"
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
//	TEST_DB=sqlite go test -run '^$' -bench . -benchtime 5x ./models/runs/
//
// (and TEST_DB=postgres with TEST_DATABASE_URL). Each sub-benchmark
// reports values/s: metric values stored per second.

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

func BenchmarkLogHistory(b *testing.B) {
	for _, n := range []int{0, 100, 1000} {
		b.Run(fmt.Sprintf("automations=%d", n), func(b *testing.B) {
			f := newFixture(b)
			benchAutomations(b, f, n)
			s := f.run(b, "bench")
			ctx := context.Background()
			step := int64(0)
			b.ResetTimer()
			for range b.N {
				res, err := runs.LogHistory(ctx, f.db, f.env, s, benchBatch(step), f.user)
				if err != nil || res.Queued != 0 {
					b.Fatalf("%+v %v", res, err)
				}
				step += benchSteps
			}
			b.ReportMetric(float64(b.N*benchSteps*benchMetrics)/b.Elapsed().Seconds(), "values/s")
		})
	}
	b.Run("bare-bulk-insert", func(b *testing.B) {
		f := newFixture(b)
		s := f.run(b, "bench")
		if err := f.db.Exec(`CREATE TABLE bare_history (run_id BIGINT NOT NULL, metric TEXT NOT NULL, step BIGINT NOT NULL,
			value DOUBLE PRECISION NOT NULL, PRIMARY KEY (run_id, metric, step))`).Error; err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		step := int64(0)
		b.ResetTimer()
		for range b.N {
			if err := bareInsert(ctx, f.db, s.Run.ID, benchBatch(step)); err != nil {
				b.Fatal(err)
			}
			step += benchSteps
		}
		b.ReportMetric(float64(b.N*benchSteps*benchMetrics)/b.Elapsed().Seconds(), "values/s")
	})
	for _, stored := range []int{1000, 1000000} {
		b.Run(fmt.Sprintf("automations=100/stored-steps=%d", stored), func(b *testing.B) {
			f := newFixture(b)
			benchAutomations(b, f, 100)
			s := f.run(b, "bench")
			// One statement builds the stored history of every metric the
			// automations watch; logging continues after it.
			if err := prefill(f.db, s.Run.ID, stored); err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			step := int64(stored)
			b.ResetTimer()
			for range b.N {
				if _, err := runs.LogHistory(ctx, f.db, f.env, s, benchBatch(step), f.user); err != nil {
					b.Fatal(err)
				}
				step += benchSteps
			}
			b.ReportMetric(float64(b.N*benchSteps*benchMetrics)/b.Elapsed().Seconds(), "values/s")
		})
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
	var sb strings.Builder
	sb.WriteString("INSERT INTO bare_history (run_id, metric, step, value) VALUES ")
	args := make([]any, 0, 3*len(ps))
	for i, p := range ps {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "(%d,?,?,?)", runID) // 3 parameters a row keep 10,000 rows under SQLite's limit
		args = append(args, p.Metric, p.Step, p.Value)
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return tx.Exec(sb.String(), args...).Error
	})
}

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
