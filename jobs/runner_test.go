package jobs_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/jobs"
	"github.com/automations-dev/automations/jobs/sender"
	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/modeltest"
)

// postAction sends each delivery's payload template to url through the
// real sender: the runner's behaviour without the webhook tables.
type postAction struct {
	s   *sender.Sender
	url string
}

func (a postAction) Perform(ctx context.Context, d *models.Delivery) jobs.Outcome {
	resp, err := a.s.Send(ctx, sender.Request{URL: a.url, Body: []byte(d.PayloadTemplate), DeliveryID: d.UID})
	out := jobs.Outcome{Attempt: models.DeliveryAttempt{RequestURL: a.url, RequestBody: d.PayloadTemplate}}
	if err != nil {
		out.Err = err
		return out
	}
	out.Attempt.ResponseStatus = &resp.Status
	out.Attempt.ResponseBody = string(resp.Body)
	if resp.Status >= 300 {
		out.Err = fmt.Errorf("receiver answered %d", resp.Status)
		if secs, err := strconv.Atoi(resp.Headers.Get("Retry-After")); err == nil {
			out.RetryAfter = time.Duration(secs) * time.Second
		}
	}
	return out
}

// receiver counts requests per delivery id; status decides each answer.
type receiver struct {
	mu     sync.Mutex
	got    map[string]int
	total  atomic.Int64
	status func(id string, n int) (int, http.Header)
	server *httptest.Server
}

func newReceiver(t *testing.T, status func(id string, n int) (int, http.Header)) *receiver {
	r := &receiver{got: map[string]int{}, status: status}
	r.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		io.Copy(io.Discard, req.Body)
		id := req.Header.Get("webhook-id")
		r.mu.Lock()
		r.got[id]++
		n := r.got[id]
		r.mu.Unlock()
		r.total.Add(1)
		code, h := 200, http.Header(nil)
		if r.status != nil {
			code, h = r.status(id, n)
		}
		for k, v := range h {
			w.Header()[k] = v
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(r.server.Close)
	return r
}

func (r *receiver) counts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for k, v := range r.got {
		out[k] = v
	}
	return out
}

func enqueue(t *testing.T, db *gorm.DB, n int) []models.Delivery {
	t.Helper()
	now := time.Now().UTC()
	ds := make([]models.Delivery, n)
	for i := range ds {
		rev := models.AutomationRevision{PayloadTemplate: fmt.Sprintf(`{"n": %d}`, i), ActionConfig: "{}", CreatedAt: now}
		if err := db.Create(&rev).Error; err != nil {
			t.Fatal(err)
		}
		ds[i] = models.Delivery{
			UID: models.NewDeliveryUID(), EventID: int64(i + 1), AutomationName: "test", ActionType: "post",
			TeamID: 1, RevisionID: rev.ID, PayloadTemplate: rev.PayloadTemplate, ActionConfig: rev.ActionConfig,
			State: models.DeliveryQueued, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now,
		}
	}
	if err := db.CreateInBatches(ds, 100).Error; err != nil {
		t.Fatal(err)
	}
	return ds
}

func newSender(t *testing.T) *sender.Sender {
	s, err := sender.New(sender.Config{AllowedTargets: []string{"127.0.0.0/8"}, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// runUntil runs runners until cond holds (checked whenever the database
// says something changed), then stops them and waits for them to return.
func runUntil(t *testing.T, db *gorm.DB, runners []*jobs.Runner, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, r := range runners {
		wg.Add(1)
		go func() { defer wg.Done(); r.Run(ctx) }()
	}
	deadline := time.Now().Add(60 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			cancel()
			wg.Wait()
			t.Fatal("condition not reached within 60s")
		}
		<-tick.C
	}
	cancel()
	wg.Wait()
}

func states(t *testing.T, db *gorm.DB) map[models.DeliveryState]int {
	var rows []struct {
		State models.DeliveryState
		N     int
	}
	if err := db.Raw("SELECT state, COUNT(*) AS n FROM deliveries GROUP BY state").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := map[models.DeliveryState]int{}
	for _, r := range rows {
		out[r.State] = r.N
	}
	return out
}

func TestRunnerDeliversEachOnce(t *testing.T) {
	db := modeltest.Open(t)
	recv := newReceiver(t, nil)
	ds := enqueue(t, db, 300)
	r := jobs.NewRunner(db, map[string]jobs.Action{"post": postAction{newSender(t), recv.server.URL}},
		jobs.RunnerConfig{Concurrency: 8}, quietLog())
	runUntil(t, db, []*jobs.Runner{r}, func() bool { return states(t, db)[models.DeliverySucceeded] == len(ds) })
	got := recv.counts()
	for _, d := range ds {
		if got[d.UID] != 1 {
			t.Fatalf("delivery %s received %d times", d.UID, got[d.UID])
		}
	}
	var attempts int64
	db.Model(&models.DeliveryAttempt{}).Where("outcome = 'succeeded' AND number = 1").Count(&attempts)
	if attempts != int64(len(ds)) {
		t.Fatalf("%d attempt records, want %d", attempts, len(ds))
	}
}

func TestRunnerRetriesUntilSuccess(t *testing.T) {
	db := modeltest.Open(t)
	recv := newReceiver(t, func(id string, n int) (int, http.Header) {
		if n <= 2 {
			return 503, nil
		}
		return 200, nil
	})
	ds := enqueue(t, db, 1)
	r := jobs.NewRunner(db, map[string]jobs.Action{"post": postAction{newSender(t), recv.server.URL}},
		jobs.RunnerConfig{Schedule: jobs.RetrySchedule{Waits: []time.Duration{0, 0, 0}}}, quietLog())
	runUntil(t, db, []*jobs.Runner{r}, func() bool { return states(t, db)[models.DeliverySucceeded] == 1 })
	var attempts []models.DeliveryAttempt
	db.Where("delivery_id = ?", ds[0].ID).Order("number").Find(&attempts)
	if len(attempts) != 3 {
		t.Fatalf("%d attempts, want 3", len(attempts))
	}
	for i, want := range []string{"retrying", "retrying", "succeeded"} {
		if attempts[i].Outcome != want || attempts[i].Number != i+1 {
			t.Errorf("attempt %d: number %d outcome %s, want %s", i, attempts[i].Number, attempts[i].Outcome, want)
		}
	}
	if *attempts[0].ResponseStatus != 503 || *attempts[2].ResponseStatus != 200 {
		t.Error("response statuses not recorded")
	}
}

func TestRunnerHonoursRetryAfterThenFails(t *testing.T) {
	db := modeltest.Open(t)
	recv := newReceiver(t, func(string, int) (int, http.Header) {
		return 429, http.Header{"Retry-After": {"3600"}}
	})
	ds := enqueue(t, db, 1)
	r := jobs.NewRunner(db, map[string]jobs.Action{"post": postAction{newSender(t), recv.server.URL}},
		jobs.RunnerConfig{Schedule: jobs.RetrySchedule{Waits: []time.Duration{0}}}, quietLog())
	before := time.Now()
	runUntil(t, db, []*jobs.Runner{r}, func() bool { return states(t, db)[models.DeliveryRetrying] == 1 })
	var d models.Delivery
	db.First(&d, ds[0].ID)
	if d.NextAttemptAt.Before(before.Add(59 * time.Minute)) {
		t.Fatalf("next attempt at %v, want an hour out (Retry-After: 3600)", d.NextAttemptAt)
	}
	// Make it due again: the schedule (one retry) is then exhausted.
	db.Model(&models.Delivery{}).Where("id = ?", d.ID).Update("next_attempt_at", time.Now().UTC())
	runUntil(t, db, []*jobs.Runner{r}, func() bool { return states(t, db)[models.DeliveryFailed] == 1 })
	if n := recv.total.Load(); n != 2 {
		t.Fatalf("receiver got %d requests, want 2", n)
	}
}

// Several runners on one database never send the same attempt twice.
func TestRunnersShareTheQueueWithoutDuplicates(t *testing.T) {
	db := modeltest.Open(t)
	recv := newReceiver(t, nil)
	ds := enqueue(t, db, 400)
	var runners []*jobs.Runner
	for i := 0; i < 4; i++ {
		runners = append(runners, jobs.NewRunner(db, map[string]jobs.Action{"post": postAction{newSender(t), recv.server.URL}},
			jobs.RunnerConfig{WorkerID: fmt.Sprintf("w%d", i), Concurrency: 8}, quietLog()))
	}
	runUntil(t, db, runners, func() bool { return states(t, db)[models.DeliverySucceeded] == len(ds) })
	for id, n := range recv.counts() {
		if n != 1 {
			t.Fatalf("delivery %s sent %d times", id, n)
		}
	}
	if int(recv.total.Load()) != len(ds) {
		t.Fatalf("receiver got %d requests for %d deliveries", recv.total.Load(), len(ds))
	}
}

// A worker that claimed a delivery and died leaves a lease; when it
// expires another worker sends the delivery, with the same delivery id.
func TestExpiredLeaseIsTakenOver(t *testing.T) {
	db := modeltest.Open(t)
	recv := newReceiver(t, nil)
	ds := enqueue(t, db, 1)
	claimed, err := models.ClaimDue(context.Background(), db, "dead-worker", 10, time.Millisecond)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v %d", err, len(claimed))
	}
	r := jobs.NewRunner(db, map[string]jobs.Action{"post": postAction{newSender(t), recv.server.URL}},
		jobs.RunnerConfig{}, quietLog())
	runUntil(t, db, []*jobs.Runner{r}, func() bool { return states(t, db)[models.DeliverySucceeded] == 1 })
	if recv.counts()[ds[0].UID] != 1 {
		t.Fatalf("receiver counts %v", recv.counts())
	}
	var d models.Delivery
	db.First(&d, ds[0].ID)
	if d.Attempts != 2 {
		t.Fatalf("attempts = %d, want 2 (the dead worker's and the new one)", d.Attempts)
	}
}

func TestRetryScheduleParse(t *testing.T) {
	rs, err := jobs.ParseRetrySchedule("1s, 2m")
	if err != nil || len(rs.Waits) != 2 || rs.Waits[1] != 2*time.Minute {
		t.Fatalf("%v %v", rs, err)
	}
	if _, err := jobs.ParseRetrySchedule("soon"); err == nil {
		t.Fatal("bad schedule accepted")
	}
	now := time.Now()
	rs.Jitter = 0
	if next, ok := rs.Next(now, 2, 0); !ok || !next.Equal(now.Add(2*time.Minute)) {
		t.Fatalf("attempt 2: %v %v", next, ok)
	}
	if _, ok := rs.Next(now, 3, 0); ok {
		t.Fatal("retry after the schedule ran out")
	}
}

// An idle runner (its poll an hour away) is woken by new work: on
// PostgreSQL by the Notifier's NOTIFY after the commit, which reaches every
// worker process; on the embedded database by Wake after the commit.
func TestIdleRunnerIsWokenByNewDeliveries(t *testing.T) {
	tdb := modeltest.New(t)
	db := tdb.DB
	recv := newReceiver(t, nil)
	r := jobs.NewRunner(db, map[string]jobs.Action{"post": postAction{newSender(t), recv.server.URL}},
		jobs.RunnerConfig{Poll: time.Hour}, quietLog())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var notifier *jobs.Notifier
	if tdb.URL != "" {
		go jobs.ListenForDeliveries(ctx, tdb.URL, r, quietLog())
		notifier = jobs.NewNotifier(ctx, db, quietLog())
	}
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	enqueueAndSignal := func() models.Delivery {
		var d []models.Delivery
		err := db.Transaction(func(tx *gorm.DB) error {
			d = enqueue(t, tx, 1)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if notifier != nil {
			notifier.Notify()
		} else {
			r.Wake()
		}
		return d[0]
	}
	for i := 0; i < 3; i++ {
		d := enqueueAndSignal()
		deadline := time.Now().Add(20 * time.Second)
		for recv.counts()[d.UID] == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("delivery %d not sent within 20s of its signal (poll is 1h)", i)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	cancel()
	<-done
}
