package web_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
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

// Sizes of the delivery benchmarks: bounded in count and time.
const (
	benchDeliveries  = 9600 // deliveries in the throughput phase: events × fan-out
	benchClients     = 16   // concurrent API clients logging events
	benchConcurrency = 64   // worker concurrency (WORKER_CONCURRENCY)
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

// benchFanOuts are the fan-outs each delivery benchmark runs, as
// sub-benchmarks fanout=N: automations matching each event.
var benchFanOuts = []int{32, 10}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

// BenchmarkDeliveryEndToEnd runs the real server path (API → event and
// deliveries in one transaction → in-process worker → signed POST to a
// loopback receiver) on the database TEST_DB selects, at each fan-out, and
// prints: deliveries per second end to end, CPU per delivery of this
// process (server and worker; the API clients' share estimated and taken
// out), of the receiver process and of PostgreSQL (this database's
// backends), the bare net/http ceiling of the same receiver and their
// ratio, idle event-to-delivery latency, and p50/p99 latency at half the
// maximum rate measured from each event's scheduled time (open loop). Run
// with -benchtime 1x; TestMain prints one summary line per fan-out.
func BenchmarkDeliveryEndToEnd(b *testing.B) {
	for _, fan := range benchFanOuts {
		b.Run(fmt.Sprintf("fanout=%d", fan), func(b *testing.B) { benchEndToEnd(b, fan) })
	}
}

func benchEndToEnd(b *testing.B, fanOut int) {
	events := benchDeliveries / fanOut
	load := loadAverage()
	rcv := newBenchReceiver(b)
	app := webtest.Start(b, webtest.WithAllowedTargets("127.0.0.1"), webtest.WithConfig(func(c *web.Config) {
		c.WorkerConcurrency = benchConcurrency
		c.RetrySchedule = "100ms,100ms,100ms"
	}))
	meter := newCPUMeter(b, app.DB, rcv)
	key, must, tpl := benchSetup(b, app, rcv.URL, fanOut)
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
		rcv.waitFor(b, want, timeout)
		arrived := time.Now()
		for countInFlight(b, app) > 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond) // the recorder batches completions
		}
		total, queued, got := countDeliveries(b, app), countInFlight(b, app), rcv.delivered(b)
		if total != want || got+queued != want || queued > 0 {
			b.Fatalf("events×fan-out = %d: %d delivery rows, %d delivered, %d still queued after %v", want, total, got, queued, timeout)
		}
		return arrived
	}
	b.ResetTimer()
	seq, logged, expected := 0, 0, 0

	// 1. Idle: one event at a time into an idle system; first each event
	// with one automation, then each with fanOut.
	solo := map[int]time.Time{}
	for range benchIdleEvents {
		seq++
		if err := logEventIn("solo", seq); err != nil {
			b.Fatal(err)
		}
		solo[seq] = time.Now() // the API answered: the event is committed
		logged, expected = logged+1, expected+1
		waitAll(expected, 10*time.Second)
	}
	soloLat := rcv.latencies(b, solo)
	idle, committed := map[int]time.Time{}, map[int]time.Time{}
	for range benchIdleEvents {
		seq++
		idle[seq] = time.Now()
		if err := logEvent(seq); err != nil {
			b.Fatal(err)
		}
		committed[seq] = time.Now() // the API answered: the event is committed
		logged, expected = logged+1, expected+fanOut
		waitAll(expected, 10*time.Second)
	}
	idleLat, afterCommit := rcv.latencies(b, idle), rcv.latencies(b, committed)

	// 2. Throughput: closed loop, as fast as the clients go.
	stopProfile := profileIf(b, "BENCH_CPUPROFILE") // just this phase
	start, cpuBefore := time.Now(), meter.read()
	base := seq
	closedLoop(b, benchClients, events, func(n int) error { return logEvent(base + n) })
	seq += events
	logged, expected = logged+events, expected+events*fanOut
	loggedIn := time.Since(start)
	end := waitAll(expected, 60*time.Second)
	cpu := meter.read().sub(cpuBefore)
	stopProfile()
	elapsed := end.Sub(start)
	deliveries := events * fanOut
	e2eRate := float64(deliveries) / elapsed.Seconds()

	// 3. The receiver's ceiling: a bare client loop, same payload size,
	// signing and keep-alive, same concurrency as the worker. It also
	// prices this process's HTTP client side of one request, to take the
	// benchmark's API clients out of the server's CPU.
	bare := bareLoop(b, rcv.URL, len(tpl)+64, meter)

	// 4. Open loop at half the maximum rate: events are scheduled at fixed
	// times and latency counts from the schedule, so a slow generator
	// cannot hide delay.
	eventRate := e2eRate / 2 / float64(fanOut)
	interval := time.Duration(float64(time.Second) / eventRate)
	count := int(float64(benchLoadSeconds) * eventRate)
	scheduled := map[int]time.Time{}
	t0 := time.Now().Add(10 * time.Millisecond)
	var errs atomic.Int64
	var wg sync.WaitGroup
	for i := range count {
		at := t0.Add(time.Duration(i) * interval)
		seq++
		logged, expected = logged+1, expected+fanOut
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
	loadLat := rcv.latencies(b, scheduled)
	b.StopTimer()

	perDelivery := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(deliveries) }
	clients := perDelivery(bare.clientPerRequest * time.Duration(events))
	row := summaryRow(fanOut)
	row.haveE2E, row.load = true, load
	row.e2eRate, row.e2eBare = e2eRate, bare.rate
	row.e2eProc, row.e2eClients = perDelivery(cpu.self)-clients, clients
	row.e2ePG, row.e2eRcv = perDelivery(cpu.postgres), perDelivery(cpu.receiver)
	row.idleSoloP50, row.idleP50, row.loadP99 = percentile(soloLat, 0.5), percentile(afterCommit, 0.5), percentile(loadLat, 0.99)

	b.ReportMetric(e2eRate, "deliveries/s")
	b.ReportMetric(e2eRate/bare.rate, "ratio")
	b.ReportMetric(row.e2eProc, "proc-µs/delivery")
	if cpu.pg {
		b.ReportMetric(row.e2ePG, "pg-µs/delivery")
	}
	b.ReportMetric(float64(row.loadP99.Microseconds())/1000, "p99-ms")
	fmt.Printf("\n== end-to-end delivery benchmark on %s (fan-out %d, worker concurrency %d, payload %d bytes; load average %s)\n",
		modeltest.Kind(), fanOut, benchConcurrency, len(tpl), load)
	fmt.Printf("throughput: %d events → %d deliveries in %v (events logged in %v): %.0f deliveries/s\n",
		events, deliveries, elapsed.Round(time.Millisecond), loggedIn.Round(time.Millisecond), e2eRate)
	fmt.Printf("CPU per delivery in the throughput phase: %.0f µs server and worker (this process %.0f µs less %.0f µs for its %d API clients, priced by the bare loop's client side); receiver process %.0f µs; %s\n",
		row.e2eProc, perDelivery(cpu.self), clients, benchClients, row.e2eRcv, pgCPUText(cpu, deliveries))
	fmt.Printf("bare net/http loop to the same receiver: %.0f requests/s (client %v, receiver %v CPU per request); end-to-end / bare = %.2f×\n",
		bare.rate, bare.clientPerRequest.Round(100*time.Nanosecond), bare.receiverPerRequest.Round(100*time.Nanosecond), e2eRate/bare.rate)
	fmt.Printf("idle system, one automation: committed event (API answer) to delivery p50 %v, max %v (%d deliveries)\n",
		percentile(soloLat, 0.5).Round(10*time.Microsecond), percentile(soloLat, 1).Round(10*time.Microsecond), len(soloLat))
	fmt.Printf("idle system, %d automations: API request to delivery p50 %v, max %v; from the committed event (API answer) p50 %v, max %v (%d deliveries)\n", fanOut,
		percentile(idleLat, 0.5).Round(10*time.Microsecond), percentile(idleLat, 1).Round(10*time.Microsecond),
		percentile(afterCommit, 0.5).Round(10*time.Microsecond), percentile(afterCommit, 1).Round(10*time.Microsecond), len(idleLat))
	fmt.Printf("open loop at %.0f events/s (%.0f deliveries/s, half the max) for %ds: p50 %v, p99 %v (%d deliveries)\n",
		eventRate, eventRate*float64(fanOut), benchLoadSeconds, percentile(loadLat, 0.5).Round(10*time.Microsecond),
		percentile(loadLat, 0.99).Round(10*time.Microsecond), len(loadLat))
	fmt.Printf("accounting: %d events (%d with one automation, the rest with %d) = %d deliveries = %d delivered + 0 queued\n",
		logged, benchIdleEvents, fanOut, expected, rcv.delivered(b))
}

// pgCPUText says what PostgreSQL spent per delivery, or why it is not known.
func pgCPUText(cpu cpuSpent, deliveries int) string {
	if !cpu.pg {
		if modeltest.Kind() == "postgres" {
			return "PostgreSQL not measured (its processes are not on this machine)"
		}
		return "no PostgreSQL"
	}
	s := fmt.Sprintf("PostgreSQL %.0f µs in this database's backends (+ %.0f µs in the cluster's shared processes, which also serve other databases)",
		float64(cpu.postgres.Microseconds())/float64(deliveries), float64(cpu.pgShared.Microseconds())/float64(deliveries))
	if cpu.pgGone > 0 {
		s += fmt.Sprintf("; %d backends exited during the phase and are not counted", cpu.pgGone)
	}
	return s
}

// benchSetup makes an admin with an API key, team ml with project p,
// webhook sink to the receiver (signed), and fanOut automations on
// ml/p's new versions sending tpl, which it returns with the key and a
// helper for API calls that must answer want.
func benchSetup(b *testing.B, app *webtest.App, receiverURL string, fanOut int) (key string, must func(want int, method, path string, body any), tpl string) {
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
	for i := range fanOut {
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

// bareResult is the bare loop's rate and CPU per request: this process's
// client side and the receiver's.
type bareResult struct {
	rate                                 float64
	clientPerRequest, receiverPerRequest time.Duration
}

// bareLoop is the receiver's ceiling: benchConcurrency clients POSTing a
// signed JSON body of n bytes with a delivery id, with keep-alive, so the
// receiver does for each what it does for a delivery.
func bareLoop(b *testing.B, url string, n int, meter *cpuMeter) bareResult {
	shell := `{"seq": -1, "pad": ""}`
	body := []byte(`{"seq": -1, "pad": "` + strings.Repeat("x", max(0, n-len(shell))) + `"}`)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchConcurrency}}
	defer client.CloseIdleConnections()
	before := meter.read()
	start := time.Now()
	closedLoop(b, benchConcurrency, benchBareCount, func(i int) error {
		mac := hmac.New(sha256.New, []byte("bench-signing-secret"))
		mac.Write(body)
		req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("webhook-id", bareIDPrefix+strconv.Itoa(i))
		req.Header.Set("X-Wandb-Signature", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
		resp, err := client.Do(req)
		if err != nil {
			return nil // a failed request is skipped
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil
	})
	elapsed := time.Since(start)
	cpu := meter.read().sub(before)
	return bareResult{
		rate:               float64(benchBareCount) / elapsed.Seconds(),
		clientPerRequest:   cpu.self / benchBareCount,
		receiverPerRequest: cpu.receiver / benchBareCount,
	}
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
