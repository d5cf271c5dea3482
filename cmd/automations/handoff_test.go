package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/automations-dev/automations/models"
)

// A serve process writes an event's delivery leased to its in-process
// worker and sends it without a claim. Killed with SIGKILL in the middle
// of that send, it loses nothing: when the lease expires a worker process
// sends the delivery again, with the same delivery id.
func TestServeKilledWithAHandedDeliveryLosesNothing(t *testing.T) {
	rcv := newHookCounter(t, func(n int) bool { return n == 1 })
	f := newDeliveryFixture(t, rcv)
	port := freePort(t)
	serve := exec.Command(binary, "serve")
	serve.Env = append(os.Environ(),
		"DATABASE_URL="+f.app.Database.URL, "DATA_DIR="+f.app.Database.DataDir,
		"ENCRYPTION_KEY="+base64.StdEncoding.EncodeToString(f.app.Keys.Encryption),
		"SECRET_KEY="+base64.StdEncoding.EncodeToString(f.app.Keys.Session),
		"ALLOWED_TARGETS=127.0.0.1", "WORKER_CONCURRENCY=2", "WORKER_LEASE=2s", "PORT="+strconv.Itoa(port))
	serve.Stdout = io.Discard
	stderr, err := serve.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = serve.Process.Kill(); _ = serve.Wait() })
	waitForLog(t, stderr, "serving")

	req, _ := http.NewRequest("POST", fmt.Sprintf("http://127.0.0.1:%d/api/v1/projects/ml/p/artifacts", port),
		strings.NewReader(`{"name": "m", "type": "model"}`))
	req.Header.Set("Authorization", "Bearer "+f.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("log an event on serve: %d", resp.StatusCode)
	}
	var hungID string
	select {
	case hungID = <-rcv.hung:
	case <-time.After(30 * time.Second):
		t.Fatal("serve never sent the delivery")
	}
	d, err := models.DeliveryByUID(context.Background(), f.app.DB, hungID)
	if err != nil {
		t.Fatal(err)
	}
	// Leased by its insert (a claim would have set updated_at later) to
	// serve's worker, named <host>-<pid>.
	if d.State != models.DeliveryRunning || d.Attempts != 1 || !d.UpdatedAt.Equal(d.CreatedAt) ||
		!strings.HasSuffix(d.LeasedBy, "-"+strconv.Itoa(serve.Process.Pid)) {
		t.Fatalf("delivery %s: state %s, attempts %d, leased by %q, updated %v after insert; want leased to serve by the event's transaction",
			d.UID, d.State, d.Attempts, d.LeasedBy, d.UpdatedAt.Sub(d.CreatedAt))
	}
	if err := serve.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = serve.Wait()

	f.startWorker(t, "WORKER_CONCURRENCY=2", "WORKER_LEASE=2s")
	ds := f.waitDelivered(t, 1)
	if n := rcv.snapshot()[hungID]; n != 1 {
		t.Errorf("the interrupted delivery %s arrived %d times after the crash, want 1", hungID, n)
	}
	if ds[0].UID != hungID || ds[0].Attempts != 2 {
		t.Errorf("delivery %s has %d attempts, want %s with 2 (serve's, cut off, and the worker's)", ds[0].UID, ds[0].Attempts, hungID)
	}
}
