package models_test

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/modeltest"
)

// BenchmarkDeliveryWritesFloor measures what the writes the product must
// make cost the database alone, with no product code in between: for each
// event, its row and a delivery row per match in one transaction, then one
// statement per event that records every delivery's successful attempt
// (the delivery row finished, an attempt row without its request body).
// Run with -benchtime 1x; it prints the CPU per delivery of the database
// (PostgreSQL: the one backend's; SQLite: this process's), at fan-out 32
// and 10, one connection, prepared statements, on the migrated schema with
// all its indexes. It is the floor under the end-to-end benchmark's
// database CPU per delivery.
//
// With compact=true the completion writes no attempt row (a first-attempt
// success kept on the delivery row alone, which the product does not do):
// what that row costs.
func BenchmarkDeliveryWritesFloor(b *testing.B) {
	for _, fan := range []int{32, 10} {
		for _, compact := range []bool{false, true} {
			b.Run(fmt.Sprintf("fanout=%d/compact=%v", fan, compact), func(b *testing.B) { benchWritesFloor(b, fan, compact) })
		}
	}
}

func benchWritesFloor(b *testing.B, fanOut int, compact bool) {
	db := modeltest.Open(b)
	ctx := context.Background()
	u := modeltest.User(b, db, "ada@example.com", true)
	team := modeltest.Team(b, db, "ml", u)
	p, err := models.CreateProject(ctx, db, team, "vision", u)
	if err != nil {
		b.Fatal(err)
	}
	w, err := models.CreateWebhook(ctx, db, team.ID, models.WebhookSpec{Name: "sink", URL: "http://127.0.0.1:9/"}, u)
	if err != nil {
		b.Fatal(err)
	}
	a, err := models.CreateAutomation(ctx, db, models.AutomationSpec{
		Name: "a", Enabled: true, Scope: models.ScopeProject, ProjectID: &p.ID, EventType: models.EventCreateArtifact,
		ActionType: models.ActionWebhook, TeamID: team.ID, WebhookID: &w.ID, Payload: `{}`,
		PayloadContext: w.PayloadContext(models.EventCreateArtifact),
	}, u)
	if err != nil {
		b.Fatal(err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		b.Fatal(err)
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	pg := modeltest.Kind() == "postgres"
	stmts := floorStatements(pg)
	if compact {
		stmts["complete"], stmts["attempts"] = compactCompletion(pg), ""
	}
	prepared := map[string]*sql.Stmt{}
	for name, q := range stmts {
		if q == "" {
			continue
		}
		if prepared[name], err = conn.PrepareContext(ctx, q); err != nil {
			b.Fatalf("prepare %s: %v", name, err)
		}
	}
	cpu := func() time.Duration { return processCPU() }
	if pg {
		var pid int
		if err := conn.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
			b.Fatal(err)
		}
		cpu = func() time.Duration { return modeltest.RunTime(pid) }
	}
	payload := `{"padding": "` + strings.Repeat("x", 1024) + `"}`
	const deliveries = 9600
	events := deliveries / fanOut
	var inserting, completing time.Duration
	b.ResetTimer()
	for range b.N {
		for range events {
			now := time.Now().UTC()
			start := cpu()
			tx, err := conn.BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			var eventID int64
			if err := tx.StmtContext(ctx, prepared["event"]).QueryRowContext(ctx, p.ID, payload, now).Scan(&eventID); err != nil {
				b.Fatal(err)
			}
			rows, err := tx.StmtContext(ctx, prepared["deliveries"]).QueryContext(ctx, eventID, a.ID, team.ID, w.ID, *a.RevisionID, now, now.Add(time.Minute), fanOut)
			if err != nil {
				b.Fatal(err)
			}
			ids := make([]string, 0, fanOut)
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					b.Fatal(err)
				}
				ids = append(ids, strconv.FormatInt(id, 10))
			}
			if err := rows.Err(); err != nil {
				b.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
			mid := cpu()
			list := strings.Join(ids, ",")
			if pg {
				list = "{" + list + "}"
			} else {
				list = "[" + list + "]"
			}
			tx, err = conn.BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			for _, name := range []string{"complete", "attempts"} {
				if prepared[name] == nil {
					continue
				}
				if _, err := tx.StmtContext(ctx, prepared[name]).ExecContext(ctx, list, now, w.ID, a.ID); err != nil {
					b.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
			end := cpu()
			inserting += mid - start
			completing += end - mid
		}
	}
	b.StopTimer()
	n := float64(b.N * events * fanOut)
	perIns := float64(inserting.Microseconds()) / n
	perDone := float64(completing.Microseconds()) / n
	who := "this process (SQLite)"
	if pg {
		who = "the PostgreSQL backend"
	}
	attempt := "with an attempt row"
	if compact {
		attempt = "without an attempt row"
	}
	fmt.Printf("\n== delivery writes floor on %s, fan-out %d, %s: CPU of %s per delivery: %.1f µs event + delivery rows, %.1f µs completion, %.1f µs in all\n",
		modeltest.Kind(), fanOut, attempt, who, perIns, perDone, perIns+perDone)
	b.ReportMetric(perIns+perDone, "db-µs/delivery")
}

// floorStatements are the benchmark's statements: the event, its
// deliveries (leased, as a local handoff writes them), and the completion
// of a list of deliveries with their attempt rows (on SQLite two
// statements, "complete" and "attempts", in one transaction; PostgreSQL's
// is one statement, so its own transaction).
func floorStatements(pg bool) map[string]string {
	if pg {
		return map[string]string{
			"event": `INSERT INTO events (type, scope_kind, project_id, payload, created_at) VALUES ('CREATE_ARTIFACT', 'project', $1, $2, $3) RETURNING id`,
			"deliveries": `INSERT INTO deliveries (uid, event_id, automation_id, automation_name, action_type, team_id, webhook_id,
  revision_id, state, attempts, next_attempt_at, lease_until, leased_by, created_at, updated_at)
SELECT 'dlv_' || replace(gen_random_uuid()::text, '-', ''), $1, $2, 'a', 'webhook', $3, $4, $5, 'running', 1, $6, $7, 'local', $6, $6
FROM generate_series(1, $8) RETURNING id`,
			"complete": `WITH moved AS (
  UPDATE deliveries SET state = 'succeeded', lease_until = NULL, leased_by = '', completed_at = $2, last_status = 200, updated_at = $2
  WHERE id = ANY($1::bigint[]) RETURNING id
)
INSERT INTO delivery_attempts (delivery_id, number, started_at, duration_ms, request_url, response_status, outcome, automation_id, webhook_id)
SELECT id, 1, $2, 1, 'http://127.0.0.1:9/', 200, 'succeeded', $4, $3 FROM moved`,
		}
	}
	return map[string]string{
		"event": `INSERT INTO events (type, scope_kind, project_id, payload, created_at) VALUES ('CREATE_ARTIFACT', 'project', ?, ?, ?) RETURNING id`,
		"deliveries": `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?8)
INSERT INTO deliveries (uid, event_id, automation_id, automation_name, action_type, team_id, webhook_id,
  revision_id, state, attempts, next_attempt_at, lease_until, leased_by, created_at, updated_at)
SELECT 'dlv_' || lower(hex(randomblob(16))), ?1, ?2, 'a', 'webhook', ?3, ?4, ?5, 'running', 1, ?6, ?7, 'local', ?6, ?6
FROM s RETURNING id`,
		"complete": `UPDATE deliveries SET state = 'succeeded', lease_until = NULL, leased_by = '', completed_at = ?2, last_status = 200, updated_at = ?2
WHERE id IN (SELECT value FROM json_each(?1))`,
		"attempts": `INSERT INTO delivery_attempts (delivery_id, number, started_at, duration_ms, request_url, response_status, outcome, automation_id, webhook_id)
SELECT value, 1, ?2, 1, 'http://127.0.0.1:9/', 200, 'succeeded', ?4, ?3 FROM json_each(?1)`,
	}
}

// compactCompletion finishes the deliveries and writes no attempt row.
func compactCompletion(pg bool) string {
	if pg {
		return `UPDATE deliveries SET state = 'succeeded', lease_until = NULL, leased_by = '', completed_at = $2, last_status = 200, updated_at = $2
WHERE id = ANY($1::bigint[]) AND $3::bigint IS NOT NULL AND $4::bigint IS NOT NULL`
	}
	return `UPDATE deliveries SET state = 'succeeded', lease_until = NULL, leased_by = '', completed_at = ?2, last_status = 200, updated_at = ?2
WHERE id IN (SELECT value FROM json_each(?1)) AND ?3 IS NOT NULL AND ?4 IS NOT NULL`
}

// processCPU is this process's user and system time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
