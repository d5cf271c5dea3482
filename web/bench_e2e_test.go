package web_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/modeltest"
	"github.com/automations-dev/automations/web"
	"github.com/automations-dev/automations/web/webtest"
)

// Sizes of the end-to-end benchmark: bounded in count and time.
const (
	benchFanOut      = 32  // automations matching each event: deliveries per event
	benchEvents      = 300 // events in the throughput phase
	benchClients     = 16  // concurrent API clients logging events
	benchConcurrency = 64  // worker concurrency (WORKER_CONCURRENCY)
	// benchMaxConcurrent is the sink webhook's limit: checked on every
	// claim but never reached. A limit equal to the worker's concurrency
	// would bind, since deliveries claimed but still in the worker's queue,
	// or sent but not yet recorded, count as in flight: it halves the drain.
	benchMaxConcurrent = 4 * benchConcurrency
	benchPayloadPad    = 1024 // bytes of padding in every payload
	benchBareCount     = 8000 // requests in the bare net/http loop
	benchIdleEvents    = 20   // events sent one at a time to an idle system
	benchLoadSeconds   = 3    // length of the open-loop phase at half the maximum rate
)

// benchReceiver records when each delivery (by the event's seq) arrived.
type benchReceiver struct {
	*httptest.Server
	mu      sync.Mutex
	arrived map[string]time.Time // delivery id → first arrival
	bySeq   map[int][]time.Time
}

func newBenchReceiver(b *testing.B) *benchReceiver {
	r := &benchReceiver{arrived: map[string]time.Time{}, bySeq: map[int][]time.Time{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		now := time.Now()
		body, _ := io.ReadAll(req.Body)
		var p struct {
			Seq int `json:"seq"`
		}
		id := req.Header.Get("webhook-id")
		if id != "" && json.Unmarshal(body, &p) == nil {
			r.mu.Lock()
			// The bare loop's requests take the same path, unrecorded.
			if _, dup := r.arrived[id]; !dup && !strings.HasPrefix(id, bareIDPrefix) {
				r.arrived[id] = now
				r.bySeq[p.Seq] = append(r.bySeq[p.Seq], now)
			}
			r.mu.Unlock()
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(r.Close)
	return r
}

func (r *benchReceiver) delivered() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.arrived)
}

// latencies is, for the scheduled events, each delivery's arrival
// minus its event's scheduled time.
func (r *benchReceiver) latencies(scheduled map[int]time.Time) []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []time.Duration
	for seq, at := range scheduled {
		for _, t := range r.bySeq[seq] {
			out = append(out, t.Sub(at))
		}
	}
	slices.Sort(out)
	return out
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

// BenchmarkDeliveryEndToEnd runs the real server path (API → event and
// deliveries in one transaction → in-process worker → signed POST to a
// loopback receiver) on the database TEST_DB selects, and prints in one
// run: deliveries per second end to end, the bare net/http ceiling of the
// same receiver and their ratio, idle event-to-delivery latency, and
// p50/p99 latency at half the maximum rate measured from each event's
// scheduled time (open loop). Run with -benchtime 1x.
func BenchmarkDeliveryEndToEnd(b *testing.B) {
	rcv := newBenchReceiver(b)
	app := webtest.Start(b, webtest.WithAllowedTargets("127.0.0.1"), webtest.WithConfig(func(c *web.Config) {
		c.WorkerConcurrency = benchConcurrency
		c.RetrySchedule = "100ms,100ms,100ms"
	}))
	key, must, tpl := benchSetup(b, app, rcv.URL)
	// A project with a single automation measures one delivery alone.
	must(201, "POST", "/api/v1/teams/ml/projects", map[string]any{"name": "solo"})
	must(201, "POST", "/api/v1/automations", map[string]any{
		"name": "solo", "scope": map[string]any{"type": "project", "project": "ml/solo"},
		"event":  map[string]any{"type": "CREATE_ARTIFACT"},
		"action": map[string]any{"type": "webhook", "team": "ml", "webhook": "sink", "payload": tpl},
	})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	// Events spread over benchClients collections, as many teams logging
	// at once would: versions of one collection are numbered one at a time.
	logEventIn := func(project string, seq int) error {
		body := fmt.Sprintf(`{"name": "m%d", "type": "model", "metadata": {"seq": %d}}`, seq%benchClients, seq)
		req, _ := http.NewRequest("POST", app.URL+"/api/v1/projects/ml/"+project+"/artifacts", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 201 {
			return fmt.Errorf("log event: %d", resp.StatusCode)
		}
		return nil
	}
	logEvent := func(seq int) error { return logEventIn("p", seq) }
	// waitAll waits until want deliveries arrived, then until the database
	// shows none in flight, and checks the accounting: every delivery the
	// events made is delivered or still queued, none lost, none extra.
	waitAll := func(want int, timeout time.Duration) time.Time {
		deadline := time.Now().Add(timeout)
		for rcv.delivered() < want && time.Now().Before(deadline) {
			time.Sleep(2 * time.Millisecond) // poll; the loop waits on the condition
		}
		arrived := time.Now()
		for countInFlight(b, app) > 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond) // the recorder batches completions
		}
		total, queued, got := countDeliveries(b, app), countInFlight(b, app), rcv.delivered()
		if total != want || got+queued != want || queued > 0 {
			b.Fatalf("events×fan-out = %d: %d delivery rows, %d delivered, %d still queued after %v", want, total, got, queued, timeout)
		}
		return arrived
	}
	b.ResetTimer()
	seq, events, expected := 0, 0, 0

	// 1. Idle: one event at a time into an idle system; first each event
	// with one automation, then each with benchFanOut.
	solo := map[int]time.Time{}
	for range benchIdleEvents {
		seq++
		if err := logEventIn("solo", seq); err != nil {
			b.Fatal(err)
		}
		solo[seq] = time.Now() // the API answered: the event is committed
		events, expected = events+1, expected+1
		waitAll(expected, 10*time.Second)
	}
	soloLat := rcv.latencies(solo)
	idle, committed := map[int]time.Time{}, map[int]time.Time{}
	for range benchIdleEvents {
		seq++
		idle[seq] = time.Now()
		if err := logEvent(seq); err != nil {
			b.Fatal(err)
		}
		committed[seq] = time.Now() // the API answered: the event is committed
		events, expected = events+1, expected+benchFanOut
		waitAll(expected, 10*time.Second)
	}
	idleLat, afterCommit := rcv.latencies(idle), rcv.latencies(committed)

	// 2. Throughput: closed loop, as fast as the clients go.
	stopProfile := profileIf(b, "BENCH_CPUPROFILE") // just this phase
	start, cpuBefore := time.Now(), readCPU()
	base := seq
	var next atomic.Int64
	var wg sync.WaitGroup
	for range benchClients {
		wg.Go(func() {
			for {
				n := next.Add(1)
				if n > benchEvents {
					return
				}
				if err := logEvent(base + int(n)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	seq += benchEvents
	events, expected = events+benchEvents, expected+benchEvents*benchFanOut
	logged := time.Since(start)
	end := waitAll(expected, 60*time.Second)
	cpu := readCPU().sub(cpuBefore)
	stopProfile()
	elapsed := end.Sub(start)
	e2eRate := float64(benchEvents*benchFanOut) / elapsed.Seconds()

	// 3. The receiver's ceiling: a bare client loop, same payload size,
	// signing and keep-alive, same concurrency as the worker.
	bareRate := bareLoop(rcv.URL, len(tpl)+64)

	// 4. Open loop at half the maximum rate: events are scheduled at fixed
	// times and latency counts from the schedule, so a slow generator
	// cannot hide delay.
	eventRate := e2eRate / 2 / benchFanOut
	interval := time.Duration(float64(time.Second) / eventRate)
	count := int(float64(benchLoadSeconds) * eventRate)
	scheduled := map[int]time.Time{}
	t0 := time.Now().Add(10 * time.Millisecond)
	var errs atomic.Int64
	for i := range count {
		at := t0.Add(time.Duration(i) * interval)
		seq++
		events, expected = events+1, expected+benchFanOut
		scheduled[seq] = at
		time.Sleep(time.Until(at)) // the generator's schedule, not synchronisation
		s := seq
		wg.Go(func() {
			if logEvent(s) != nil {
				errs.Add(1)
			}
		})
	}
	wg.Wait()
	if errs.Load() > 0 {
		b.Fatalf("%d events failed in the open-loop phase", errs.Load())
	}
	waitAll(expected, 60*time.Second)
	loadLat := rcv.latencies(scheduled)
	b.StopTimer()

	kind := modeltest.Kind()
	b.ReportMetric(e2eRate, "deliveries/s")
	b.ReportMetric(e2eRate/bareRate, "ratio")
	b.ReportMetric(float64(percentile(loadLat, 0.99).Microseconds())/1000, "p99-ms")
	fmt.Printf("\n== end-to-end delivery benchmark on %s (fan-out %d, worker concurrency %d, payload %d bytes)\n",
		kind, benchFanOut, benchConcurrency, len(tpl))
	fmt.Printf("throughput: %d events → %d deliveries in %v (events logged in %v): %.0f deliveries/s\n",
		benchEvents, benchEvents*benchFanOut, elapsed.Round(time.Millisecond), logged.Round(time.Millisecond), e2eRate)
	perDelivery := func(d time.Duration) time.Duration { return d / time.Duration(benchEvents*benchFanOut) }
	fmt.Printf("CPU per delivery in the throughput phase: %v in this process (server, worker, receiver, clients), %v in PostgreSQL processes\n",
		perDelivery(cpu.self).Round(time.Microsecond), perDelivery(cpu.postgres).Round(time.Microsecond))
	fmt.Printf("bare net/http loop to the same receiver: %.0f requests/s; end-to-end / bare = %.2f×\n", bareRate, e2eRate/bareRate)
	fmt.Printf("idle system, one automation: committed event (API answer) to delivery p50 %v, max %v (%d deliveries)\n",
		percentile(soloLat, 0.5).Round(10*time.Microsecond), percentile(soloLat, 1).Round(10*time.Microsecond), len(soloLat))
	fmt.Printf("idle system, %d automations: API request to delivery p50 %v, max %v; from the committed event (API answer) p50 %v, max %v (%d deliveries)\n", benchFanOut,
		percentile(idleLat, 0.5).Round(10*time.Microsecond), percentile(idleLat, 1).Round(10*time.Microsecond),
		percentile(afterCommit, 0.5).Round(10*time.Microsecond), percentile(afterCommit, 1).Round(10*time.Microsecond), len(idleLat))
	fmt.Printf("open loop at %.0f events/s (%.0f deliveries/s, half the max) for %ds: p50 %v, p99 %v (%d deliveries)\n",
		eventRate, eventRate*benchFanOut, benchLoadSeconds, percentile(loadLat, 0.5).Round(10*time.Microsecond),
		percentile(loadLat, 0.99).Round(10*time.Microsecond), len(loadLat))
	fmt.Printf("accounting: %d events (%d with one automation, the rest with %d) = %d deliveries = %d delivered + 0 queued\n",
		events, benchIdleEvents, benchFanOut, expected, rcv.delivered())
}

// benchSetup makes an admin with an API key, team ml with project p,
// webhook sink to the receiver (signed), and benchFanOut automations on
// ml/p's new versions sending tpl, which it returns with the key and a
// helper for API calls that must answer want.
func benchSetup(b *testing.B, app *webtest.App, receiverURL string) (key string, must func(want int, method, path string, body any), tpl string) {
	admin := app.User(b, "admin@example.com", true)
	key = app.APIKey(b, admin)
	must = func(want int, method, path string, body any) {
		if status, out := app.API(b, key, method, path, body); status != want {
			b.Fatalf("%s %s: %d %v", method, path, status, out)
		}
	}
	must(201, "POST", "/api/v1/teams", map[string]any{"name": "ml"})
	must(201, "POST", "/api/v1/teams/ml/projects", map[string]any{"name": "p"})
	must(201, "POST", "/api/v1/teams/ml/secrets", map[string]any{"name": "SIGNING", "value": "bench-signing-secret"})
	must(201, "POST", "/api/v1/teams/ml/webhooks", map[string]any{"name": "sink", "url": receiverURL, "signing_secret": "SIGNING", "max_concurrent": benchMaxConcurrent})
	tpl = `{"seq": "${artifact_metadata.seq}", "version": "${artifact_version_string}", "pad": "` + strings.Repeat("x", benchPayloadPad) + `"}`
	for i := range benchFanOut {
		must(201, "POST", "/api/v1/automations", map[string]any{
			"name": fmt.Sprintf("a%d", i), "scope": map[string]any{"type": "project", "project": "ml/p"},
			"event":  map[string]any{"type": "CREATE_ARTIFACT"},
			"action": map[string]any{"type": "webhook", "team": "ml", "webhook": "sink", "payload": tpl},
		})
	}
	return key, must, tpl
}

// bareIDPrefix marks the bare loop's requests, which the receiver parses
// like deliveries but does not record.
const bareIDPrefix = "bare-"

// bareLoop is the receiver's ceiling: benchConcurrency clients POSTing a
// signed JSON body of n bytes with a delivery id, with keep-alive, so the
// receiver does for each what it does for a delivery.
func bareLoop(url string, n int) float64 {
	shell := `{"seq": -1, "pad": ""}`
	body := []byte(`{"seq": -1, "pad": "` + strings.Repeat("x", max(0, n-len(shell))) + `"}`)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchConcurrency}}
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range benchConcurrency {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > benchBareCount {
					return
				}
				mac := hmac.New(sha256.New, []byte("bench-signing-secret"))
				mac.Write(body)
				req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("webhook-id", bareIDPrefix+strconv.FormatInt(i, 10))
				req.Header.Set("X-Wandb-Signature", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	return float64(benchBareCount) / time.Since(start).Seconds()
}

// countInFlight counts deliveries not yet finished.
func countInFlight(b *testing.B, app *webtest.App) int {
	var n int64
	err := app.DB.WithContext(context.Background()).Model(&models.Delivery{}).
		Where("state IN ?", []string{"queued", "running", "retrying"}).Count(&n).Error
	if err != nil {
		b.Fatal(err)
	}
	return int(n)
}

// countDeliveries counts every delivery row.
func countDeliveries(b *testing.B, app *webtest.App) int {
	var n int64
	if err := app.DB.WithContext(context.Background()).Model(&models.Delivery{}).Count(&n).Error; err != nil {
		b.Fatal(err)
	}
	return int(n)
}
