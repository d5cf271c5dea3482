package models_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/modeltest"
)

// Sizes of BenchmarkDeliveryChartMillion's table: a million deliveries
// over 30 days, 900,000 of them one busy automation's (webhook 1), the
// rest spread over 100 quiet automations (webhook 2), 1,000 each, all
// evenly over the month. Every delivery has its final attempt (5%
// failed) and one in ten a retried one before it: 1.1 million attempts.
const benchDeliveries = 1_000_000

// lastSQL keeps the last statement gorm ran, values inlined, to EXPLAIN it.
type lastSQL struct {
	logger.Interface
	mu   sync.Mutex
	stmt []string
}

func (l *lastSQL) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	sql, _ := fc()
	l.mu.Lock()
	l.stmt = append(l.stmt, sql)
	l.mu.Unlock()
}

// seedMillion writes the table in three statements (generate_series on
// PostgreSQL, a recursive CTE on SQLite) and refreshes the statistics and
// visibility map, as autovacuum would on a live table.
func seedMillion(b *testing.B, db *gorm.DB, now time.Time) {
	b.Helper()
	start := time.Now()
	series := `SELECT g AS i FROM generate_series(1, ?) AS g`
	if models.Dialect(db) != "postgres" {
		series = `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?) SELECT i FROM s`
	}
	span := (30 * 24 * time.Hour).Seconds()
	// Delivery i happened i/N of 30 days ago; busy ones are automation 1.
	at := `(? - (i * ? / ?))`
	if models.Dialect(db) == "postgres" {
		at = `(?::timestamptz - make_interval(secs => i::float8 * ? / ?))`
	} else {
		at = `datetime(?, '-' || CAST(i * ? / ? AS INTEGER) || ' seconds')`
	}
	// The automations the deliveries name (SQLite still checks that key).
	u := modeltest.User(b, db, "bench@example.com", true)
	team := modeltest.Team(b, db, "bench", u)
	for i := 1; i <= 101; i++ {
		err := db.Exec(`INSERT INTO automations (id, name, scope_type, event_type, action_type, team_id, created_by, created_at, updated_at)
VALUES (?, ?, 'project', 'CREATE_ARTIFACT', 'webhook', ?, ?, ?, ?)`, i, fmt.Sprintf("a%d", i), team.ID, u.ID, now, now).Error
		if err != nil {
			b.Fatal(err)
		}
	}
	// Attempts as the runner stores them: the request's headers and body
	// and the response's, a few hundred bytes each (what makes the table
	// wide and the covering index worth reading instead).
	retriedAt, filler := `created_at - interval '10 seconds'`, `repeat('x', 300)`
	if models.Dialect(db) != "postgres" {
		retriedAt, filler = `datetime(created_at, '-10 seconds')`, `printf('%.300c', 'x')`
	}
	steps := []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO deliveries (uid, event_id, automation_id, automation_name, action_type, team_id, webhook_id, revision_id,
  state, attempts, next_attempt_at, created_at, updated_at, completed_at)
SELECT 'dlv_bench_' || i, i,
  CASE WHEN i % 10 <> 0 THEN 1 ELSE 2 + (i / 10) % 100 END, 'bench', 'webhook', 1,
  CASE WHEN i % 10 <> 0 THEN 1 ELSE 2 END, 1,
  CASE WHEN (CAST(i AS BIGINT) * 7919) % 20 = 7 THEN 'failed' ELSE 'succeeded' END, 1, ` + at + `, ` + at + `, ` + at + `, ` + at + `
FROM (` + series + `) s`, []any{now, span, benchDeliveries, now, span, benchDeliveries, now, span, benchDeliveries, now, span, benchDeliveries, benchDeliveries}},
		{`INSERT INTO delivery_attempts (delivery_id, automation_id, webhook_id, number, started_at, duration_ms, outcome,
  request_headers, request_body, response_headers, response_body)
SELECT id, automation_id, webhook_id, 1, created_at, 20 + (id * 7919) % 480, state, ` + filler + `, ` + filler + `, ` + filler + `, ` + filler + `
FROM deliveries`, nil},
		{`INSERT INTO delivery_attempts (delivery_id, automation_id, webhook_id, number, started_at, duration_ms, outcome,
  request_headers, request_body, response_headers, response_body)
SELECT id, automation_id, webhook_id, 0, ` + retriedAt + `, 5000, 'retrying', ` + filler + `, ` + filler + `, ` + filler + `, ` + filler + `
FROM deliveries WHERE (id * 104729) % 10 = 3`, nil},
	}
	for _, s := range steps {
		if err := db.Exec(s.sql, s.args...).Error; err != nil {
			b.Fatalf("seed: %v", err)
		}
	}
	maintain := "VACUUM ANALYZE"
	if models.Dialect(db) != "postgres" {
		maintain = "ANALYZE"
	}
	if err := db.Exec(maintain).Error; err != nil {
		b.Fatal(err)
	}
	fmt.Printf("\n== seeded %d deliveries and their attempts on %s in %v\n", benchDeliveries, models.Dialect(db), time.Since(start).Round(time.Millisecond))
}

// BenchmarkDeliveryChartMillion times the Activity chart's query for
// each range, for the busy automation (900,000 deliveries), a quiet one
// (1,000) and the busy webhook, and prints each query's plan (on
// PostgreSQL with EXPLAIN ANALYZE). Run it with
//
//	TEST_DB=postgres TEST_DATABASE_URL=… go test -run '^$' -bench DeliveryChartMillion -benchtime 5x ./models/
func BenchmarkDeliveryChartMillion(b *testing.B) {
	db := modeltest.Open(b)
	now := time.Now().UTC()
	seedMillion(b, db, now)
	ctx := context.Background()
	for _, target := range []struct {
		name string
		t    models.RetryTarget
	}{
		{"busy-automation", models.RetryTarget{AutomationID: 1}},
		{"quiet-automation", models.RetryTarget{AutomationID: 2}},
		{"busy-webhook", models.RetryTarget{WebhookID: 1}},
	} {
		for _, rng := range models.ChartRanges {
			b.Run(target.name+"/"+rng.Name, func(b *testing.B) {
				var ch *models.DeliveryChart
				for b.Loop() {
					var err error
					if ch, err = models.DeliveryChartOf(ctx, db, target.t, rng, now); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				explainChart(b, db, target.t, rng, now, ch)
			})
		}
	}
	b.Run("metrics-scrape", func(b *testing.B) {
		for b.Loop() {
			if _, err := models.ReadQueueStats(ctx, db, now); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// explainChart prints the plan of the chart's statements once per case.
func explainChart(b *testing.B, db *gorm.DB, target models.RetryTarget, rng models.ChartRange, now time.Time, ch *models.DeliveryChart) {
	rec := &lastSQL{Interface: db.Logger}
	traced := db.Session(&gorm.Session{Logger: rec})
	if _, err := models.DeliveryChartOf(context.Background(), traced, target, rng, now); err != nil {
		b.Fatal(err)
	}
	fmt.Printf("\n== %s: total %d succeeded, %d retried, %d failed; p50 %.1f ms, p95 %.1f ms (sampled %v)\n",
		b.Name(), ch.Total.Succeeded, ch.Total.Retrying, ch.Total.Failed, ch.Total.P50, ch.Total.P95, ch.Sampled)
	explain := "EXPLAIN (ANALYZE, BUFFERS) "
	if models.Dialect(db) != "postgres" {
		explain = "EXPLAIN QUERY PLAN "
	}
	for _, stmt := range rec.stmt {
		var lines []string
		if models.Dialect(db) == "postgres" {
			if err := db.Raw(explain + stmt).Scan(&lines).Error; err != nil {
				b.Fatal(err)
			}
		} else {
			var rows []struct {
				Detail string `gorm:"column:detail"`
			}
			if err := db.Raw(explain + stmt).Scan(&rows).Error; err != nil {
				b.Fatal(err)
			}
			for _, r := range rows {
				lines = append(lines, r.Detail)
			}
		}
		fmt.Printf("%s\n  %s\n", strings.Join(strings.Fields(stmt), " "), strings.Join(lines, "\n  "))
	}
}
