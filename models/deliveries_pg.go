package models

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"
)

// The delivery queue's hot statements on PostgreSQL, written against
// database/sql rather than through gorm: each is one statement of fixed
// text whatever the batch size (arrays travel as single parameters), so
// the server plans it once per connection, and rows are scanned without
// reflection. SQLite keeps the portable versions in deliveries.go.

// deliveryColumns are what a worker needs of a claimed delivery.
const deliveryColumns = `id, uid, event_id, automation_id, automation_name, action_type, team_id, webhook_id,
  revision_id, state, attempts, next_attempt_at, lease_until, leased_by, created_at`

func scanDelivery(rows *sql.Rows, d *Delivery) error {
	return rows.Scan(&d.ID, &d.UID, &d.EventID, &d.AutomationID, &d.AutomationName, &d.ActionType, &d.TeamID, &d.WebhookID,
		&d.RevisionID, &d.State, &d.Attempts, &d.NextAttemptAt, &d.LeaseUntil, &d.LeasedBy, &d.CreatedAt)
}

// postgresPlaceholders numbers every ? of a condition $n: they all take
// the same parameter.
func postgresPlaceholders(cond string, n int) string {
	return strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(n))
}

// completeAttemptsPostgres records every attempt, moves each delivery
// still leased by the reporting worker to its new state, and resets the
// failure streak of the webhooks that only succeeded (healedWebhooks), in
// one statement: one implicit transaction, one commit and one round trip
// for the batch, retries included.
func completeAttemptsPostgres(ctx context.Context, db *gorm.DB, results []AttemptResult) error {
	sqlDB, err := db.DB()
	if err != nil {
		return fmt.Errorf("record attempts: %w", err)
	}
	n := len(results)
	var (
		ids, durations                                    = make([]int64, n), make([]int64, n)
		automationIDs, webhookIDs                         = make([]*int64, n), make([]*int64, n)
		numbers                                           = make([]int32, n)
		statuses                                          = make([]*int32, n)
		started                                           = make([]time.Time, n)
		nextAt                                            = make([]*time.Time, n)
		truncated                                         = make([]bool, n)
		workers, urls, reqHeaders, reqBodies, respHeaders = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		respBodies, errs, outcomes                        = make([]string, n), make([]string, n), make([]string, n)
	)
	for i, r := range results {
		a := r.Attempt
		ids[i], workers[i], numbers[i], started[i], durations[i] = r.DeliveryID, r.WorkerID, int32(a.Number), a.StartedAt, a.DurationMS
		automationIDs[i], webhookIDs[i] = a.AutomationID, a.WebhookID
		urls[i], reqHeaders[i], reqBodies[i] = a.RequestURL, a.RequestHeaders, a.RequestBody
		if a.ResponseStatus != nil {
			s := int32(*a.ResponseStatus)
			statuses[i] = &s
		}
		respHeaders[i], respBodies[i], truncated[i], errs[i], outcomes[i] = a.ResponseHeaders, a.ResponseBody, a.ResponseTruncated, a.Error, string(r.State)
		if r.State == DeliveryRetrying {
			next := r.NextAttemptAt
			nextAt[i] = &next
		}
	}
	// A result whose lease was taken over by another worker (it ran past
	// the lease) still records its attempt but does not change the state,
	// nor take the other worker's lease from the webhook's count.
	// Sent unprepared, so planned per call (see claimDuePostgres): the
	// join on deliveries stays an index lookup as the table grows.
	_, err = sqlDB.ExecContext(ctx, `WITH r AS (
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[], $4::timestamptz[], $5::bigint[], $6::text[], $7::text[], $8::text[],
    $9::int[], $10::text[], $11::text[], $12::bool[], $13::text[], $14::text[], $15::timestamptz[], $17::bigint[], $18::bigint[])
  AS r(delivery_id, worker, number, started_at, duration_ms, request_url, request_headers, request_body,
    response_status, response_headers, response_body, response_truncated, error, outcome, next_attempt_at, automation_id, webhook_id)
), moved AS (
  UPDATE deliveries d SET state = r.outcome, lease_until = NULL, leased_by = '',
    next_attempt_at = COALESCE(r.next_attempt_at, d.next_attempt_at),
    completed_at = CASE WHEN r.outcome = 'retrying' THEN d.completed_at ELSE $16 END,
    last_status = r.response_status, last_error = r.error, updated_at = $16
  FROM r WHERE d.id = r.delivery_id AND d.state = 'running' AND d.leased_by = r.worker
  RETURNING d.webhook_id
), `+inflightChange("-", `SELECT webhook_id FROM moved`)+`, healed AS (
  UPDATE webhooks SET failure_streak = 0, failing_since = NULL WHERE id = ANY($19::bigint[]) AND failure_streak <> 0
)
INSERT INTO delivery_attempts (delivery_id, number, started_at, duration_ms, request_url, request_headers, request_body,
  response_status, response_headers, response_body, response_truncated, error, outcome, next_attempt_at, automation_id, webhook_id)
SELECT delivery_id, number, started_at, duration_ms, request_url, request_headers, request_body,
  response_status, response_headers, response_body, response_truncated, error, outcome, next_attempt_at, automation_id, webhook_id FROM r`,
		pgx.QueryExecModeExec, ids, workers, numbers, started, durations, urls, reqHeaders, reqBodies,
		statuses, respHeaders, respBodies, truncated, errs, outcomes, nextAt, time.Now().UTC(), automationIDs, webhookIDs, healedWebhooks(results))
	if err != nil {
		return fmt.Errorf("record %d attempts: %w", n, err)
	}
	return nil
}
