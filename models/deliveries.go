package models

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
)

// DeliveryState is where a delivery is in its life:
// queued → running → succeeded | retrying (→ running …) | failed.
type DeliveryState string

// Delivery states.
const (
	DeliveryQueued    DeliveryState = "queued"
	DeliveryRunning   DeliveryState = "running"
	DeliverySucceeded DeliveryState = "succeeded"
	DeliveryRetrying  DeliveryState = "retrying"
	DeliveryFailed    DeliveryState = "failed"
	// DeliveryAwaitingApproval waits for a scope admin (§16); it is never
	// claimed until approved (then queued) or rejected.
	DeliveryAwaitingApproval DeliveryState = "awaiting_approval"
	// DeliveryRejected was refused by an admin or expired unapproved.
	DeliveryRejected DeliveryState = "rejected"
	// DeliverySkipped was suppressed by the automation's dedupe option.
	DeliverySkipped DeliveryState = "skipped"
)

// Delivery is one automation's action for one event: the row is the queue
// entry (what to send, when, who holds it) and the summary of what happened.
// It names the automation's revision current when the event matched, so
// editing or deleting the automation later does not change or cancel it.
type Delivery struct {
	ID             int64  `gorm:"column:id;primaryKey" json:"-"`
	UID            string `gorm:"column:uid" json:"id"`
	EventID        int64  `gorm:"column:event_id" json:"event_id"`
	AutomationID   *int64 `gorm:"column:automation_id" json:"automation_id"`
	AutomationName string `gorm:"column:automation_name" json:"automation_name"`
	ActionType     string `gorm:"column:action_type" json:"action_type"`
	TeamID         int64  `gorm:"column:team_id" json:"-"`
	WebhookID      *int64 `gorm:"column:webhook_id" json:"-"`
	RevisionID     int64  `gorm:"column:revision_id" json:"-"`
	// PayloadTemplate and ActionConfig are the revision's, filled in by ClaimDue.
	PayloadTemplate string        `gorm:"-" json:"-"`
	ActionConfig    string        `gorm:"-" json:"-"`
	State           DeliveryState `gorm:"column:state" json:"state"`
	Attempts        int           `gorm:"column:attempts" json:"attempts"`
	NextAttemptAt   time.Time     `gorm:"column:next_attempt_at" json:"next_attempt_at"`
	LeaseUntil      *time.Time    `gorm:"column:lease_until" json:"-"`
	LeasedBy        string        `gorm:"column:leased_by" json:"-"`
	LastStatus      *int          `gorm:"column:last_status" json:"last_status"`
	LastError       string        `gorm:"column:last_error" json:"last_error"`
	// LastErrorClass is set by VisibleDelivery.
	LastErrorClass string     `gorm:"-" json:"last_error_class"`
	CreatedAt      time.Time  `gorm:"column:created_at" json:"created_at"`
	UpdatedAt      time.Time  `gorm:"column:updated_at" json:"updated_at"`
	CompletedAt    *time.Time `gorm:"column:completed_at" json:"completed_at"`
	// Reason says why a delivery was skipped, rejected or expired.
	Reason string `gorm:"column:reason" json:"reason,omitempty"`
	// ExpiresAt is when an awaiting_approval delivery is rejected unapproved.
	ExpiresAt *time.Time `gorm:"column:expires_at" json:"expires_at,omitempty"`
	// The approval decision: who, when, with what comment.
	DecidedBy       *int64     `gorm:"column:decided_by" json:"-"`
	DecidedByName   string     `gorm:"column:decided_by_name" json:"decided_by,omitempty"`
	DecidedAt       *time.Time `gorm:"column:decided_at" json:"decided_at,omitempty"`
	DecisionComment string     `gorm:"column:decision_comment" json:"decision_comment,omitempty"`
}

// TableName maps Delivery to its table.
func (Delivery) TableName() string { return "deliveries" }

// InFlight reports whether the delivery may still be attempted.
func (d *Delivery) InFlight() bool {
	return d.State == DeliveryQueued || d.State == DeliveryRunning || d.State == DeliveryRetrying
}

// AutomationRevision is an automation's payload template and action
// configuration as saved once; never changed, never deleted.
type AutomationRevision struct {
	ID              int64     `gorm:"column:id;primaryKey"`
	AutomationID    int64     `gorm:"column:automation_id"`
	PayloadTemplate string    `gorm:"column:payload_template"`
	ActionConfig    string    `gorm:"column:action_config"`
	CreatedAt       time.Time `gorm:"column:created_at"`
}

// TableName maps AutomationRevision to its table.
func (AutomationRevision) TableName() string { return "automation_revisions" }

// DeliveryAttempt is the record of one try: the request as sent (secrets
// redacted) and the response or error.
type DeliveryAttempt struct {
	ID         int64 `gorm:"column:id;primaryKey" json:"-"`
	DeliveryID int64 `gorm:"column:delivery_id" json:"-"`
	// AutomationID and WebhookID are the delivery's, copied so charts and
	// bulk retries read attempts through their own indexes.
	AutomationID      *int64    `gorm:"column:automation_id" json:"-"`
	WebhookID         *int64    `gorm:"column:webhook_id" json:"-"`
	Number            int       `gorm:"column:number" json:"number"`
	StartedAt         time.Time `gorm:"column:started_at" json:"started_at"`
	DurationMS        int64     `gorm:"column:duration_ms" json:"duration_ms"`
	RequestURL        string    `gorm:"column:request_url" json:"request_url"`
	RequestHeaders    string    `gorm:"column:request_headers" json:"request_headers"`
	RequestBody       string    `gorm:"column:request_body" json:"request_body"`
	ResponseStatus    *int      `gorm:"column:response_status" json:"response_status"`
	ResponseHeaders   string    `gorm:"column:response_headers" json:"response_headers"`
	ResponseBody      string    `gorm:"column:response_body" json:"response_body"`
	ResponseTruncated bool      `gorm:"column:response_truncated" json:"response_truncated"`
	Error             string    `gorm:"column:error" json:"error"`
	// ErrorClass is set by VisibleDeliveries.
	ErrorClass    string     `gorm:"-" json:"error_class"`
	Outcome       string     `gorm:"column:outcome" json:"outcome"`
	NextAttemptAt *time.Time `gorm:"column:next_attempt_at" json:"next_attempt_at"`
}

// TableName maps DeliveryAttempt to its table.
func (DeliveryAttempt) TableName() string { return "delivery_attempts" }

// NewDeliveryUID makes the stable id receivers see in every attempt.
func NewDeliveryUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "dlv_" + hex.EncodeToString(b)
}

// ClaimDue leases up to limit deliveries that are due (queued or retrying
// with next_attempt_at passed) or whose lease expired (a worker died
// mid-attempt), in one statement, then reads their automation revisions.
// Safe with many workers: on Postgres the inner SELECT … FOR UPDATE SKIP
// LOCKED hands each row to one claimer; on SQLite the UPDATE runs under
// the database's single write lock.
func ClaimDue(ctx context.Context, db *gorm.DB, workerID string, limit int, lease time.Duration) ([]Delivery, error) {
	var out []Delivery
	var err error
	if Dialect(db) == "postgres" {
		out, err = claimDuePostgres(ctx, db, workerID, limit, lease)
	} else {
		out, err = claimDueSQLite(ctx, db, workerID, limit, lease)
	}
	if err != nil || len(out) == 0 {
		return out, err
	}
	if err := fillRevisions(ctx, db, out); err != nil {
		// Hand them back at once rather than send them without their template.
		ids := make([]int64, len(out))
		for i, d := range out {
			ids[i] = d.ID
		}
		if rerr := ReleaseClaims(context.WithoutCancel(ctx), db, workerID, ids); rerr != nil {
			err = fmt.Errorf("%w (and releasing them: %v)", err, rerr)
		}
		return nil, err
	}
	return out, nil
}

// fillRevisions sets each delivery's payload template and action
// configuration from its revision, reading each revision once.
func fillRevisions(ctx context.Context, db *gorm.DB, ds []Delivery) error {
	ids := make([]int64, 0, 4)
	for _, d := range ds {
		if !slices.Contains(ids, d.RevisionID) {
			ids = append(ids, d.RevisionID)
		}
	}
	var revs []AutomationRevision
	if err := db.WithContext(ctx).Where("id IN ?", ids).Find(&revs).Error; err != nil {
		return fmt.Errorf("claim deliveries: read their automation revisions: %w", err)
	}
	byID := make(map[int64]*AutomationRevision, len(revs))
	for i := range revs {
		byID[revs[i].ID] = &revs[i]
	}
	for i := range ds {
		if r := byID[ds[i].RevisionID]; r != nil {
			ds[i].PayloadTemplate, ds[i].ActionConfig = r.PayloadTemplate, r.ActionConfig
		}
	}
	return nil
}

// claimable selects, through the deliveries_pending index, the deliveries
// a worker may take at time ?, ?: not finished, due, and not leased or
// leased by a worker whose lease expired (it died mid-attempt). Leases are
// a filter, not part of the index, so a claim changes no indexed column.
const claimable = `completed_at IS NULL AND next_attempt_at <= ? AND (leased_by = '' OR lease_until < ?)`

// ReleaseClaims gives back deliveries a worker claimed but never started
// (it is shutting down): they are due again at once, their attempt uncounted.
func ReleaseClaims(ctx context.Context, db *gorm.DB, workerID string, ids []int64) error {
	err := db.WithContext(ctx).Exec(unleasing(db, `UPDATE deliveries SET
  state = CASE WHEN attempts > 1 THEN 'retrying' ELSE 'queued' END, attempts = attempts - 1,
  lease_until = NULL, leased_by = '', updated_at = ?
WHERE id IN ? AND state = 'running' AND leased_by = ?`), time.Now().UTC(), ids, workerID).Error
	if err != nil {
		return fmt.Errorf("release %d claimed deliveries: %w", len(ids), err)
	}
	return nil
}

// AttemptResult is what a worker reports after trying a delivery.
type AttemptResult struct {
	DeliveryID int64
	// DeliveryUID is the delivery's public id, for logs.
	DeliveryUID string
	WorkerID    string
	Attempt     DeliveryAttempt
	// State is the delivery's new state: succeeded, retrying or failed.
	State DeliveryState
	// NextAttemptAt is when to retry (State retrying).
	NextAttemptAt time.Time
	// Integration is the webhook or Slack integration it went to, whose
	// health a final outcome counts for.
	Integration IntegrationRef
}

// CompleteAttempts records a batch of attempts in one transaction: one
// commit for many deliveries is what lets the runner keep up with a fast
// receiver. Webhooks whose outcomes in the batch all succeeded have their
// failure streak reset with it (see HealthOutcomes for the rest). A result whose lease was taken over by another worker (it ran
// past the lease) still records its attempt but does not change the state.
func CompleteAttempts(ctx context.Context, db *gorm.DB, results []AttemptResult) error {
	if len(results) == 0 {
		return nil
	}
	if Dialect(db) == "postgres" {
		return completeAttemptsPostgres(ctx, db, results)
	}
	now := time.Now().UTC()
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		attempts := make([]DeliveryAttempt, len(results))
		for i, r := range results {
			attempts[i] = r.Attempt
			attempts[i].DeliveryID = r.DeliveryID
			attempts[i].Outcome = string(r.State)
			if r.State == DeliveryRetrying {
				next := r.NextAttemptAt
				attempts[i].NextAttemptAt = &next
			}
		}
		if err := tx.CreateInBatches(attempts, 100).Error; err != nil {
			return fmt.Errorf("record attempts: %w", err)
		}
		// Finished deliveries with the same outcome (typically: succeeded,
		// HTTP 200) are updated by one statement; retries each carry their
		// own next attempt time.
		type outcome struct {
			state, worker, lastError string
			lastStatus               int
			hasStatus                bool
		}
		groups := map[outcome][]int64{}
		for _, r := range results {
			if r.State == DeliveryRetrying {
				err := tx.Model(&Delivery{}).
					Where("id = ? AND state = 'running' AND leased_by = ?", r.DeliveryID, r.WorkerID).
					Updates(map[string]any{
						"state": string(r.State), "lease_until": nil, "leased_by": "", "next_attempt_at": r.NextAttemptAt,
						"last_status": r.Attempt.ResponseStatus, "last_error": r.Attempt.Error, "updated_at": now,
					}).Error
				if err != nil {
					return fmt.Errorf("update delivery %d: %w", r.DeliveryID, err)
				}
				continue
			}
			k := outcome{state: string(r.State), worker: r.WorkerID, lastError: r.Attempt.Error}
			if r.Attempt.ResponseStatus != nil {
				k.lastStatus, k.hasStatus = *r.Attempt.ResponseStatus, true
			}
			groups[k] = append(groups[k], r.DeliveryID)
		}
		if healed := healedWebhooks(results); len(healed) > 0 {
			if err := tx.Exec("UPDATE webhooks SET failure_streak = 0, failing_since = NULL WHERE id IN ? AND failure_streak <> 0", healed).Error; err != nil {
				return fmt.Errorf("record webhook health: %w", err)
			}
		}
		for k, ids := range groups {
			var status *int
			if k.hasStatus {
				status = &k.lastStatus
			}
			err := tx.Model(&Delivery{}).
				Where("id IN ? AND state = 'running' AND leased_by = ?", ids, k.worker).
				Updates(map[string]any{
					"state": k.state, "lease_until": nil, "leased_by": "", "completed_at": now,
					"last_status": status, "last_error": k.lastError, "updated_at": now,
				}).Error
			if err != nil {
				return fmt.Errorf("update %d deliveries: %w", len(ids), err)
			}
		}
		return nil
	})
}

// NextDueAt is when the earliest waiting delivery or lease comes due;
// ok is false when nothing waits.
func NextDueAt(ctx context.Context, db *gorm.DB) (time.Time, bool, error) {
	var row struct {
		Due   *time.Time `gorm:"column:due"`
		Lease *time.Time `gorm:"column:lease"`
	}
	// Both read the pending deliveries only (deliveries_pending).
	err := db.WithContext(ctx).Raw(`SELECT
  (SELECT MIN(next_attempt_at) FROM deliveries WHERE completed_at IS NULL AND leased_by = '' AND state <> 'held') AS due,
  (SELECT MIN(lease_until) FROM deliveries WHERE completed_at IS NULL AND leased_by <> '') AS lease`).Scan(&row).Error
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due delivery: %w", err)
	}
	var next time.Time
	for _, t := range []*time.Time{row.Due, row.Lease} {
		if t != nil && (next.IsZero() || t.Before(next)) {
			next = *t
		}
	}
	return next, !next.IsZero(), nil
}

// Redeliver queues a finished delivery for a new attempt now. A delivery
// still in flight is left alone (it will be attempted anyway).
func Redeliver(ctx context.Context, db *gorm.DB, deliveryID int64) error {
	now := time.Now().UTC()
	res := db.WithContext(ctx).Model(&Delivery{}).
		Where("id = ? AND state IN ('succeeded', 'failed')", deliveryID).
		Updates(map[string]any{"state": string(DeliveryQueued), "next_attempt_at": now, "completed_at": nil, "updated_at": now})
	if res.Error != nil {
		return fmt.Errorf("redeliver %d: %w", deliveryID, res.Error)
	}
	if res.RowsAffected == 0 {
		var d Delivery
		if err := db.WithContext(ctx).First(&d, "id = ?", deliveryID).Error; err != nil {
			return notFound(err, "delivery")
		}
		return Conflict("state", "this delivery is still %s; it will be attempted again anyway", d.State)
	}
	return nil
}

// DeliveryByUID loads a delivery by its public id.
func DeliveryByUID(ctx context.Context, db *gorm.DB, uid string) (*Delivery, error) {
	var d Delivery
	if err := db.WithContext(ctx).First(&d, "uid = ?", uid).Error; err != nil {
		return nil, notFound(err, "delivery")
	}
	return &d, nil
}

// DeliveryWithAttempts is a delivery and its attempts, oldest first.
type DeliveryWithAttempts struct {
	Delivery
	AttemptList []DeliveryAttempt `json:"attempts_detail"`
}

// DeliveriesOfAutomation lists an automation's newest deliveries with their attempts.
func DeliveriesOfAutomation(ctx context.Context, db *gorm.DB, automationID int64, limit int) ([]DeliveryWithAttempts, error) {
	var ds []Delivery
	err := db.WithContext(ctx).Where("automation_id = ?", automationID).Order("id DESC").Limit(limit).Find(&ds).Error
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return withAttempts(ctx, db, ds)
}
