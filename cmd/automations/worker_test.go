package main

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/web/webtest"
)

// hookCounter is a webhook receiver counting requests per delivery id. A
// request for which hang returns true is held until the sender goes away.
type hookCounter struct {
	*httptest.Server
	mu    sync.Mutex
	seen  map[string]int
	hung  chan string
	hang  func(n int) bool
	count int
}

func newHookCounter(t *testing.T, hang func(n int) bool) *hookCounter {
	h := &hookCounter{seen: map[string]int{}, hung: make(chan string, 1), hang: hang}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		id := r.Header.Get("webhook-id")
		h.mu.Lock()
		h.count++
		n := h.count
		h.mu.Unlock()
		if h.hang != nil && h.hang(n) {
			h.hung <- id
			<-r.Context().Done() // the worker died: its connection closed
			return
		}
		h.mu.Lock()
		h.seen[id]++
		h.mu.Unlock()
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookCounter) snapshot() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]int, len(h.seen))
	for k, v := range h.seen {
		out[k] = v
	}
	return out
}

// deliveryFixture is a server without an in-process worker, with one
// project automation posting to rcv; events logs n artifact versions.
type deliveryFixture struct {
	app *webtest.App
	key string
	id  int64
}

func newDeliveryFixture(t *testing.T, rcv *hookCounter) *deliveryFixture {
	app := webtest.Start(t, webtest.WithoutWorker(), webtest.WithAllowedTargets("127.0.0.1"))
	admin := app.User(t, "admin@example.com", true)
	f := &deliveryFixture{app: app, key: app.APIKey(t, admin)}
	f.must(t, http.StatusCreated, "POST", "/api/v1/teams", map[string]any{"name": "ml"})
	f.must(t, http.StatusCreated, "POST", "/api/v1/teams/ml/projects", map[string]any{"name": "p"})
	f.must(t, http.StatusCreated, "POST", "/api/v1/teams/ml/secrets", map[string]any{"name": "SIGNING", "value": "s3cret"})
	f.must(t, http.StatusCreated, "POST", "/api/v1/teams/ml/webhooks", map[string]any{"name": "ci", "url": rcv.URL, "signing_secret": "SIGNING"})
	a := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", map[string]any{
		"name": "ci", "scope": map[string]any{"type": "project", "project": "ml/p"},
		"event":  map[string]any{"type": "CREATE_ARTIFACT"},
		"action": map[string]any{"type": "webhook", "team": "ml", "webhook": "ci", "payload": `{"v": "${artifact_version_string}"}`},
	})
	f.id = int64(a["id"].(float64))
	return f
}

func (f *deliveryFixture) must(t *testing.T, want int, method, path string, body any) map[string]any {
	t.Helper()
	status, out := f.app.API(t, f.key, method, path, body)
	if status != want {
		t.Fatalf("%s %s: %d, want %d: %v", method, path, status, want, out)
	}
	return out
}

func (f *deliveryFixture) events(t *testing.T, n int) {
	for range n {
		f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/p/artifacts", map[string]any{"name": "m", "type": "model"})
	}
}

// startWorker runs `automations worker` on the fixture's database.
func (f *deliveryFixture) startWorker(t *testing.T, extraEnv ...string) *exec.Cmd {
	cmd := exec.Command(binary, "worker")
	cmd.Env = append(os.Environ(),
		"DATABASE_URL="+f.app.Database.URL, "DATA_DIR="+f.app.Database.DataDir,
		"ENCRYPTION_KEY="+base64.StdEncoding.EncodeToString(f.app.Keys.Encryption),
		"SECRET_KEY="+base64.StdEncoding.EncodeToString(f.app.Keys.Session),
		"ALLOWED_TARGETS=127.0.0.1", "LOG_LEVEL=warn")
	cmd.Env = append(cmd.Env, extraEnv...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	return cmd
}

// waitDelivered polls the database until every delivery succeeded.
func (f *deliveryFixture) waitDelivered(t *testing.T, n int) []models.DeliveryWithAttempts {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ds, err := models.DeliveriesOfAutomation(context.Background(), f.app.DB, f.id, 1000)
		if err != nil {
			t.Fatal(err)
		}
		done := len(ds) == n
		for _, d := range ds {
			done = done && d.State == models.DeliverySucceeded
		}
		if done {
			return ds
		}
		if time.Now().After(deadline) {
			states := map[models.DeliveryState]int{}
			for _, d := range ds {
				states[d.State]++
			}
			t.Fatalf("deliveries not all succeeded after 60s: %d of %d, states %v", len(ds), n, states)
		}
		time.Sleep(50 * time.Millisecond) // poll interval; the loop waits on the condition
	}
}

// A worker killed with SIGKILL in the middle of a delivery leaves a lease
// that expires; another worker sends the delivery again, with the same
// delivery id, and nothing is lost.
func TestWorkerKilledMidDeliveryLosesNothing(t *testing.T) {
	rcv := newHookCounter(t, func(n int) bool { return n == 1 })
	f := newDeliveryFixture(t, rcv)
	const events = 5
	f.events(t, events)

	first := f.startWorker(t, "WORKER_CONCURRENCY=1", "WORKER_LEASE=2s")
	var hungID string
	select {
	case hungID = <-rcv.hung:
	case <-time.After(30 * time.Second):
		t.Fatal("the first worker never sent a delivery")
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()

	f.startWorker(t, "WORKER_CONCURRENCY=4", "WORKER_LEASE=2s")
	ds := f.waitDelivered(t, events)
	seen := rcv.snapshot()
	for _, d := range ds {
		if seen[d.UID] < 1 {
			t.Errorf("delivery %s never arrived", d.UID)
		}
	}
	if seen[hungID] != 1 {
		t.Errorf("the interrupted delivery %s arrived %d times after the crash, want 1", hungID, seen[hungID])
	}
	for _, d := range ds {
		if d.UID == hungID && d.Attempts < 1 {
			t.Errorf("interrupted delivery has %d attempts recorded", d.Attempts)
		}
	}
}

// Two worker processes on one database never send the same attempt twice.
func TestTwoWorkersSendEachDeliveryOnce(t *testing.T) {
	rcv := newHookCounter(t, nil)
	f := newDeliveryFixture(t, rcv)
	const events = 60
	f.startWorker(t, "WORKER_CONCURRENCY=4")
	f.startWorker(t, "WORKER_CONCURRENCY=4")
	f.events(t, events)
	ds := f.waitDelivered(t, events)
	seen := rcv.snapshot()
	if len(seen) != events {
		t.Errorf("receiver saw %d delivery ids, want %d", len(seen), events)
	}
	for _, d := range ds {
		if seen[d.UID] != 1 || d.Attempts != 1 || len(d.AttemptList) != 1 {
			t.Errorf("delivery %s: received %d times, %d attempts (%d recorded), want exactly one",
				d.UID, seen[d.UID], d.Attempts, len(d.AttemptList))
		}
	}
}
