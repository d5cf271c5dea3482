package models

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"
)

// claimLockKey is the PostgreSQL advisory lock every claim takes: claims
// of all worker processes run one after another, so each sees the requests
// the others put in flight and no webhook's limit is exceeded between two
// claims. A claim is one short statement, so the wait is short.
const claimLockKey = 7_241_015_001

// pickStatement selects the deliveries a claim takes: the due ones (see
// claimable), but for each webhook no more than its room: max_concurrent
// minus the requests in flight (rows leased and not expired), and with
// max_per_minute also that minus those in flight and the attempts started
// in the last minute. Webhooks without room are left out before the
// ORDER BY … LIMIT, so one busy endpoint's backlog does not hide other
// endpoints' deliveries; a delivery that must wait stays due, its attempt
// count unchanged. Held deliveries are never claimed. The last minute's
// attempts are read only while some webhook has a per-minute limit
// (perMinute): at a high delivery rate that read costs more than the rest
// of the claim. It ends with the CTE "picked"; parameters are "?" in the
// order of pickArgs.
func pickStatement(postgres, perMinute bool) string {
	least, lock := "min", ""
	if postgres {
		least, lock = "LEAST", " FOR UPDATE OF deliveries SKIP LOCKED"
	}
	recent := `
  SELECT id AS webhook_id, 0 AS n FROM webhooks WHERE max_per_minute < 0`
	if perMinute {
		recent = `
  SELECT d.webhook_id, count(*) AS n FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
  WHERE a.started_at > ? AND d.webhook_id IN (SELECT id FROM webhooks WHERE max_per_minute > 0)
  GROUP BY d.webhook_id`
	}
	inflight := `
  SELECT webhook_id, count(*) AS n FROM deliveries
  WHERE webhook_id IS NOT NULL AND leased_by <> '' AND lease_until >= ? GROUP BY webhook_id`
	// PostgreSQL keeps the count in webhook_inflight (migration 00026): an
	// index on the leased rows of deliveries would make every claim a
	// non-HOT update. That count includes leases that expired, until their
	// deliveries are claimed again; claiming one again (relet) takes no
	// room, since its old lease is already counted. (SQLite counts only
	// live leases, so there every claim needs room.)
	reletCand, reletPicked, partition := "", "", "webhook_id"
	if postgres {
		inflight = `
  SELECT webhook_id, n FROM webhook_inflight`
		reletCand, reletPicked, partition = "leased_by <> '' OR ", "c.relet OR ", "webhook_id, relet"
	}
	return `WITH inflight AS (` + inflight + `
), recent AS (` + recent + `
), room AS (
  SELECT w.id, CASE WHEN w.max_per_minute > 0
      THEN ` + least + `(w.max_concurrent - COALESCE(i.n, 0), w.max_per_minute - COALESCE(i.n, 0) - COALESCE(r.n, 0))
      ELSE w.max_concurrent - COALESCE(i.n, 0) END AS room
  FROM webhooks w LEFT JOIN inflight i ON i.webhook_id = w.id LEFT JOIN recent r ON r.webhook_id = w.id
), cand AS (
  SELECT id, webhook_id, next_attempt_at, leased_by <> '' AS relet FROM deliveries
  WHERE ` + claimable + ` AND state <> 'held'
    AND (webhook_id IS NULL OR ` + reletCand + `webhook_id NOT IN (SELECT id FROM room WHERE room <= 0))
  ORDER BY next_attempt_at LIMIT ?` + lock + `
), picked AS (
  SELECT c.id, c.webhook_id, c.relet FROM (SELECT id, webhook_id, next_attempt_at, relet,
      row_number() OVER (PARTITION BY ` + partition + ` ORDER BY next_attempt_at, id) AS rn FROM cand) c
    LEFT JOIN room ON room.id = c.webhook_id
  WHERE c.webhook_id IS NULL OR ` + reletPicked + `room.room IS NULL OR c.rn <= room.room
  ORDER BY c.next_attempt_at LIMIT ?
)`
}

// pickArgs are pickStatement's parameters in order.
func pickArgs(postgres bool, now time.Time, perMinute bool, limit int) []any {
	var args []any
	if !postgres {
		args = append(args, now) // live leases
	}
	if perMinute {
		args = append(args, now.Add(-time.Minute))
	}
	return append(args, now, now, 2*limit, limit)
}

// claimUpdate leases rows; the ids come from "picked" (PostgreSQL) or a list.
const claimUpdate = `
UPDATE deliveries SET state = 'running', attempts = attempts + 1, lease_until = ?, leased_by = ?, updated_at = ?
WHERE id IN `

// claimLeasePostgres ends PostgreSQL's claim after "picked": it leases the
// rows and counts the new leases in flight (one a dead worker left is
// already counted).
var claimLeasePostgres = `, claimed AS (` + claimUpdate + `(SELECT id FROM picked) RETURNING ` + deliveryColumns + `
), ` + inflightChange("+", `SELECT webhook_id FROM picked WHERE NOT relet`) + `
SELECT ` + deliveryColumns + ` FROM claimed`

// inflightChange returns WITH clauses that add (sign "+") or subtract
// (sign "-") one per row of rows, a query of webhook_id rows (one per
// lease begun or ended), to webhook_inflight's counters. They lock the
// counters in webhook order first, so statements changing the same
// webhooks never wait for each other in a cycle, then update them.
func inflightChange(sign, rows string) string {
	return `inflight_rows AS MATERIALIZED (SELECT webhook_id FROM (` + rows + `) r WHERE webhook_id IS NOT NULL
), inflight_locked AS MATERIALIZED (
  SELECT webhook_id FROM webhook_inflight WHERE webhook_id IN (SELECT webhook_id FROM inflight_rows)
  ORDER BY webhook_id FOR UPDATE
), inflight_changed AS (
  UPDATE webhook_inflight c SET n = c.n ` + sign + ` k.n
  FROM (SELECT webhook_id, count(*) AS n FROM inflight_rows GROUP BY webhook_id) k JOIN inflight_locked USING (webhook_id)
  WHERE c.webhook_id = k.webhook_id
)`
}

// PostgreSQL claims in one statement, by whether some webhook has a
// per-minute limit.
var claimPostgres = [2]string{
	numberParams(pickStatement(true, false)+claimLeasePostgres, 1),
	numberParams(pickStatement(true, true)+claimLeasePostgres, 1),
}

// anyPerMinuteLimit is 1 when some webhook has a per-minute limit.
const anyPerMinuteLimit = `SELECT COUNT(*) FROM (SELECT 1 FROM webhooks WHERE max_per_minute > 0 LIMIT 1) l`

// lockAndPerMinutePostgres takes the claim lock and reads whether some
// webhook has a per-minute limit, in one round trip.
const lockAndPerMinutePostgres = `SELECT pg_advisory_xact_lock($1)::text, (` + anyPerMinuteLimit + `)`

func claimDuePostgres(ctx context.Context, db *gorm.DB, workerID string, limit int, lease time.Duration) (out []Delivery, err error) {
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	tx, err := sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var (
		locked    string
		perMinute int
	)
	if err := tx.QueryRowContext(ctx, lockAndPerMinutePostgres, claimLockKey).Scan(&locked, &perMinute); err != nil {
		return nil, fmt.Errorf("claim deliveries: take the claim lock: %w", err)
	}
	// After the lock, this statement's snapshot sees every earlier claim.
	// It is sent unprepared (QueryExecModeExec), so planned for its
	// parameters and the table's current size on every call: a prepared
	// statement would keep, per connection, a generic plan made while the
	// table was tiny (a sequential scan) long after it has grown.
	now := time.Now().UTC()
	args := append(pickArgs(true, now, perMinute == 1, limit), now.Add(lease), workerID, now)
	rows, err := tx.QueryContext(ctx, claimPostgres[perMinute], append([]any{pgx.QueryExecModeExec}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	out, err = scanDeliveries(rows, limit)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return out, nil
}

func scanDeliveries(rows *sql.Rows, limit int) ([]Delivery, error) {
	defer rows.Close()
	out := make([]Delivery, 0, limit)
	for rows.Next() {
		out = append(out, Delivery{})
		if err := scanDelivery(rows, &out[len(out)-1]); err != nil {
			return nil, fmt.Errorf("claim deliveries: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return out, nil
}

// claimDueSQLite picks, then leases, in one transaction: it holds the
// database's single write lock (BEGIN IMMEDIATE), so claims take turns.
// (In one UPDATE … WHERE id IN (WITH …) statement SQLite's planner may
// re-run the whole pick for every row of the table.)
func claimDueSQLite(ctx context.Context, db *gorm.DB, workerID string, limit int, lease time.Duration) ([]Delivery, error) {
	var out []Delivery
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var perMinute int
		if err := tx.Raw(anyPerMinuteLimit).Scan(&perMinute).Error; err != nil {
			return err
		}
		now := time.Now().UTC()
		var ids []int64
		if err := tx.Raw(pickStatement(false, perMinute == 1)+" SELECT id FROM picked", pickArgs(false, now, perMinute == 1, limit)...).
			Scan(&ids).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		return tx.Raw(claimUpdate+"? RETURNING "+deliveryColumns, now.Add(lease), workerID, now, ids).Scan(&out).Error
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return out, nil
}

// RenewLeases extends the leases of the deliveries a worker is still
// working on (its heartbeat), so a short lease only runs out when the
// worker is gone.
func RenewLeases(ctx context.Context, db *gorm.DB, workerID string, ids []int64, lease time.Duration) error {
	if len(ids) == 0 {
		return nil
	}
	renew := `UPDATE deliveries SET lease_until = ? WHERE id IN ? AND leased_by = ? AND state = 'running'`
	if Dialect(db) == "postgres" {
		// Rows another transaction holds are left alone: the worker's own
		// completion of a batch (which ends those leases anyway) locks its
		// rows in another order, and waiting for it was a deadlock that
		// PostgreSQL broke only after deadlock_timeout (1 s), aborting one.
		renew = `UPDATE deliveries SET lease_until = ? WHERE id IN (
  SELECT id FROM deliveries WHERE id IN ? AND leased_by = ? AND state = 'running' FOR UPDATE SKIP LOCKED)`
	}
	err := db.WithContext(ctx).Exec(renew, time.Now().UTC().Add(lease), ids, workerID).Error
	if err != nil {
		return fmt.Errorf("renew %d leases: %w", len(ids), err)
	}
	return nil
}

// ExpireAllLeases ends every lease at once, so the deliveries of workers
// known to be dead are claimed again without waiting for their leases
// (the embedded database, when this process is provably the only one).
func ExpireAllLeases(ctx context.Context, db *gorm.DB) (int64, error) {
	res := db.WithContext(ctx).Exec(`UPDATE deliveries SET lease_until = ? WHERE completed_at IS NULL AND leased_by <> ''`,
		time.Now().UTC().Add(-time.Second))
	if res.Error != nil {
		return 0, fmt.Errorf("expire leases: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// unleasing turns stmt, an UPDATE of deliveries that ends leases, into one
// that also takes them from webhook_inflight's counters on PostgreSQL:
// only the rows it changed, so a lease another worker took over still
// counts.
func unleasing(db *gorm.DB, stmt string) string {
	if Dialect(db) != "postgres" {
		return stmt
	}
	return `WITH unleased AS (` + stmt + ` RETURNING id, webhook_id), ` +
		inflightChange("-", `SELECT webhook_id FROM unleased`) + `
SELECT count(*) FROM unleased`
}

// ExplainClaim returns PostgreSQL's plan for a claim of limit deliveries
// now, as a worker's claim is planned (unprepared, with its parameters),
// without running it: the benchmark prints it to show the claim finds due
// rows through deliveries_pending, not by scanning the table.
func ExplainClaim(ctx context.Context, db *gorm.DB, limit int) (string, error) {
	sqlDB, err := db.DB()
	if err != nil {
		return "", fmt.Errorf("explain the claim: %w", err)
	}
	now := time.Now().UTC()
	args := append([]any{pgx.QueryExecModeExec}, pickArgs(true, now, false, limit)...)
	rows, err := sqlDB.QueryContext(ctx, "EXPLAIN "+claimPostgres[0], append(args, now.Add(time.Minute), "explain", now)...)
	if err != nil {
		return "", fmt.Errorf("explain the claim: %w", err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return "", fmt.Errorf("explain the claim: %w", err)
		}
		b.WriteString(line + "\n")
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("explain the claim: %w", err)
	}
	return b.String(), nil
}
