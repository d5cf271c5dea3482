package main

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/automations-dev/automations/models/modeltest"
)

// slowReceiver holds every request for hold, counts the requests in
// flight at once, and reports each delivery id it accepted (answered 200
// to a sender still connected) on accepted, with the time.
type slowReceiver struct {
	*httptest.Server
	hold        time.Duration
	mu          sync.Mutex
	inFlight    int
	maxInFlight int
	accepted    chan string
}

func newSlowReceiver(t *testing.T, hold time.Duration) *slowReceiver {
	r := &slowReceiver{hold: hold, accepted: make(chan string, 1000)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		r.mu.Lock()
		r.inFlight++
		r.maxInFlight = max(r.maxInFlight, r.inFlight)
		r.mu.Unlock()
		defer func() {
			r.mu.Lock()
			r.inFlight--
			r.mu.Unlock()
		}()
		select {
		case <-time.After(r.hold): // the endpoint's own work time
		case <-req.Context().Done():
			return // the sender died: not accepted
		}
		w.WriteHeader(http.StatusOK)
		r.accepted <- req.Header.Get("webhook-id")
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *slowReceiver) peak() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.maxInFlight
}

// Two worker processes of 8 slots each never have more requests in flight
// to a webhook than its max_concurrent, and every delivery is sent once:
// waiting for room is not a failed attempt.
func TestTwoWorkersHoldTheWebhookConcurrencyLimit(t *testing.T) {
	rcv := newSlowReceiver(t, 100*time.Millisecond)
	f := newDeliveryFixture(t, &hookCounter{Server: rcv.Server})
	w := f.must(t, http.StatusOK, "PATCH", "/api/v1/teams/ml/webhooks/ci", map[string]any{"max_concurrent": 3})
	if w["max_concurrent"] != float64(3) {
		t.Fatalf("PATCH answered %v", w)
	}
	const events = 30
	f.startWorker(t, "WORKER_CONCURRENCY=8")
	f.startWorker(t, "WORKER_CONCURRENCY=8")
	f.events(t, events)
	ds := f.waitDelivered(t, events)
	for _, d := range ds {
		if d.Attempts != 1 || len(d.AttemptList) != 1 {
			t.Errorf("delivery %s: %d attempts, want 1", d.UID, d.Attempts)
		}
	}
	if p := rcv.peak(); p != 3 {
		t.Errorf("at most %d requests were in flight at once, want exactly the limit 3", p)
	}
}

// A worker killed with SIGKILL under load loses nothing: with the default
// lease (10s, renewed by the heartbeat) every delivery arrives within 15s
// of the kill, sent by a worker started in its place. On the embedded
// database the new worker proves through the DATA_DIR lock that the old one
// is gone and takes its leases at once.
func TestKilledWorkersDeliveriesArriveWithin15s(t *testing.T) {
	rcv := newSlowReceiver(t, 200*time.Millisecond)
	f := newDeliveryFixture(t, &hookCounter{Server: rcv.Server})
	const events = 40
	f.events(t, events)
	got := map[string]bool{}
	first := f.startWorker(t, "WORKER_CONCURRENCY=4")
	for len(got) < 8 {
		select {
		case id := <-rcv.accepted:
			got[id] = true
		case <-time.After(30 * time.Second):
			t.Fatalf("the first worker delivered %d in 30s", len(got))
		}
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	_ = first.Wait()
	f.startWorker(t, "WORKER_CONCURRENCY=4")
	deadline := time.NewTimer(time.Until(killed.Add(15 * time.Second)))
	defer deadline.Stop()
	var last time.Time
	for len(got) < events {
		select {
		case id := <-rcv.accepted:
			got[id] = true
			last = time.Now()
		case <-deadline.C:
			t.Fatalf("%d of %d deliveries arrived within 15s of the kill", len(got), events)
		}
	}
	t.Logf("%s: every delivery arrived %.1fs after the SIGKILL", modeltest.Kind(), last.Sub(killed).Seconds())
	ds := f.waitDelivered(t, events)
	if len(ds) != events {
		t.Fatalf("%d deliveries", len(ds))
	}
}

// backup copies the embedded database while the server runs; a server
// started on the copy (with the same keys) serves the data back. On
// PostgreSQL backup refuses and points at pg_dump.
func TestBackupMakesARestorableCopy(t *testing.T) {
	rcv := newSlowReceiver(t, 0)
	f := newDeliveryFixture(t, &hookCounter{Server: rcv.Server})
	f.events(t, 3)
	to := filepath.Join(t.TempDir(), "backup.db")
	db := f.app.Database
	out, errOut, code := cli(t, db, nil, "backup", "--to", to)
	if modeltest.Kind() == "postgres" {
		if code == 0 || !strings.Contains(errOut, "pg_dump") {
			t.Fatalf("backup on PostgreSQL: code %d, stderr %q", code, errOut)
		}
		return
	}
	if code != 0 || !strings.Contains(out, "backed up") {
		t.Fatalf("backup: code %d, %q %q", code, out, errOut)
	}
	if _, errOut, code := cli(t, db, nil, "backup", "--to", to); code == 0 || !strings.Contains(errOut, "already exists") {
		t.Fatalf("a second backup to the same file: code %d, stderr %q", code, errOut)
	}

	// Restore: the copy is the automations.db of a new DATA_DIR.
	restored := t.TempDir()
	if err := os.Rename(to, filepath.Join(restored, "automations.db")); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	serve := exec.Command(binary, "serve")
	serve.Env = append(os.Environ(), "DATABASE_URL=", "DATA_DIR="+restored, fmt.Sprintf("PORT=%d", port), "WORKER_CONCURRENCY=0",
		"ENCRYPTION_KEY="+base64.StdEncoding.EncodeToString(f.app.Keys.Encryption),
		"SECRET_KEY="+base64.StdEncoding.EncodeToString(f.app.Keys.Session))
	stderr, _ := serve.StderrPipe()
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { serve.Process.Kill(); serve.Wait() })
	waitForLog(t, stderr, "serving")
	get := func(path string) string {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", port, path), nil)
		req.Header.Set("Authorization", "Bearer "+f.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s on the restored copy: %d %s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	if body := get("/api/v1/teams/ml/webhooks/ci"); !strings.Contains(body, `"name":"ci"`) {
		t.Errorf("restored webhook: %s", body)
	}
	if body := get(fmt.Sprintf("/api/v1/automations/%d/deliveries", f.id)); strings.Count(body, `"uid"`)+strings.Count(body, `"id":"dlv_`) < 3 {
		t.Errorf("restored deliveries: %s", body)
	}
	// The secret's value survives with the key: the restored server can
	// still unseal it (the signing secret is granted to the webhook).
	if body := get("/api/v1/teams/ml/secrets"); !strings.Contains(body, "SIGNING") {
		t.Errorf("restored secrets: %s", body)
	}
}

// SIGTERM under load: the worker finishes its in-flight attempts, gives
// back what it claimed but had not started, and exits; a worker started
// after it sends the rest, and no delivery reaches the receiver twice.
func TestTerminatedWorkerFinishesOrReleasesWithoutDuplicates(t *testing.T) {
	rcv := newSlowReceiver(t, 200*time.Millisecond)
	f := newDeliveryFixture(t, &hookCounter{Server: rcv.Server})
	const events = 30
	f.events(t, events)
	got := map[string]int{}
	first := f.startWorker(t, "WORKER_CONCURRENCY=4")
	for len(got) < 6 {
		select {
		case id := <-rcv.accepted:
			got[id]++
		case <-time.After(30 * time.Second):
			t.Fatalf("the first worker delivered %d in 30s", len(got))
		}
	}
	if err := first.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := first.Wait(); err != nil {
		t.Fatalf("worker exited with %v after SIGTERM", err)
	}
	f.startWorker(t, "WORKER_CONCURRENCY=4")
	f.waitDelivered(t, events)
	for len(rcv.accepted) > 0 {
		got[<-rcv.accepted]++
	}
	if len(got) != events {
		t.Errorf("the receiver accepted %d distinct deliveries, want %d", len(got), events)
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("delivery %s accepted %d times", id, n)
		}
	}
}
