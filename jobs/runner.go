package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/redact"
)

// Outcome is what an action reports for one attempt.
type Outcome struct {
	// Attempt is the record: request (redacted) and response or error.
	Attempt models.DeliveryAttempt
	// Err is nil when the action succeeded.
	Err error
	// Permanent marks an error no retry can fix (bad configuration).
	Permanent bool
	// RetryAfter is the receiver's requested wait, if it sent one.
	RetryAfter time.Duration
	// Redactor knows the secret values the attempt used; the runner
	// removes them from the attempt, error included, before it is stored.
	Redactor *redact.Redactor
}

// Action performs one kind of delivery (webhook, Slack, launch).
type Action interface {
	Perform(ctx context.Context, d *models.Delivery) Outcome
}

// RunnerConfig tunes a Runner.
type RunnerConfig struct {
	WorkerID    string        // names this process in leases
	Concurrency int           // attempts in flight at once
	Lease       time.Duration // how long a claim holds before another worker may take it
	Poll        time.Duration // fallback wake-up when nothing signals
	Schedule    RetrySchedule
	// Grace is how long shutdown waits for in-flight attempts.
	Grace time.Duration
	// Health disables integrations whose deliveries keep failing;
	// OnDisabled is told about each one disabled (notifications).
	Health     models.HealthPolicy
	OnDisabled func(ctx context.Context, d models.DisabledIntegration)
	// Retention: finished deliveries older than this are pruned (0: never).
	Retention time.Duration
	// Observer, if set, is told of every finished attempt (metrics).
	Observer Observer
}

// Observer learns of each attempt's outcome as the runner decides it.
type Observer interface {
	AttemptFinished(actionType string, outcome models.DeliveryState, d time.Duration)
}

// Runner claims due deliveries, runs their actions with bounded
// concurrency, and records outcomes in batches.
type Runner struct {
	db      *gorm.DB
	actions map[string]Action
	cfg     RunnerConfig
	log     *slog.Logger
	wake    chan struct{}
	leases  leaseSet
	room    queueRoom
	// limited: deliveries were due but the last claim could not take
	// them (their webhooks had no room); finished attempts wake the loop.
	limited atomic.Bool
	// sending counts the attempts workers are making (record waits for
	// their outcomes only while there are some).
	sending atomic.Int64
}

// NewRunner builds a runner for the given actions by action type.
func NewRunner(db *gorm.DB, actions map[string]Action, cfg RunnerConfig, log *slog.Logger) *Runner {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 16
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 20 * time.Second
	}
	if cfg.Schedule.Waits == nil {
		cfg.Schedule = RetrySchedule{Waits: DefaultRetrySchedule, Jitter: 0.2}
	}
	if cfg.WorkerID == "" {
		cfg.WorkerID = models.NewDeliveryUID()[4:16]
	}
	return &Runner{db: db, actions: actions, cfg: cfg, log: log, wake: make(chan struct{}, 1), leases: leaseSet{ids: map[int64]struct{}{}},
		room: queueRoom{made: make(chan struct{}, 1)}}
}

// Wake tells the runner new deliveries may be due; it never blocks.
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

type finished struct {
	result models.AttemptResult
}

// Run works until ctx is cancelled, then stops claiming, releases the
// deliveries it claimed (or was handed) but did not start, lets in-flight
// attempts finish (up to Grace; a cut-off attempt is recorded as
// interrupted and retried), records every outcome and returns.
//
// Concurrency workers take deliveries from a local queue that holds up to
// Concurrency more. It is filled two ways: claims, prefetched in batches
// while the workers send, and deliveries this process's event transactions
// inserted already leased to it (Reserve, HandOff), which need no claim.
func (r *Runner) Run(ctx context.Context) error {
	// Attempts run under their own context so shutdown can give them Grace.
	workCtx, cancelWork := context.WithCancel(context.Background())
	defer cancelWork()

	queue := make(chan models.Delivery, 2*r.cfg.Concurrency) // see queueRoom
	r.room.open(queue, r.cfg.Concurrency)
	results := make(chan finished, 4*r.cfg.Concurrency) // workers never wait on the recorder
	var workers sync.WaitGroup
	for range r.cfg.Concurrency {
		workers.Go(func() {
			for d := range queue {
				r.room.put(1)
				r.sending.Add(1)
				res := r.attempt(workCtx, &d)
				r.sending.Add(-1)
				results <- finished{res}
			}
		})
	}
	recorderDone := make(chan struct{})
	go func() {
		defer close(recorderDone)
		r.record(results)
	}()
	// The heartbeat renews the leases of everything claimed until the
	// outcomes are recorded; it stops last, after the recorder.
	beatCtx, stopBeat := context.WithCancel(context.Background())
	beatDone := make(chan struct{})
	go func() { defer close(beatDone); r.heartbeat(beatCtx) }()
	defer func() { stopBeat(); <-beatDone }()
	if r.cfg.Retention > 0 {
		go r.prune(ctx)
	}

	timer := time.NewTimer(0)
	defer timer.Stop()
	// want: something may be due that only a claim finds (a wake, the
	// timer, or a full batch last time). Finished attempts alone do not
	// make the runner claim: work handed over locally needs no claim.
	want := false
loop:
	for {
		if want {
			// Claim when at least half the queue is free, so each claim
			// statement takes a batch rather than one row per finished
			// attempt; until then local reservations wait (roomToClaim).
			if space := r.room.roomToClaim(); space > 0 {
				ds, err := models.ClaimDue(ctx, r.db, r.cfg.WorkerID, space, r.cfg.Lease)
				if err != nil && ctx.Err() == nil {
					r.log.Error("claim deliveries", "err", err)
				}
				claimed := len(ds)
				ds = r.holdDisabled(ctx, ds)
				r.room.fill(len(ds))
				for i := range ds {
					queue <- ds[i] // never blocks (see queueRoom)
				}
				// A full batch: more may be due. Claim again when workers made room.
				want = err == nil && claimed == space
				if !want {
					r.resetTimer(ctx, timer)
				}
			}
		}
		select {
		case <-ctx.Done():
			break loop
		case <-r.wake:
			want = true
		case <-timer.C:
			want = true
		case <-r.room.made:
		}
	}

	// Shutdown: give back what no worker started, then wait for in-flight
	// attempts, cutting them off after Grace.
	r.room.close()
	r.release(queue)
	close(queue)
	done := make(chan struct{})
	go func() { workers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(r.cfg.Grace):
		cancelWork()
		<-done
	}
	close(results)
	<-recorderDone
	return nil
}

// release returns the queued, not yet started deliveries to the database
// so another worker takes them at once rather than after their lease.
func (r *Runner) release(queue chan models.Delivery) {
	var ds []models.Delivery
	for {
		select {
		case d := <-queue:
			ds = append(ds, d)
			continue
		default:
		}
		break
	}
	r.giveBack(ds)
}

// giveBack ends this worker's leases of deliveries it never started.
func (r *Runner) giveBack(ds []models.Delivery) {
	if len(ds) == 0 {
		return
	}
	ids, uids := make([]int64, len(ds)), make([]string, len(ds))
	for i, d := range ds {
		ids[i], uids[i] = d.ID, d.UID
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	defer r.leases.remove(ids...)
	if err := models.ReleaseClaims(ctx, r.db, r.cfg.WorkerID, ids); err != nil {
		r.log.Error("release claimed deliveries; they are retried when their leases expire", "delivery_ids", uids, "err", err)
	}
}

// resetTimer sleeps until the next delivery is due, at most Poll.
func (r *Runner) resetTimer(ctx context.Context, timer *time.Timer) {
	wait := r.cfg.Poll
	r.limited.Store(false)
	if next, ok, err := models.NextDueAt(ctx, r.db); err == nil && ok {
		if d := time.Until(next); d < wait {
			wait = max(d, time.Millisecond)
		}
		if !next.After(time.Now()) {
			// Due now, yet the claim just before took nothing: those
			// deliveries wait for room under their webhook's limits. Look
			// again soon rather than spin; a finished attempt of this
			// worker wakes it sooner.
			wait = min(r.cfg.Poll, limitedRecheck)
			r.limited.Store(true)
		}
	}
	if !timer.Stop() {
		select {
		case <-timer.C:
		default:
		}
	}
	timer.Reset(wait)
}

// attempt runs one delivery's action and decides its next state.
func (r *Runner) attempt(ctx context.Context, d *models.Delivery) models.AttemptResult {
	started := time.Now().UTC()
	var out Outcome
	action, ok := r.actions[d.ActionType]
	if !ok {
		out = Outcome{Err: fmt.Errorf("no action runs %q deliveries", d.ActionType), Permanent: true}
	} else {
		out = safePerform(ctx, action, d)
	}
	if out.Attempt.StartedAt.IsZero() {
		out.Attempt.StartedAt = started
	}
	if out.Attempt.DurationMS == 0 {
		out.Attempt.DurationMS = time.Since(started).Milliseconds()
	}
	out.Attempt.Number = d.Attempts
	out.Attempt.AutomationID, out.Attempt.WebhookID = d.AutomationID, d.WebhookID
	res := models.AttemptResult{DeliveryID: d.ID, DeliveryUID: d.UID, WorkerID: r.cfg.WorkerID, Attempt: out.Attempt, Integration: IntegrationOf(d)}
	switch {
	case out.Err == nil:
		res.State = models.DeliverySucceeded
	case errors.Is(out.Err, context.Canceled) && ctx.Err() != nil:
		res.Attempt.Error = "interrupted by worker shutdown: " + out.Err.Error()
		res.State, res.NextAttemptAt = models.DeliveryRetrying, time.Now().UTC()
	default:
		if res.Attempt.Error == "" {
			res.Attempt.Error = out.Err.Error()
		}
		next, retry := r.cfg.Schedule.Next(time.Now().UTC(), d.Attempts, out.RetryAfter)
		if out.Permanent || !retry {
			res.State = models.DeliveryFailed
		} else {
			res.State, res.NextAttemptAt = models.DeliveryRetrying, next
		}
	}
	if models.SentBodyRendersAgain(d.ActionType, res.State) {
		// History renders it again: no copy of the body per success.
		res.Attempt.RequestBody = ""
	}
	res.Attempt.Redact(out.Redactor)
	r.observe(d, &res)
	return res
}

// observe reports a finished attempt to the observer and the log, every
// line with the delivery's public id: succeeded at debug level, a retry at
// info, giving up at warn.
func (r *Runner) observe(d *models.Delivery, res *models.AttemptResult) {
	took := time.Duration(res.Attempt.DurationMS) * time.Millisecond
	if r.cfg.Observer != nil {
		r.cfg.Observer.AttemptFinished(d.ActionType, res.State, took)
	}
	level := slog.LevelDebug
	switch res.State {
	case models.DeliveryRetrying:
		level = slog.LevelInfo
	case models.DeliveryFailed:
		level = slog.LevelWarn
	}
	if !r.log.Enabled(context.Background(), level) {
		return
	}
	attrs := []any{"delivery_id", d.UID, "action_type", d.ActionType, "attempt", res.Attempt.Number,
		"outcome", string(res.State), "duration_ms", res.Attempt.DurationMS}
	if d.AutomationID != nil {
		attrs = append(attrs, "automation_id", *d.AutomationID)
	}
	if res.Attempt.ResponseStatus != nil {
		attrs = append(attrs, "status", *res.Attempt.ResponseStatus)
	}
	if res.Attempt.Error != "" {
		attrs = append(attrs, "err", res.Attempt.Error) // redacted above
	}
	if res.State == models.DeliveryRetrying {
		attrs = append(attrs, "next_attempt_at", res.NextAttemptAt)
	}
	r.log.Log(context.Background(), level, "delivery attempt", attrs...)
}

// safePerform turns a panicking action into a failed attempt.
func safePerform(ctx context.Context, a Action, d *models.Delivery) (out Outcome) {
	defer func() {
		if p := recover(); p != nil {
			out = Outcome{Err: fmt.Errorf("action panicked: %v", p)}
		}
	}()
	return a.Perform(ctx, d)
}

// Recording waits a little for a fuller batch (record): each completion
// statement costs about 0.45 ms of PostgreSQL however few rows it has
// (planned per call, see completeAttemptsPostgres), and at full rate the
// batches were 6 rows on average. The wait delays only the recording, not
// any request; it is skipped when nothing else is being sent, or when
// deliveries wait for room under their webhooks' limits, which a recorded
// outcome makes.
const (
	recordBatch = 64
	recordWait  = 5 * time.Millisecond
)

// record writes outcomes in batches: whatever has arrived while the
// previous batch was being written goes into the next transaction, and
// while other attempts are still being sent, what arrives in the next
// recordWait, up to recordBatch.
func (r *Runner) record(results <-chan finished) {
	const maxBatch = 256
	batch := make([]models.AttemptResult, 0, maxBatch)
	wait := time.NewTimer(recordWait)
	wait.Stop()
	for f := range results {
		batch = append(batch[:0], f.result)
		waiting := false
	drain:
		for len(batch) < maxBatch {
			select {
			case more, ok := <-results:
				if !ok {
					break drain
				}
				batch = append(batch, more.result)
				continue
			default:
			}
			if len(batch) >= recordBatch || r.sending.Load() == 0 || r.limited.Load() {
				break
			}
			// Nothing more yet: wait for more, until the timer.
			if !waiting {
				waiting = true
				wait.Reset(recordWait)
			}
			select {
			case more, ok := <-results:
				if !ok {
					break drain
				}
				batch = append(batch, more.result)
			case <-wait.C:
				break drain
			}
		}
		wait.Stop()
		r.flush(batch)
	}
}

func (r *Runner) flush(batch []models.AttemptResult) {
	// Outcomes must be stored even during shutdown, so not under ctx.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Recorded or not, these are no longer this worker's to renew: an
	// unrecorded outcome is retried when its lease runs out.
	defer func() {
		for _, res := range batch {
			r.leases.remove(res.DeliveryID)
		}
	}()
	for try := 0; ; try++ {
		err := models.CompleteAttempts(ctx, r.db, batch)
		if err == nil {
			break
		}
		if try == 3 || ctx.Err() != nil {
			// The leases expire and the deliveries are attempted again:
			// at least once, never lost.
			uids := make([]string, len(batch))
			for i, res := range batch {
				uids[i] = res.DeliveryUID
			}
			r.log.Error("record delivery outcomes; they will be retried when their leases expire", "delivery_ids", uids, "err", err)
			return
		}
		time.Sleep(time.Duration(try+1) * 100 * time.Millisecond)
	}
	r.recordHealth(ctx, batch)
	// Claim again if finished requests made room for deliveries waiting
	// under their webhooks' limits, or a retry was scheduled (the timer
	// is set from the next due time when the claim finds nothing).
	wake := r.limited.Load()
	for _, res := range batch {
		wake = wake || res.State == models.DeliveryRetrying
	}
	if wake {
		r.Wake()
	}
}
