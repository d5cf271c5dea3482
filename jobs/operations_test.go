package jobs_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/jobs"
	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/modeltest"
)

// limitedWebhook makes a team webhook with the given limits and n due
// deliveries for it.
func limitedWebhook(t *testing.T, db *gorm.DB, maxConcurrent, maxPerMinute, n int) (*models.Webhook, []models.Delivery) {
	t.Helper()
	ctx := context.Background()
	admin := modeltest.User(t, db, "admin@example.com", false)
	team := modeltest.Team(t, db, "ml", admin)
	w, err := models.CreateWebhook(ctx, db, team.ID, models.WebhookSpec{
		Name: "ci", URL: "https://hooks.example.com/x", MaxConcurrent: maxConcurrent, MaxPerMinute: maxPerMinute,
	}, admin)
	if err != nil {
		t.Fatal(err)
	}
	ds := enqueue(t, db, n)
	ids := make([]int64, n)
	for i := range ds {
		ids[i] = ds[i].ID
	}
	if err := db.Exec("UPDATE deliveries SET webhook_id = ?, team_id = ?, action_type = 'webhook' WHERE id IN ?", w.ID, team.ID, ids).Error; err != nil {
		t.Fatal(err)
	}
	return w, ds
}

func claim(t *testing.T, db *gorm.DB, worker string) []models.Delivery {
	t.Helper()
	ds, err := models.ClaimDue(context.Background(), db, worker, 50, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func succeed(t *testing.T, db *gorm.DB, worker string, ds []models.Delivery) {
	t.Helper()
	results := make([]models.AttemptResult, len(ds))
	for i, d := range ds {
		results[i] = models.AttemptResult{DeliveryID: d.ID, WorkerID: worker, State: models.DeliverySucceeded,
			Attempt: models.DeliveryAttempt{Number: d.Attempts, StartedAt: time.Now().UTC()}}
	}
	if err := models.CompleteAttempts(context.Background(), db, results); err != nil {
		t.Fatal(err)
	}
}

// A webhook's max_concurrent bounds the deliveries leased for it at once;
// the others stay due with their attempt count unchanged, and are claimed
// as requests finish or leases expire.
func TestClaimHoldsMaxConcurrent(t *testing.T) {
	db := modeltest.Open(t)
	_, _ = limitedWebhook(t, db, 2, 0, 5)
	first := claim(t, db, "w1")
	if len(first) != 2 {
		t.Fatalf("first claim took %d, want 2", len(first))
	}
	if again := claim(t, db, "w2"); len(again) != 0 {
		t.Fatalf("a second worker took %d while 2 are in flight", len(again))
	}
	var waiting []models.Delivery
	if err := db.Where("state = 'queued'").Find(&waiting).Error; err != nil || len(waiting) != 3 {
		t.Fatalf("%d queued (%v), want 3", len(waiting), err)
	}
	for _, d := range waiting {
		if d.Attempts != 0 {
			t.Errorf("waiting delivery %s has %d attempts", d.UID, d.Attempts)
		}
	}
	succeed(t, db, "w1", first[:1])
	if next := claim(t, db, "w2"); len(next) != 1 {
		t.Fatalf("after one finished: claimed %d, want 1", len(next))
	}
	// A dead worker's expired lease is claimed again, within the limit
	// (PostgreSQL still counts the old lease, so claiming it again takes
	// no room; SQLite stops counting it, so it takes the one place left).
	if err := db.Exec("UPDATE deliveries SET lease_until = ? WHERE leased_by = 'w1'", time.Now().UTC().Add(-time.Second)).Error; err != nil {
		t.Fatal(err)
	}
	if next := claim(t, db, "w3"); len(next) != 1 {
		t.Fatalf("after w1's lease expired: claimed %d, want 1 (w1's, again)", len(next))
	}
}

// max_per_minute counts attempts started in the last minute and those in
// flight.
func TestClaimHoldsMaxPerMinute(t *testing.T) {
	db := modeltest.Open(t)
	_, _ = limitedWebhook(t, db, 10, 3, 5)
	first := claim(t, db, "w1")
	if len(first) != 3 {
		t.Fatalf("first claim took %d, want 3", len(first))
	}
	succeed(t, db, "w1", first)
	if again := claim(t, db, "w1"); len(again) != 0 {
		t.Fatalf("claimed %d more within the minute", len(again))
	}
	if err := db.Exec("UPDATE delivery_attempts SET started_at = ?", time.Now().UTC().Add(-61*time.Second)).Error; err != nil {
		t.Fatal(err)
	}
	if later := claim(t, db, "w1"); len(later) != 2 {
		t.Fatalf("a minute later: claimed %d, want the remaining 2", len(later))
	}
}

// Held deliveries are never claimed.
func TestClaimSkipsHeld(t *testing.T) {
	db := modeltest.Open(t)
	_, ds := limitedWebhook(t, db, 10, 0, 3)
	if err := db.Exec("UPDATE deliveries SET state = 'held' WHERE id = ?", ds[0].ID).Error; err != nil {
		t.Fatal(err)
	}
	got := claim(t, db, "w1")
	if len(got) != 2 {
		t.Fatalf("claimed %d, want 2", len(got))
	}
	for _, d := range got {
		if d.ID == ds[0].ID {
			t.Error("claimed the held delivery")
		}
	}
}

// slowAction takes longer than several leases.
type slowAction struct {
	calls atomic.Int64
	wait  time.Duration
}

func (a *slowAction) Perform(ctx context.Context, d *models.Delivery) jobs.Outcome {
	a.calls.Add(1)
	select {
	case <-time.After(a.wait):
	case <-ctx.Done():
	}
	return jobs.Outcome{Attempt: models.DeliveryAttempt{ResponseStatus: new(http.StatusOK)}}
}

// The heartbeat renews a running attempt's lease: an attempt lasting six
// leases is not taken over by a second worker polling all along.
func TestHeartbeatKeepsLongAttemptLeased(t *testing.T) {
	db := modeltest.Open(t)
	enqueue(t, db, 1)
	action := &slowAction{wait: 1500 * time.Millisecond}
	mk := func(id string) *jobs.Runner {
		return jobs.NewRunner(db, map[string]jobs.Action{"post": action}, jobs.RunnerConfig{
			WorkerID: id, Concurrency: 2, Lease: 250 * time.Millisecond, Poll: 20 * time.Millisecond,
		}, quietLog())
	}
	runUntil(t, db, []*jobs.Runner{mk("a"), mk("b")}, func() bool { return states(t, db)[models.DeliverySucceeded] == 1 })
	if n := action.calls.Load(); n != 1 {
		t.Fatalf("the delivery was attempted %d times, want 1", n)
	}
}

// Retention removes finished deliveries older than the cutoff with their
// attempts, and keeps recent and unfinished ones.
func TestPruneDeliveriesRemovesOnlyOldFinished(t *testing.T) {
	db := modeltest.Open(t)
	ds := enqueue(t, db, 4)
	ctx := context.Background()
	old := time.Now().UTC().Add(-40 * 24 * time.Hour)
	// 0: old succeeded, 1: old failed, 2: recent succeeded, 3: old but still retrying.
	for i, st := range []string{"succeeded", "failed", "succeeded", "retrying"} {
		completed := any(old)
		if i == 2 {
			completed = time.Now().UTC()
		}
		if i == 3 {
			completed = nil
		}
		if err := db.Exec("UPDATE deliveries SET state = ?, completed_at = ?, created_at = ? WHERE id = ?", st, completed, old, ds[i].ID).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Create(&models.DeliveryAttempt{DeliveryID: ds[i].ID, Number: 1, StartedAt: old, Outcome: st}).Error; err != nil {
			t.Fatal(err)
		}
	}
	n, err := models.PruneDeliveries(ctx, db, time.Now().UTC().Add(-30*24*time.Hour), 1)
	if err != nil || n != 1 {
		t.Fatalf("first batch of 1: pruned %d (%v)", n, err)
	}
	n, err = models.PruneDeliveries(ctx, db, time.Now().UTC().Add(-30*24*time.Hour), 10)
	if err != nil || n != 1 {
		t.Fatalf("second batch: pruned %d (%v), want the other old finished one", n, err)
	}
	var left []int64
	db.Model(&models.Delivery{}).Order("id").Pluck("id", &left)
	if len(left) != 2 || left[0] != ds[2].ID || left[1] != ds[3].ID {
		t.Fatalf("deliveries left %v, want %d and %d", left, ds[2].ID, ds[3].ID)
	}
	var attempts int64
	db.Model(&models.DeliveryAttempt{}).Where("delivery_id IN ?", []int64{ds[0].ID, ds[1].ID}).Count(&attempts)
	if attempts != 0 {
		t.Errorf("%d attempts of pruned deliveries remain", attempts)
	}
	db.Model(&models.DeliveryAttempt{}).Count(&attempts)
	if attempts != 2 {
		t.Errorf("%d attempts remain, want 2", attempts)
	}
}

// A batch whose attempts to a webhook all succeeded resets the webhook's
// failure streak in the statement recording it, and leaves nothing more
// to count; a batch with a failure for it leaves every outcome of that
// webhook to RecordIntegrationHealth, in order.
func TestCompletionResetsTheStreakOfWebhooksThatOnlySucceeded(t *testing.T) {
	for _, c := range []struct {
		name       string
		states     []models.DeliveryState
		wantStreak int
		wantLeft   int
	}{
		{"only successes", []models.DeliveryState{models.DeliverySucceeded, models.DeliverySucceeded}, 0, 0},
		{"a failure after a success", []models.DeliveryState{models.DeliverySucceeded, models.DeliveryFailed}, 5, 2},
		{"retries do not count", []models.DeliveryState{models.DeliverySucceeded, models.DeliveryRetrying}, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := modeltest.Open(t)
			w, _ := limitedWebhook(t, db, 10, 0, len(c.states))
			if err := db.Exec("UPDATE webhooks SET failure_streak = 5, failing_since = ? WHERE id = ?", time.Now().UTC(), w.ID).Error; err != nil {
				t.Fatal(err)
			}
			ds := claim(t, db, "w1")
			results := make([]models.AttemptResult, len(ds))
			for i, d := range ds {
				results[i] = models.AttemptResult{DeliveryID: d.ID, WorkerID: "w1", State: c.states[i], NextAttemptAt: time.Now().UTC(),
					Integration: jobs.IntegrationOf(&d), Attempt: models.DeliveryAttempt{Number: d.Attempts, StartedAt: time.Now().UTC()}}
			}
			if err := models.CompleteAttempts(context.Background(), db, results); err != nil {
				t.Fatal(err)
			}
			var streak int
			if err := db.Raw("SELECT failure_streak FROM webhooks WHERE id = ?", w.ID).Scan(&streak).Error; err != nil {
				t.Fatal(err)
			}
			if left := models.HealthOutcomes(results); streak != c.wantStreak || len(left) != c.wantLeft {
				t.Fatalf("streak %d with %d outcomes left to count, want %d with %d", streak, len(left), c.wantStreak, c.wantLeft)
			}
		})
	}
}
