package models_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/modeltest"
)

type launchFixture struct {
	db    *gorm.DB
	team  *models.Team
	user  *models.User
	queue *models.Queue
}

func newLaunchFixture(t *testing.T) *launchFixture {
	t.Helper()
	db := modeltest.Open(t)
	u := modeltest.User(t, db, "a@example.com", false)
	team := modeltest.Team(t, db, "ml", u)
	q, err := models.CreateQueue(context.Background(), db, team, "gpu", u)
	if err != nil {
		t.Fatal(err)
	}
	return &launchFixture{db: db, team: team, user: u, queue: q}
}

func (f *launchFixture) enqueue(t *testing.T, queueID int64, job string) *models.RunQueueItem {
	t.Helper()
	item := &models.RunQueueItem{QueueID: queueID, Job: "ml/proj/" + job, JobVersion: "v1", Config: `{"lr": 0.1}`, DestinationProject: "ml/proj"}
	if err := models.EnqueueRunItem(context.Background(), f.db, item); err != nil {
		t.Fatalf("enqueue %s: %v", job, err)
	}
	return item
}

func wantConflict(t *testing.T, err error, field string) {
	t.Helper()
	var ce *models.ConflictError
	if !errors.As(err, &ce) || ce.Field != field {
		t.Fatalf("got %v, want a conflict on %s", err, field)
	}
}

func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	var ve *models.ValidationError
	if !errors.As(err, &ve) || ve.Field != field {
		t.Fatalf("got %v, want invalid %s", err, field)
	}
}

func TestQueueNamesAreValidatedAndUniquePerTeam(t *testing.T) {
	f := newLaunchFixture(t)
	ctx := context.Background()
	_, err := models.CreateQueue(ctx, f.db, f.team, "gpu", f.user)
	wantConflict(t, err, "name")
	_, err = models.CreateQueue(ctx, f.db, f.team, "bad name!", f.user)
	wantInvalid(t, err, "name")
	other := modeltest.Team(t, f.db, "other", f.user)
	if _, err := models.CreateQueue(ctx, f.db, other, "gpu", f.user); err != nil {
		t.Fatalf("same name in another team: %v", err)
	}
	if _, err := models.QueueByName(ctx, f.db, f.team.ID, "nope"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("unknown queue: %v", err)
	}
}

func TestQueuesListCountsItemsPerState(t *testing.T) {
	f := newLaunchFixture(t)
	ctx := context.Background()
	if _, err := models.CreateQueue(ctx, f.db, f.team, "cpu", f.user); err != nil {
		t.Fatal(err)
	}
	for _, j := range []string{"a", "b", "c", "d"} {
		f.enqueue(t, f.queue.ID, j)
	}
	claimed, _ := models.ClaimRunItem(ctx, f.db, f.queue.ID, "agent-1", time.Minute)
	running, _ := models.ClaimRunItem(ctx, f.db, f.queue.ID, "agent-1", time.Minute)
	if _, err := models.ReportRunItem(ctx, f.db, running.ID, "agent-1", models.RunRunning, nil, "", time.Minute); err != nil {
		t.Fatal(err)
	}
	finished, _ := models.ClaimRunItem(ctx, f.db, f.queue.ID, "agent-1", time.Minute)
	if _, err := models.ReportRunItem(ctx, f.db, finished.ID, "agent-1", models.RunFinished, nil, "", time.Minute); err != nil {
		t.Fatal(err)
	}
	if claimed == nil {
		t.Fatal("nothing claimed")
	}
	qs, err := models.QueuesOf(ctx, f.db, f.team.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 2 || qs[0].Name != "cpu" || qs[1].Name != "gpu" {
		t.Fatalf("queues %+v", qs)
	}
	if qs[0].Active() != 0 || qs[0].Finished != 0 {
		t.Errorf("empty queue counts %+v", qs[0])
	}
	g := qs[1]
	if g.Queued != 1 || g.Claimed != 1 || g.Running != 1 || g.Finished != 1 || g.Failed != 0 || g.Active() != 3 {
		t.Errorf("gpu counts %+v", g)
	}
}

func TestDeleteQueueRefusedWhileItemsAreLive(t *testing.T) {
	f := newLaunchFixture(t)
	ctx := context.Background()
	item := f.enqueue(t, f.queue.ID, "train")
	wantConflict(t, models.DeleteQueue(ctx, f.db, f.queue), "queue")
	if _, err := models.ClaimRunItem(ctx, f.db, f.queue.ID, "a", time.Minute); err != nil {
		t.Fatal(err)
	}
	wantConflict(t, models.DeleteQueue(ctx, f.db, f.queue), "queue")
	code := 2
	if _, err := models.ReportRunItem(ctx, f.db, item.ID, "a", models.RunFailed, &code, "boom", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := models.DeleteQueue(ctx, f.db, f.queue); err != nil {
		t.Fatalf("delete a queue whose items all ended: %v", err)
	}
	if _, err := models.QueueByName(ctx, f.db, f.team.ID, "gpu"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("queue still there: %v", err)
	}
	if _, err := models.RunItemByID(ctx, f.db, item.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("item history not removed with its queue: %v", err)
	}
	// Enqueueing on the deleted queue says it is gone.
	err := models.EnqueueRunItem(ctx, f.db, &models.RunQueueItem{QueueID: f.queue.ID, Job: "ml/p/j", JobVersion: "v0", DestinationProject: "ml/p"})
	if !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("enqueue on a deleted queue: %v", err)
	}
}

func TestClaimTakesTheOldestItemOfItsQueue(t *testing.T) {
	f := newLaunchFixture(t)
	ctx := context.Background()
	other, err := models.CreateQueue(ctx, f.db, f.team, "cpu", f.user)
	if err != nil {
		t.Fatal(err)
	}
	first := f.enqueue(t, f.queue.ID, "first")
	f.enqueue(t, other.ID, "elsewhere")
	second := f.enqueue(t, f.queue.ID, "second")
	for _, want := range []*models.RunQueueItem{first, second} {
		got, err := models.ClaimRunItem(ctx, f.db, f.queue.ID, "agent-1", time.Minute)
		if err != nil || got == nil {
			t.Fatalf("claim: %v %v", got, err)
		}
		if got.ID != want.ID || got.State != models.RunClaimed || got.Agent != "agent-1" || got.Claims != 1 ||
			got.LeaseUntil == nil || !got.LeaseUntil.After(time.Now()) || got.Config != `{"lr": 0.1}` {
			t.Fatalf("claimed %+v, want item %d claimed by agent-1", got, want.ID)
		}
	}
	got, err := models.ClaimRunItem(ctx, f.db, f.queue.ID, "agent-1", time.Minute)
	if got != nil || err != nil {
		t.Fatalf("empty queue: %+v %v, want nil, nil", got, err)
	}
	_, err = models.ClaimRunItem(ctx, f.db, f.queue.ID, "  ", time.Minute)
	wantInvalid(t, err, "agent")
}

// Many agents polling at once: every item is handed out exactly once.
func TestConcurrentClaimsNeverShareAnItem(t *testing.T) {
	f := newLaunchFixture(t)
	ctx := context.Background()
	const items, agents = 40, 8
	for i := range items {
		f.enqueue(t, f.queue.ID, fmt.Sprint("job", i))
	}
	var mu sync.Mutex
	owner := map[int64]string{}
	var dup []string
	var wg sync.WaitGroup
	errs := make(chan error, agents)
	for a := range agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprint("agent-", a)
			for {
				item, err := models.ClaimRunItem(ctx, f.db, f.queue.ID, name, time.Minute)
				if err != nil {
					errs <- err
					return
				}
				if item == nil {
					return
				}
				mu.Lock()
				if prev, ok := owner[item.ID]; ok {
					dup = append(dup, fmt.Sprintf("item %d to %s and %s", item.ID, prev, name))
				}
				owner[item.ID] = name
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("claim: %v", err)
	}
	if len(dup) > 0 {
		t.Fatalf("handed out twice: %v", dup)
	}
	if len(owner) != items {
		t.Fatalf("%d items claimed, want %d", len(owner), items)
	}
	var claims int64
	f.db.Model(&models.RunQueueItem{}).Where("claims = 1 AND state = 'claimed'").Count(&claims)
	if claims != items {
		t.Fatalf("%d items claimed once, want %d", claims, items)
	}
}

// An agent that vanishes stops renewing its lease; the item goes to the
// next agent, and the first one's late reports are refused.
func TestExpiredLeaseIsClaimedAgain(t *testing.T) {
	f := newLaunchFixture(t)
	ctx := context.Background()
	item := f.enqueue(t, f.queue.ID, "train")
	if _, err := models.ClaimRunItem(ctx, f.db, f.queue.ID, "agent-a", time.Minute); err != nil {
		t.Fatal(err)
	}
	// A live lease keeps the item from other agents.
	if got, err := models.ClaimRunItem(ctx, f.db, f.queue.ID, "agent-b", time.Minute); got != nil || err != nil {
		t.Fatalf("claimed a leased item: %+v %v", got, err)
	}
	// agent-a reports running with a lease that is already over (as if it
	// then went silent for longer than the lease).
	if _, err := models.ReportRunItem(ctx, f.db, item.ID, "agent-a", models.RunRunning, nil, "", -time.Second); err != nil {
		t.Fatal(err)
	}
	got, err := models.ClaimRunItem(ctx, f.db, f.queue.ID, "agent-b", time.Minute)
	if err != nil || got == nil {
		t.Fatalf("re-claim: %+v %v", got, err)
	}
	if got.ID != item.ID || got.Agent != "agent-b" || got.Claims != 2 || got.State != models.RunClaimed ||
		got.StartedAt != nil || !strings.Contains(got.Message, "agent-a") {
		t.Fatalf("re-claimed %+v", got)
	}
	_, err = models.ReportRunItem(ctx, f.db, item.ID, "agent-a", models.RunFinished, nil, "", time.Minute)
	wantConflict(t, err, "agent")
	if _, err := models.ReportRunItem(ctx, f.db, item.ID, "agent-b", models.RunFinished, nil, "done", time.Minute); err != nil {
		t.Fatal(err)
	}
	final, _ := models.RunItemByID(ctx, f.db, item.ID)
	if final.State != models.RunFinished || final.Agent != "agent-b" || final.ExitCode == nil || *final.ExitCode != 0 ||
		final.FinishedAt == nil || final.LeaseUntil != nil || final.Message != "done" {
		t.Fatalf("final %+v", final)
	}
	// A finished item is not claimed again, however old.
	if got, err := models.ClaimRunItem(ctx, f.db, f.queue.ID, "agent-c", time.Minute); got != nil || err != nil {
		t.Fatalf("claimed a finished item: %+v %v", got, err)
	}
}

func TestReportRules(t *testing.T) {
	f := newLaunchFixture(t)
	ctx := context.Background()
	item := f.enqueue(t, f.queue.ID, "train")
	_, err := models.ReportRunItem(ctx, f.db, item.ID, "a", models.RunRunning, nil, "", time.Minute)
	wantConflict(t, err, "agent") // not claimed yet
	if _, err := models.ClaimRunItem(ctx, f.db, f.queue.ID, "a", time.Second); err != nil {
		t.Fatal(err)
	}
	_, err = models.ReportRunItem(ctx, f.db, item.ID, "a", "claimed", nil, "", time.Minute)
	wantInvalid(t, err, "state")
	_, err = models.ReportRunItem(ctx, f.db, item.ID, "a", "done", nil, "", time.Minute)
	wantInvalid(t, err, "state")
	three := 3
	_, err = models.ReportRunItem(ctx, f.db, item.ID, "a", models.RunFinished, &three, "", time.Minute)
	wantInvalid(t, err, "exit_code")
	_, err = models.ReportRunItem(ctx, f.db, item.ID, "a", models.RunFailed, &three, strings.Repeat("x", models.MaxRunMessage+1), time.Minute)
	wantInvalid(t, err, "message")
	_, err = models.ReportRunItem(ctx, f.db, item.ID+100, "a", models.RunRunning, nil, "", time.Minute)
	if !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("unknown item: %v", err)
	}
	_, err = models.ReportRunItem(ctx, f.db, item.ID, "b", models.RunRunning, nil, "", time.Minute)
	wantConflict(t, err, "agent")

	// Heartbeat: running extends the lease and keeps the first start time.
	hb, err := models.ReportRunItem(ctx, f.db, item.ID, "a", models.RunRunning, nil, "epoch 1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if hb.State != models.RunRunning || hb.StartedAt == nil || hb.LeaseUntil.Before(time.Now().Add(50*time.Minute)) || hb.Message != "epoch 1" {
		t.Fatalf("heartbeat %+v", hb)
	}
	hb2, err := models.ReportRunItem(ctx, f.db, item.ID, "a", models.RunRunning, nil, "", time.Hour)
	if err != nil || !hb2.StartedAt.Equal(*hb.StartedAt) || hb2.Message != "epoch 1" {
		t.Fatalf("second heartbeat %+v %v", hb2, err)
	}
	failed, err := models.ReportRunItem(ctx, f.db, item.ID, "a", models.RunFailed, &three, "exit status 3", time.Minute)
	if err != nil || failed.State != models.RunFailed || *failed.ExitCode != 3 {
		t.Fatalf("failed: %+v %v", failed, err)
	}
	stored, _ := models.RunItemByID(ctx, f.db, item.ID)
	if stored.State != models.RunFailed || stored.ExitCode == nil || *stored.ExitCode != 3 || stored.Message != "exit status 3" || stored.FinishedAt == nil {
		t.Fatalf("stored %+v", stored)
	}
	_, err = models.ReportRunItem(ctx, f.db, item.ID, "a", models.RunRunning, nil, "", time.Minute)
	wantConflict(t, err, "state")
}

// A retried delivery enqueues with the same uid and gets the same item.
func TestEnqueueIsIdempotentOnDeliveryUID(t *testing.T) {
	f := newLaunchFixture(t)
	ctx := context.Background()
	uid := "dlv_1"
	auto := int64(42)
	newItem := func() *models.RunQueueItem {
		return &models.RunQueueItem{QueueID: f.queue.ID, Job: "ml/proj/train", JobVersion: "v2", Config: `{"a": 1}`,
			DestinationProject: "ml/proj", DeliveryUID: &uid, AutomationID: &auto}
	}
	first := newItem()
	if err := models.EnqueueRunItem(ctx, f.db, first); err != nil {
		t.Fatal(err)
	}
	// The second enqueue runs in a transaction that goes on afterwards: on
	// Postgres a caught duplicate-key error would have aborted it.
	err := f.db.Transaction(func(tx *gorm.DB) error {
		again := newItem()
		again.Config = `{"a": 2}`
		if err := models.EnqueueRunItem(ctx, tx, again); err != nil {
			return err
		}
		if again.ID != first.ID || again.Config != `{"a": 1}` {
			return fmt.Errorf("second enqueue gave %+v, want item %d", again, first.ID)
		}
		var n int64
		return tx.Model(&models.RunQueueItem{}).Count(&n).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	f.db.Model(&models.RunQueueItem{}).Count(&n)
	if n != 1 {
		t.Fatalf("%d items, want 1", n)
	}
	// Items without a uid are all kept.
	f.enqueue(t, f.queue.ID, "x")
	f.enqueue(t, f.queue.ID, "x")
	items, err := models.RunItemsOfAutomation(ctx, f.db, auto)
	if err != nil || len(items) != 1 || items[0].ID != first.ID || items[0].QueueName != "gpu" {
		t.Fatalf("items of automation: %+v %v", items, err)
	}
	all, err := models.RunItemsOfQueue(ctx, f.db, f.queue.ID)
	if err != nil || len(all) != 3 || all[0].ID < all[2].ID {
		t.Fatalf("items of queue (newest first): %+v %v", all, err)
	}
}

func TestEnqueueValidates(t *testing.T) {
	f := newLaunchFixture(t)
	ctx := context.Background()
	cases := []struct {
		field string
		item  models.RunQueueItem
	}{
		{"job", models.RunQueueItem{QueueID: f.queue.ID, JobVersion: "v1", DestinationProject: "ml/p"}},
		{"job_version", models.RunQueueItem{QueueID: f.queue.ID, Job: "ml/p/j", DestinationProject: "ml/p"}},
		{"destination_project", models.RunQueueItem{QueueID: f.queue.ID, Job: "ml/p/j", JobVersion: "v1"}},
		{"config", models.RunQueueItem{QueueID: f.queue.ID, Job: "ml/p/j", JobVersion: "v1", DestinationProject: "ml/p", Config: `[1]`}},
		{"config", models.RunQueueItem{QueueID: f.queue.ID, Job: "ml/p/j", JobVersion: "v1", DestinationProject: "ml/p", Config: `null`}},
	}
	for _, c := range cases {
		t.Run(c.field, func(t *testing.T) {
			wantInvalid(t, models.EnqueueRunItem(ctx, f.db, &c.item), c.field)
		})
	}
	var n int64
	f.db.Model(&models.RunQueueItem{}).Count(&n)
	if n != 0 {
		t.Fatalf("%d items saved from bad input", n)
	}
}
