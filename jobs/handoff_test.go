package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/jobs"
	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/modeltest"
)

// eventFixture is a project whose CREATE_ARTIFACT events match n webhook
// automations, all to one webhook.
type eventFixture struct {
	db      *gorm.DB
	user    *models.User
	team    *models.Team
	project *models.Project
	webhook *models.Webhook
}

func newEventFixture(t *testing.T, db *gorm.DB, url string, n int, spec models.WebhookSpec) *eventFixture {
	t.Helper()
	ctx := context.Background()
	f := &eventFixture{db: db, user: modeltest.User(t, db, "ada@example.com", true)}
	f.team = modeltest.Team(t, db, "ml", f.user)
	var err error
	if f.project, err = models.CreateProject(ctx, db, f.team, "vision", f.user); err != nil {
		t.Fatal(err)
	}
	spec.Name, spec.URL = "ci", url
	if f.webhook, err = models.CreateWebhook(ctx, db, f.team.ID, spec, f.user); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		f.addAutomation(t, fmt.Sprintf("a%d", i), f.webhook, fmt.Sprintf(`{"automation": %d}`, i))
	}
	return f
}

// addAutomation adds a webhook automation of the project's CREATE_ARTIFACT
// events, to w with payload.
func (f *eventFixture) addAutomation(t *testing.T, name string, w *models.Webhook, payload string) {
	t.Helper()
	_, err := models.CreateAutomation(context.Background(), f.db, models.AutomationSpec{
		Name: name, Enabled: true, Scope: models.ScopeProject, ProjectID: &f.project.ID,
		EventType: models.EventCreateArtifact, ActionType: models.ActionWebhook, TeamID: f.team.ID,
		WebhookID: &w.ID, Payload: payload, PayloadContext: w.PayloadContext(models.EventCreateArtifact),
	}, f.user)
	if err != nil {
		t.Fatal(err)
	}
}

// logEvent logs a version under ctx (which may carry a handoff) and
// returns the event's deliveries as inserted.
func (f *eventFixture) logEvent(t *testing.T, ctx context.Context) []models.Delivery {
	t.Helper()
	v, _, err := models.LogArtifact(ctx, f.db, f.team, f.project, models.NewArtifact{Name: "m", Type: "model"}, f.user)
	if err != nil {
		t.Fatal(err)
	}
	var ds []models.Delivery
	if err := f.db.Where("event_id IN (SELECT id FROM events WHERE version_id = ?)", v.ID).Order("id").Find(&ds).Error; err != nil {
		t.Fatal(err)
	}
	return ds
}

// leasedAtInsert reports whether d was written leased to worker by its
// event's transaction: a claim would have set updated_at later.
func leasedAtInsert(d models.Delivery, worker string) bool {
	return d.State == models.DeliveryRunning && d.LeasedBy == worker && d.Attempts == 1 && d.UpdatedAt.Equal(d.CreatedAt)
}

// holdingReceiver holds every request until release is called (at the
// latest when the test ends), telling arrived the delivery id first.
func holdingReceiver(t *testing.T) (recv *receiver, arrived chan string, release func()) {
	arrived, gate := make(chan string, 64), make(chan struct{})
	release = sync.OnceFunc(func() { close(gate) })
	recv = newReceiver(t, func(id string, n int) (int, http.Header) {
		arrived <- id
		<-gate
		return 200, nil
	})
	t.Cleanup(release) // before the receiver closes (cleanups run last first)
	return recv, arrived, release
}

// startRunner runs r until the returned stop is called (or the test
// ends), once it takes deliveries handed over.
func startRunner(t *testing.T, r *jobs.Runner) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	stop = sync.OnceFunc(func() { cancel(); <-done })
	t.Cleanup(stop)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, n := r.Reserve(1); n == 1 {
			r.Unreserve(1)
			return stop
		}
		if time.Now().After(deadline) {
			t.Fatal("the runner did not start")
		}
		time.Sleep(time.Millisecond) // poll; Run opens its queue on its own schedule
	}
}

func waitArrivals(t *testing.T, arrived chan string, n int) {
	t.Helper()
	for range n {
		select {
		case <-arrived:
		case <-time.After(20 * time.Second):
			t.Fatal("a delivery did not arrive within 20s")
		}
	}
}

// The deliveries of an event committed with the runner's handoff are
// written leased to it and sent without a claim: this runner polls once an
// hour and nothing wakes it, so only the handoff can have started them.
func TestCommittedEventIsHandedToTheLocalRunner(t *testing.T) {
	db := modeltest.Open(t)
	recv, arrived, release := holdingReceiver(t)
	f := newEventFixture(t, db, recv.server.URL, 3, models.WebhookSpec{})
	r := jobs.NewRunner(db, map[string]jobs.Action{models.ActionWebhook: postAction{newSender(t), recv.server.URL}},
		jobs.RunnerConfig{WorkerID: "local", Concurrency: 4, Poll: time.Hour}, quietLog())
	startRunner(t, r)

	ds := f.logEvent(t, models.WithDeliveryHandoff(context.Background(), r))
	if len(ds) != 3 {
		t.Fatalf("%d deliveries, want 3", len(ds))
	}
	waitArrivals(t, arrived, 3)
	for _, d := range ds {
		if !leasedAtInsert(d, "local") {
			t.Errorf("delivery %s: state %s, attempts %d, leased by %q, updated %v after insert; want leased to the local runner by its insert",
				d.UID, d.State, d.Attempts, d.LeasedBy, d.UpdatedAt.Sub(d.CreatedAt))
		}
	}
	release()
	deadline := time.Now().Add(20 * time.Second)
	for states(t, db)[models.DeliverySucceeded] != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("states %v, want 3 succeeded", states(t, db))
		}
		time.Sleep(5 * time.Millisecond) // poll; the recorder batches outcomes
	}
	for _, d := range ds {
		if recv.counts()[d.UID] != 1 {
			t.Errorf("delivery %s received %d times", d.UID, recv.counts()[d.UID])
		}
		var attempts []models.DeliveryAttempt
		db.Where("delivery_id = ?", d.ID).Find(&attempts)
		if len(attempts) != 1 || attempts[0].Number != 1 || attempts[0].Outcome != "succeeded" {
			t.Errorf("delivery %s: attempts %+v, want one succeeded attempt number 1", d.UID, attempts)
		}
	}
}

// Only what the webhook's limits allow is leased locally; the rest is
// queued for the claim, which applies every limit. Requests in flight
// count, and webhooks with a per-minute limit or disabled are left to the
// claim entirely.
func TestLocalLeasesStayWithinWebhookLimits(t *testing.T) {
	cases := []struct {
		name        string
		spec        models.WebhookSpec
		disabled    bool
		automations int
		wantLocal   []int // per event, logged one after the other
	}{
		{"room for all", models.WebhookSpec{MaxConcurrent: 10}, false, 3, []int{3}},
		{"max concurrent", models.WebhookSpec{MaxConcurrent: 2}, false, 3, []int{2}},
		{"in flight count", models.WebhookSpec{MaxConcurrent: 3}, false, 2, []int{2, 1, 0}},
		{"per-minute limit", models.WebhookSpec{MaxPerMinute: 100}, false, 2, []int{0}},
		{"disabled", models.WebhookSpec{}, true, 2, []int{0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := modeltest.Open(t)
			recv, _, release := holdingReceiver(t)
			defer release() // before the runner stops (cleanups run after)
			f := newEventFixture(t, db, recv.server.URL, c.automations, c.spec)
			if c.disabled {
				if err := db.Exec("UPDATE webhooks SET disabled_at = ? WHERE id = ?", time.Now().UTC(), f.webhook.ID).Error; err != nil {
					t.Fatal(err)
				}
			}
			r := jobs.NewRunner(db, map[string]jobs.Action{models.ActionWebhook: postAction{newSender(t), recv.server.URL}},
				jobs.RunnerConfig{WorkerID: "local", Concurrency: 16, Poll: time.Hour}, quietLog())
			startRunner(t, r)
			// What the event transaction told the runner it leased to it and
			// queued: the rows alone cannot say, since the runner may claim the
			// queued ones (it is woken for them) before the test reads them.
			h := &recordingHandoff{DeliveryHandoff: r}
			ctx := models.WithDeliveryHandoff(context.Background(), h)
			for i, want := range c.wantLocal {
				ds := f.logEvent(t, ctx)
				local, queued := h.last()
				for _, d := range local {
					if !slices.ContainsFunc(ds, func(row models.Delivery) bool { return row.ID == d.ID && leasedAtInsert(row, "local") }) {
						t.Errorf("event %d: handed delivery %s is %s, leased by %q, attempts %d; want leased to local at insert", i, d.UID, d.State, d.LeasedBy, d.Attempts)
					}
				}
				if len(local) != want || len(local)+queued != c.automations || len(ds) != c.automations {
					t.Errorf("event %d: %d leased locally and %d queued of %d rows, want %d of %d", i, len(local), queued, len(ds), want, c.automations)
				}
			}
		})
	}
}

// A rolled back event transaction gives back the places it reserved.
func TestRolledBackEventGivesBackItsPlaces(t *testing.T) {
	db := modeltest.Open(t)
	recv, _, release := holdingReceiver(t)
	defer release()
	f := newEventFixture(t, db, recv.server.URL, 3, models.WebhookSpec{})
	r := jobs.NewRunner(db, map[string]jobs.Action{models.ActionWebhook: postAction{newSender(t), recv.server.URL}},
		jobs.RunnerConfig{WorkerID: "local", Concurrency: 4, Poll: time.Hour}, quietLog())
	startRunner(t, r)
	ctx := models.WithDeliveryHandoff(context.Background(), r)
	errBoom := errors.New("boom")
	err := models.EventTransaction(ctx, db, func(tx *gorm.DB) error {
		n, err := models.EnqueueDeliveries(ctx, tx, 1, models.MatchTarget{Type: models.EventCreateArtifact, ProjectID: &f.project.ID})
		if err != nil || n != 3 {
			t.Errorf("enqueue: %d, %v; want 3 deliveries", n, err)
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("transaction: %v", err)
	}
	if _, n := r.Reserve(100); n != 4 {
		t.Fatalf("%d places free after the rollback, want all 4", n)
	}
	var rows int64
	db.Model(&models.Delivery{}).Count(&rows)
	if rows != 0 {
		t.Fatalf("%d deliveries after the rollback", rows)
	}
}

// Shutdown gives back deliveries handed over but not started: they are
// queued again, their attempt uncounted, for any worker to take at once.
func TestShutdownReleasesHandedDeliveries(t *testing.T) {
	db := modeltest.Open(t)
	recv, arrived, release := holdingReceiver(t)
	f := newEventFixture(t, db, recv.server.URL, 1, models.WebhookSpec{})
	r := jobs.NewRunner(db, map[string]jobs.Action{models.ActionWebhook: postAction{newSender(t), recv.server.URL}},
		jobs.RunnerConfig{WorkerID: "local", Concurrency: 1, Poll: time.Hour, Grace: 20 * time.Second}, quietLog())
	stop := startRunner(t, r)
	ctx := models.WithDeliveryHandoff(context.Background(), r)
	sent := f.logEvent(t, ctx)
	waitArrivals(t, arrived, 1) // the only worker is busy with it
	waiting := f.logEvent(t, ctx)
	if !leasedAtInsert(sent[0], "local") || !leasedAtInsert(waiting[0], "local") {
		t.Fatalf("deliveries not leased at insert: %+v, %+v", sent[0], waiting[0])
	}
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var d models.Delivery
		db.First(&d, waiting[0].ID)
		if d.State == models.DeliveryQueued && d.LeasedBy == "" && d.Attempts == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the waiting delivery is %s, attempts %d, leased by %q; want released to queued", d.State, d.Attempts, d.LeasedBy)
		}
		time.Sleep(5 * time.Millisecond) // poll; shutdown releases on its own schedule
	}
	release()
	<-stopped
	got := states(t, db)
	if got[models.DeliverySucceeded] != 1 || got[models.DeliveryQueued] != 1 {
		t.Fatalf("states %v, want the started delivery succeeded and the waiting one queued", got)
	}
	if n := recv.counts()[waiting[0].UID]; n != 0 {
		t.Fatalf("the released delivery was sent %d times by the stopped runner", n)
	}
}

// recordingHandoff notes what each committed event transaction handed
// over and queued, and passes it on.
type recordingHandoff struct {
	models.DeliveryHandoff
	mu     sync.Mutex
	local  []models.Delivery
	queued int
}

func (h *recordingHandoff) Committed(local []models.Delivery, queued int) {
	h.mu.Lock()
	h.local, h.queued = slices.Clone(local), queued
	h.mu.Unlock()
	h.DeliveryHandoff.Committed(local, queued)
}

func (h *recordingHandoff) last() ([]models.Delivery, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.local, h.queued
}

// Concurrent events of one collection, while the local runner's room comes
// and goes: each transaction that leases locally took the claim lock before
// any row, and one that did not never takes it, so none waits for the
// claim lock while holding the collection's counter that a lock holder
// waits for (that order deadlocked under the end-to-end benchmark).
func TestConcurrentEventsOfOneCollectionNeitherDeadlockNorLoseDeliveries(t *testing.T) {
	db := modeltest.Open(t)
	recv := newReceiver(t, func(string, int) (int, http.Header) { return 200, nil })
	f := newEventFixture(t, db, recv.server.URL, 4, models.WebhookSpec{MaxConcurrent: 100})
	r := jobs.NewRunner(db, map[string]jobs.Action{models.ActionWebhook: postAction{newSender(t), recv.server.URL}},
		jobs.RunnerConfig{WorkerID: "local", Concurrency: 3, Poll: 50 * time.Millisecond}, quietLog())
	startRunner(t, r)
	ctx := models.WithDeliveryHandoff(context.Background(), r)
	const events = 40
	var wg sync.WaitGroup
	errs := make(chan error, events)
	for range events {
		wg.Go(func() {
			_, _, err := models.LogArtifact(ctx, f.db, f.team, f.project, models.NewArtifact{Name: "m", Type: "model"}, f.user)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("log an event: %v", err)
		}
	}
	var n int64
	if err := db.Model(&models.Delivery{}).Count(&n).Error; err != nil || n != events*4 {
		t.Fatalf("%d deliveries (%v), want %d", n, err, events*4)
	}
}

// roomyHandoff always has room, for worker "local".
type roomyHandoff struct{}

func (roomyHandoff) Reserve(n int) (models.LocalLease, int) {
	return models.LocalLease{WorkerID: "local", Lease: time.Minute}, n
}
func (roomyHandoff) HasRoom() bool                    { return true }
func (roomyHandoff) Unreserve(int)                    {}
func (roomyHandoff) Committed([]models.Delivery, int) {}

// An event transaction takes the claim lock only for the deliveries it
// writes at its end (PostgreSQL): while it is still making its change,
// other workers' claims run. (Taking it first made every claim wait for
// whole event transactions.) SQLite has one writer at a time, so there
// every transaction waits for the one before.
func TestClaimsRunWhileAnEventTransactionIsOpen(t *testing.T) {
	if modeltest.Kind() != "postgres" {
		t.Skip("SQLite transactions that write take turns")
	}
	db := modeltest.Open(t)
	f := newEventFixture(t, db, "http://127.0.0.1:9/", 2, models.WebhookSpec{MaxConcurrent: 10})
	f.logEvent(t, context.Background()) // two deliveries queued for a claim
	inside, claimed := make(chan struct{}), make(chan struct{})
	txDone := make(chan error, 1)
	go func() {
		ctx := models.WithDeliveryHandoff(context.Background(), roomyHandoff{})
		txDone <- models.EventTransaction(ctx, db, func(tx *gorm.DB) error {
			if err := tx.Exec("UPDATE projects SET name = name WHERE id = ?", f.project.ID).Error; err != nil {
				return err
			}
			close(inside)
			<-claimed
			return nil
		})
	}()
	select {
	case <-inside:
	case err := <-txDone:
		t.Fatalf("the event transaction ended early: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ds, err := models.ClaimDue(ctx, db, "other", 10, time.Minute)
	close(claimed)
	if err != nil || len(ds) != 2 {
		t.Fatalf("claim while an event transaction is open: %d deliveries, %v; want 2 at once", len(ds), err)
	}
	if err := <-txDone; err != nil {
		t.Fatal(err)
	}
}
