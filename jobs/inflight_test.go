package jobs_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/modeltest"
)

// checkInflight fails unless each webhook's counter in webhook_inflight
// (PostgreSQL) equals its deliveries with a lease, and returns the
// counters by webhook.
func checkInflight(t *testing.T, db *gorm.DB) map[int64]int {
	t.Helper()
	var rows []struct {
		WebhookID int64
		N         int
		Leased    int
	}
	err := db.Raw(`SELECT c.webhook_id, c.n,
  (SELECT count(*) FROM deliveries d WHERE d.webhook_id = c.webhook_id AND d.leased_by <> '') AS leased
FROM webhook_inflight c ORDER BY c.webhook_id`).Scan(&rows).Error
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]int{}
	for _, r := range rows {
		if r.N != r.Leased {
			t.Fatalf("webhook %d: counter %d, but %d deliveries leased", r.WebhookID, r.N, r.Leased)
		}
		out[r.WebhookID] = r.N
	}
	return out
}

// The requests in flight per webhook are a counter on PostgreSQL, changed
// by every statement that leases or ends leases: local leases, claims,
// completion, release, hold, and claiming again what a dead worker left
// (which takes no room: its old lease is still counted).
func TestInflightCounterFollowsEveryLease(t *testing.T) {
	if modeltest.Kind() != "postgres" {
		t.Skip("SQLite counts leased rows under its single write lock")
	}
	db := modeltest.Open(t)
	ctx := context.Background()
	f := newEventFixture(t, db, "http://127.0.0.1:9/", 4, models.WebhookSpec{MaxConcurrent: 100})
	inflight := func() int { return checkInflight(t, db)[f.webhook.ID] }
	for range 3 {
		f.logEvent(t, ctx) // queued for a claim
	}
	var local []models.Delivery
	for range 2 {
		for _, d := range f.logEvent(t, models.WithDeliveryHandoff(ctx, roomyHandoff{})) {
			if !leasedAtInsert(d, "local") {
				t.Fatalf("delivery %d was not leased locally: %+v", d.ID, d)
			}
			local = append(local, d)
		}
	}
	if n := inflight(); n != 8 {
		t.Fatalf("after 8 local leases: %d in flight", n)
	}
	claimed, err := models.ClaimDue(ctx, db, "w1", 5, time.Minute)
	if err != nil || len(claimed) != 5 {
		t.Fatalf("claim: %d, %v", len(claimed), err)
	}
	if n := inflight(); n != 13 {
		t.Fatalf("after a claim of 5: %d in flight", n)
	}
	if err := models.ReleaseClaims(ctx, db, "w1", []int64{claimed[0].ID, claimed[1].ID}); err != nil {
		t.Fatal(err)
	}
	if err := models.HoldClaims(ctx, db, "w1", []int64{claimed[2].ID}); err != nil {
		t.Fatal(err)
	}
	if n := inflight(); n != 10 {
		t.Fatalf("after releasing 2 and holding 1: %d in flight", n)
	}
	succeed(t, db, "local", local[:3])
	// An outcome from a worker whose lease was taken over ends nothing.
	succeed(t, db, "w1", local[3:4])
	if n := inflight(); n != 7 {
		t.Fatalf("after 3 outcomes: %d in flight", n)
	}
	// The workers die: their 7 leases expire. With room for one request,
	// a claim takes the 7 again (already counted), and nothing new.
	if _, err := models.ExpireAllLeases(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("UPDATE webhooks SET max_concurrent = 1 WHERE id = ?", f.webhook.ID).Error; err != nil {
		t.Fatal(err)
	}
	again, err := models.ClaimDue(ctx, db, "w2", 50, time.Minute)
	if err != nil || len(again) != 7 {
		t.Fatalf("claim after the leases expired: %d, %v; want the 7 expired ones", len(again), err)
	}
	for _, d := range again {
		if d.Attempts != 2 {
			t.Fatalf("delivery %d claimed again with attempt %d, want 2 (not a fresh one)", d.ID, d.Attempts)
		}
	}
	if n := inflight(); n != 7 {
		t.Fatalf("after claiming the expired leases again: %d in flight", n)
	}
	succeed(t, db, "w2", again)
	if n := inflight(); n != 0 {
		t.Fatalf("after every outcome: %d in flight", n)
	}
	// Deleting the webhook deletes its counter with it.
	if err := db.Exec("DELETE FROM webhooks WHERE id = ?", f.webhook.ID).Error; err != nil {
		t.Fatal(err)
	}
	if left := checkInflight(t, db); len(left) != 0 {
		t.Fatalf("counters left after the webhook was deleted: %v", left)
	}
}

// Completions, claims and local leases change counters of several
// webhooks at once, from many connections: none fails (a deadlock would
// abort one) and the counters end exact.
func TestInflightCountersOfSeveralWebhooksNeitherDeadlockNorDrift(t *testing.T) {
	if modeltest.Kind() != "postgres" {
		t.Skip("SQLite counts leased rows under its single write lock")
	}
	db := modeltest.Open(t)
	ctx := context.Background()
	f := newEventFixture(t, db, "http://127.0.0.1:9/", 0, models.WebhookSpec{MaxConcurrent: 1000})
	const webhooks = 4
	for i := range webhooks {
		w, err := models.CreateWebhook(ctx, db, f.team.ID, models.WebhookSpec{Name: fmt.Sprintf("w%d", i), URL: "http://127.0.0.1:9/", MaxConcurrent: 1000}, f.user)
		if err != nil {
			t.Fatal(err)
		}
		f.addAutomation(t, fmt.Sprintf("a%d", i), w, `{}`)
	}
	for range 10 {
		f.logEvent(t, ctx) // 4 deliveries each, one per webhook, queued
	}
	const workers = 6
	var wg sync.WaitGroup
	errs := make(chan error, 3*workers)
	for i := range workers {
		worker := fmt.Sprintf("w%d", i)
		wg.Go(func() {
			// Log an event whose 4 deliveries are leased locally, claim
			// what is due, then record every outcome in shuffled order.
			if _, _, err := models.LogArtifact(models.WithDeliveryHandoff(ctx, roomyHandoff{}), db, f.team, f.project,
				models.NewArtifact{Name: "m", Type: "model"}, f.user); err != nil {
				errs <- err
				return
			}
			ds, err := models.ClaimDue(ctx, db, worker, 8, time.Minute)
			if err != nil {
				errs <- err
				return
			}
			rand.Shuffle(len(ds), func(i, j int) { ds[i], ds[j] = ds[j], ds[i] })
			results := make([]models.AttemptResult, len(ds))
			for i, d := range ds {
				results[i] = models.AttemptResult{DeliveryID: d.ID, WorkerID: worker, State: models.DeliverySucceeded,
					Attempt: models.DeliveryAttempt{Number: d.Attempts, StartedAt: time.Now().UTC()}}
			}
			errs <- models.CompleteAttempts(ctx, db, results)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// What is left leased is the locally leased deliveries: 6 events × 4.
	total := 0
	for _, n := range checkInflight(t, db) {
		total += n
	}
	if total != workers*webhooks {
		t.Fatalf("%d requests in flight, want the %d leased locally", total, workers*webhooks)
	}
}

// barrierHandoff has room always, but lets no event transaction go on
// from asking for room (HasRoom, once its event is written) until n of
// them have, or a timeout: what they do next overlaps as much as it can.
type barrierHandoff struct {
	roomyHandoff
	arrived chan struct{}
	all     chan struct{}
}

func newBarrierHandoff(n int) *barrierHandoff {
	h := &barrierHandoff{arrived: make(chan struct{}, n), all: make(chan struct{})}
	go func() {
		defer close(h.all)
		timeout := time.After(10 * time.Second)
		for range n {
			select {
			case <-h.arrived:
			case <-timeout:
				return
			}
		}
	}()
	return h
}

func (h *barrierHandoff) HasRoom() bool {
	select {
	case h.arrived <- struct{}{}:
		<-h.all
	case <-h.all: // later ones go at once
	}
	return true
}

// Event transactions leasing locally and claims by other workers, all at
// once and with nothing finishing, never put more requests in flight for
// a webhook than its max_concurrent: each counts under the claim lock, in
// a statement begun after it.
func TestConcurrentLocalLeasesAndClaimsStayWithinTheLimit(t *testing.T) {
	db := modeltest.Open(t)
	ctx := context.Background()
	const limit, events = 5, 12
	f := newEventFixture(t, db, "http://127.0.0.1:9/", 3, models.WebhookSpec{MaxConcurrent: limit})
	together := events
	if modeltest.Kind() != "postgres" {
		together = 1 // SQLite's writers take turns from BEGIN: none would reach it
	}
	h := newBarrierHandoff(together)
	var wg sync.WaitGroup
	errs := make(chan error, 2*events)
	for i := range events {
		wg.Go(func() {
			// Each to its own collection: versions of one take turns.
			_, _, err := models.LogArtifact(models.WithDeliveryHandoff(ctx, h), db, f.team, f.project,
				models.NewArtifact{Name: fmt.Sprintf("m%d", i), Type: "model"}, f.user)
			errs <- err
		})
		wg.Go(func() {
			_, err := models.ClaimDue(ctx, db, fmt.Sprintf("w%d", i), 4, time.Minute)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var leased, total int64
	if err := db.Model(&models.Delivery{}).Where("leased_by <> ''").Count(&leased).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Model(&models.Delivery{}).Count(&total).Error; err != nil {
		t.Fatal(err)
	}
	if leased > limit || total != 3*events {
		t.Fatalf("%d of %d deliveries leased at once, want at most %d of %d", leased, total, limit, 3*events)
	}
	if modeltest.Kind() == "postgres" {
		checkInflight(t, db)
	}
}
