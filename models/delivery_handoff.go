package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// DeliveryHandoff lets the process that commits an event give the event's
// deliveries straight to its own delivery runner, with no claim: they are
// inserted already leased to that runner (state running, attempt 1, its
// lease) in the event's transaction, and handed over in memory after the
// commit. The rows are the same as for any claimed delivery, so if this
// process dies before recording the outcome, the lease expires and any
// worker claims them (at least once, same delivery id).
//
// The web layer implements it for each request (web.Server); an event
// transaction (EventTransaction) uses it when the context carries one.
type DeliveryHandoff interface {
	// Reserve holds up to n places in the local runner's queue for
	// deliveries about to be inserted leased to it, and says which lease
	// to write. It returns 0 places when there is no local runner, it is
	// full or stopping, or it wants to claim older work first.
	Reserve(n int) (LocalLease, int)
	// HasRoom reports whether Reserve would now give places. An event
	// transaction asks it to choose how to write its deliveries; being
	// wrong costs only speed (Reserve decides).
	HasRoom() bool
	// Unreserve gives back places Reserve held that no committed delivery
	// uses (fewer deliveries fitted, or the transaction rolled back).
	Unreserve(n int)
	// Committed is told, once the event transaction committed, the
	// deliveries leased to the local runner (each in a reserved place) and
	// how many others it queued for any worker to claim.
	Committed(local []Delivery, queued int)
}

// LocalLease is the lease a delivery inserted for the local runner gets.
type LocalLease struct {
	WorkerID string
	Lease    time.Duration
}

type handoffKey struct{}

// WithDeliveryHandoff returns ctx carrying h: event transactions run under
// it hand their deliveries to h.
func WithDeliveryHandoff(ctx context.Context, h DeliveryHandoff) context.Context {
	return context.WithValue(ctx, handoffKey{}, h)
}

// eventBatch is what one event transaction leased locally and queued.
type eventBatch struct {
	handoff DeliveryHandoff
	local   []Delivery
	queued  int
	// deferred: PostgreSQL deliveries that may be leased locally, written
	// at the end of the transaction under the claim lock (flush).
	deferred []deferredDeliveries
}

// deferredDeliveries are the plain deliveries of one event, for
// automations ids matched for ev, to insert at the end of the transaction.
type deferredDeliveries struct {
	eventID int64
	ev      MatchTarget
	ids     []int64
	at      time.Time
}

type batchKey struct{}

// batchOf is the event batch of tx's transaction, nil outside
// EventTransaction (deliveries are then only queued).
func batchOf(tx *gorm.DB) *eventBatch {
	if tx.Statement == nil || tx.Statement.Context == nil {
		return nil
	}
	b, _ := tx.Statement.Context.Value(batchKey{}).(*eventBatch)
	return b
}

// EventTransaction runs fn in a transaction that may write events; after
// it ends, the deliveries it wrote are handed to the context's
// DeliveryHandoff (on commit) or their reserved places given back (on
// rollback, or when the commit's outcome is unknown: the rows, if they did
// commit, are claimed again when their lease expires).
//
// fn must use the tx it is given: the batch travels in its context.
func EventTransaction(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) error {
	h, _ := ctx.Value(handoffKey{}).(DeliveryHandoff)
	if h == nil {
		return db.WithContext(ctx).Transaction(fn)
	}
	b := &eventBatch{handoff: h}
	committed := false
	defer func() {
		if committed {
			if len(b.local) > 0 || b.queued > 0 {
				h.Committed(b.local, b.queued)
			}
		} else if len(b.local) > 0 {
			h.Unreserve(len(b.local))
		}
	}()
	err := db.WithContext(context.WithValue(ctx, batchKey{}, b)).Transaction(func(tx *gorm.DB) error {
		if err := fn(tx); err != nil {
			return err
		}
		return b.flush(tx)
	})
	committed = err == nil
	return err
}

// flush writes the deferred deliveries (PostgreSQL), last in the
// transaction: it takes the claim lock (claimLockKey), so that no claim
// and no other event transaction counts requests in flight between its
// count and its commit, and then only inserts. Taking the lock last keeps
// it for one statement and the commit rather than the whole change, so
// event transactions mostly run side by side; and a transaction holding
// the lock waits for no row of another one's change (its inserts lock no
// existing row, claims skip locked rows), only for counters of requests
// in flight, which every statement locks in webhook order, in the last
// statement of its transaction. So one that holds rows of its change (a collection's
// version counter, a run) while it waits for the lock cannot deadlock.
// (Taking it first serialized whole event transactions: at fan-out 10 end
// to end fell by a third.)
func (b *eventBatch) flush(tx *gorm.DB) error {
	if len(b.deferred) == 0 {
		return nil
	}
	if err := tx.Exec(`SELECT pg_advisory_xact_lock(?)`, claimLockKey).Error; err != nil {
		return fmt.Errorf("take the claim lock: %w", err)
	}
	if len(b.deferred) > 1 {
		// Each insert locks the counters it changes in webhook order; over
		// several inserts that order holds only if they are locked first.
		var ids []int64
		for _, d := range b.deferred {
			ids = append(ids, d.ids...)
		}
		err := tx.Exec(`SELECT 1 FROM webhook_inflight WHERE webhook_id IN (
  SELECT webhook_id FROM automations WHERE id IN ?) ORDER BY webhook_id FOR UPDATE`, ids).Error
		if err != nil {
			return fmt.Errorf("lock the counts of requests in flight: %w", err)
		}
	}
	for _, d := range b.deferred {
		if _, err := b.insertLeased(tx, d); err != nil {
			return err
		}
	}
	b.deferred = nil
	return nil
}

// insertQueuedOrLeased is insertQueued when the event transaction has a
// local runner with room: up to the places it reserves, deliveries that
// may go at once are inserted leased to it and returned with their
// revision's template, the rest queued. Only webhook deliveries are leased
// locally, and only within their webhook's limit of requests in flight,
// counted under the claim lock (see leaseLocalPostgres); a webhook with a
// per-minute limit, or disabled, gets queued rows, for the claim to decide.
// On PostgreSQL the rows are written at the end of the transaction
// (flush), and it returns how many automations they are for.
func insertQueuedOrLeased(tx *gorm.DB, b *eventBatch, eventID int64, ev MatchTarget, ids []int64, now time.Time) (int, error) {
	if !b.handoff.HasRoom() {
		n, err := insertQueued(tx, eventID, ev, ids, now)
		b.queued += n
		return n, err
	}
	d := deferredDeliveries{eventID: eventID, ev: ev, ids: ids, at: now}
	if Dialect(tx) == "postgres" {
		b.deferred = append(b.deferred, d)
		return len(ids), nil
	}
	return b.insertLeased(tx, d)
}

// insertLeased inserts d's deliveries, those that fit in the places the
// local runner reserves leased to it.
func (b *eventBatch) insertLeased(tx *gorm.DB, d deferredDeliveries) (int, error) {
	lease, reserved := b.handoff.Reserve(len(d.ids))
	if reserved == 0 {
		n, err := insertQueued(tx, d.eventID, d.ev, d.ids, d.at)
		b.queued += n
		return n, err
	}
	var (
		n     int
		local []Delivery
		err   error
	)
	if Dialect(tx) == "postgres" {
		n, local, err = leaseLocalPostgres(tx, d.eventID, d.ev, d.ids, d.at, lease, reserved)
	} else {
		n, local, err = leaseLocalSQLite(tx, d.eventID, d.ev, d.ids, d.at, lease, reserved)
	}
	if err != nil {
		b.handoff.Unreserve(reserved)
		return 0, err
	}
	b.handoff.Unreserve(reserved - len(local))
	b.local = append(b.local, local...)
	b.queued += n - len(local)
	return n, nil
}

// localRoom ranks the candidate automations ("cand": id, webhook_id,
// action_type) that may be leased locally: webhook deliveries whose
// webhook is enabled, has no per-minute limit, and has room under
// max_concurrent for them. Requests in flight are counted from every lease
// (PostgreSQL: webhook_inflight; SQLite: leased rows), expired ones too: a
// dead worker's lease counts until its delivery is claimed again, which
// can only make the local path give way to the claim, never exceed a limit.
func localRoom(postgres bool) string {
	inflight := `(SELECT count(*) FROM deliveries d WHERE d.webhook_id = w.id AND d.leased_by <> '')`
	if postgres {
		inflight = `COALESCE((SELECT c.n FROM webhook_inflight c WHERE c.webhook_id = w.id), 0)`
	}
	return `room AS (
  SELECT w.id, w.max_concurrent - ` + inflight + ` AS room FROM webhooks w
  WHERE w.id IN (SELECT webhook_id FROM cand WHERE action_type = 'webhook') AND w.disabled_at IS NULL AND w.max_per_minute = 0
), fit AS (
  SELECT c.*, room.id IS NOT NULL AND row_number() OVER (PARTITION BY c.webhook_id ORDER BY c.id) <= room.room AS fits
  FROM cand c LEFT JOIN room ON room.id = c.webhook_id AND c.action_type = 'webhook'
)`
}

// leaseLocalPostgres runs under the claim lock (claimLockKey, which flush
// took) and inserts the deliveries in one statement: the first `reserved`
// that fit leased to the local runner (counted in webhook_inflight like a
// claim's), the rest queued. The lock is held to the commit, so no claim
// or other event transaction counts requests in flight between this count
// and the commit: together they never put more in flight than a webhook
// allows. Its statement reads the room after the lock, in a snapshot that
// sees every earlier claim. (Trying the lock and queueing when it is taken
// would spare the wait but make the handoff a matter of luck.)
func leaseLocalPostgres(tx *gorm.DB, eventID int64, ev MatchTarget, ids []int64, now time.Time, lease LocalLease, reserved int) (int, []Delivery, error) {
	where, args, err := candidates(ev)
	if err != nil {
		return 0, nil, err
	}
	in, list := idList(tx, ids)
	uid, _, _ := deliveryUIDExpr(tx)
	args = append(args, list, reserved, eventID, now, now.Add(lease.Lease), lease.WorkerID)
	rows, err := tx.Raw(`WITH cand AS (
  SELECT id, name, action_type, team_id, webhook_id, revision_id FROM automations WHERE `+where+` AND `+in+`
), `+localRoom(true)+`, pick AS (
  SELECT *, fits AND count(*) FILTER (WHERE fits) OVER (ORDER BY id) <= ? AS local FROM fit
), v AS (
  SELECT CAST(? AS BIGINT) AS event_id, CAST(? AS TIMESTAMPTZ) AS at, CAST(? AS TIMESTAMPTZ) AS lease_until, CAST(? AS TEXT) AS worker
), ins AS (
  INSERT INTO deliveries (uid, event_id, automation_id, automation_name, action_type, team_id, webhook_id,
    revision_id, state, attempts, next_attempt_at, lease_until, leased_by, created_at, updated_at)
  SELECT `+uid+`, v.event_id, p.id, p.name, p.action_type, p.team_id, p.webhook_id, p.revision_id,
    CASE WHEN p.local THEN 'running' ELSE 'queued' END, CASE WHEN p.local THEN 1 ELSE 0 END, v.at,
    CASE WHEN p.local THEN v.lease_until END, CASE WHEN p.local THEN v.worker ELSE '' END, v.at, v.at
  FROM pick p, v ORDER BY p.id
  RETURNING `+deliveryColumns+`
), `+inflightChange("+", `SELECT webhook_id FROM ins WHERE leased_by <> ''`)+`
SELECT ins.*, COALESCE(r.payload_template, ''), COALESCE(r.action_config, '')
FROM ins LEFT JOIN automation_revisions r ON ins.leased_by <> '' AND r.id = ins.revision_id`, args...).Rows()
	if err != nil {
		return 0, nil, fmt.Errorf("queue deliveries: %w", err)
	}
	defer rows.Close()
	n := 0
	var local []Delivery
	for rows.Next() {
		var d Delivery
		if err := rows.Scan(&d.ID, &d.UID, &d.EventID, &d.AutomationID, &d.AutomationName, &d.ActionType, &d.TeamID, &d.WebhookID,
			&d.RevisionID, &d.State, &d.Attempts, &d.NextAttemptAt, &d.LeaseUntil, &d.LeasedBy, &d.CreatedAt,
			&d.PayloadTemplate, &d.ActionConfig); err != nil {
			return 0, nil, fmt.Errorf("queue deliveries: %w", err)
		}
		n++
		if d.LeasedBy != "" {
			local = append(local, d)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, nil, fmt.Errorf("queue deliveries: %w", err)
	}
	return n, local, nil
}

// leaseLocalSQLite picks the deliveries to lease locally, then inserts all
// of them (the picked ones leased) and reads the picked ones' revisions.
// The event transaction holds SQLite's single write lock from its BEGIN,
// so no claim runs between the count and the commit.
func leaseLocalSQLite(tx *gorm.DB, eventID int64, ev MatchTarget, ids []int64, now time.Time, lease LocalLease, reserved int) (int, []Delivery, error) {
	where, args, err := candidates(ev)
	if err != nil {
		return 0, nil, err
	}
	var picked []int64
	err = tx.Raw(`WITH cand AS (
  SELECT id, action_type, webhook_id FROM automations WHERE `+where+` AND id IN ?
), `+localRoom(false)+`
SELECT id FROM fit WHERE fits ORDER BY id LIMIT ?`, append(args, ids, reserved)...).Scan(&picked).Error
	if err != nil {
		return 0, nil, fmt.Errorf("queue deliveries: %w", err)
	}
	if len(picked) == 0 {
		n, err := insertQueued(tx, eventID, ev, ids, now)
		return n, nil, err
	}
	var all []Delivery
	err = tx.Raw(`INSERT INTO deliveries (uid, event_id, automation_id, automation_name, action_type, team_id, webhook_id,
  revision_id, state, attempts, next_attempt_at, lease_until, leased_by, created_at, updated_at)
SELECT 'dlv_' || lower(hex(randomblob(16))), ?, id, name, action_type, team_id, webhook_id, revision_id,
  CASE WHEN id IN ? THEN 'running' ELSE 'queued' END, CASE WHEN id IN ? THEN 1 ELSE 0 END, ?,
  CASE WHEN id IN ? THEN ? END, CASE WHEN id IN ? THEN ? ELSE '' END, ?, ?
FROM automations WHERE `+where+` AND id IN ? ORDER BY id
RETURNING `+deliveryColumns,
		append([]any{eventID, picked, picked, now, picked, now.Add(lease.Lease), picked, lease.WorkerID, now, now}, append(args, ids)...)...).
		Scan(&all).Error
	if err != nil {
		return 0, nil, fmt.Errorf("queue deliveries: %w", err)
	}
	var local []Delivery
	for _, d := range all {
		if d.LeasedBy != "" {
			local = append(local, d)
		}
	}
	if err := fillRevisions(tx.Statement.Context, tx, local); err != nil {
		return 0, nil, err
	}
	return len(all), local, nil
}
