package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/automations-dev/automations/models/modeltest"
	"github.com/automations-dev/automations/web/webtest"
)

// intakeSize is the intake benchmark's number of events per phase (1000)
// and of concurrent API clients (4), or INTAKE_EVENTS and INTAKE_CLIENTS
// (longer runs make steadier profiles; one client shows the cost without
// waiting on locks).
func intakeSize() (events, clients int) {
	events, clients = 1000, 4
	if n, err := strconv.Atoi(os.Getenv("INTAKE_EVENTS")); err == nil && n > 0 {
		events = n
	}
	if n, err := strconv.Atoi(os.Getenv("INTAKE_CLIENTS")); err == nil && n > 0 {
		clients = n
	}
	return events, clients
}

// BenchmarkIntake measures what logging one artifact event through the
// JSON API costs, with no worker running (nothing is delivered): process
// CPU (server and the benchmark's own HTTP clients, from getrusage) and
// PostgreSQL CPU (only the backends serving this test's database, read
// from /proc) per event, for events matching 32 automations and events
// matching one, and the difference per extra match; then for new aliases
// matching 32 automations. Run with -benchtime 1x;
// BENCH_CPUPROFILE=file profiles the 32-match phase.
func BenchmarkIntake(b *testing.B) {
	events, clients := intakeSize()
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	b.Cleanup(sink.Close)
	app := webtest.Start(b, webtest.WithAllowedTargets("127.0.0.1"), webtest.WithoutWorker())
	key, must, tpl := benchSetup(b, app, sink.URL, intakeFanOut)
	must(201, "POST", "/api/v1/teams/ml/projects", map[string]any{"name": "solo"})
	must(201, "POST", "/api/v1/automations", map[string]any{
		"name": "solo", "scope": map[string]any{"type": "project", "project": "ml/solo"},
		"event":  map[string]any{"type": "CREATE_ARTIFACT"},
		"action": map[string]any{"type": "webhook", "team": "ml", "webhook": "sink", "payload": tpl},
	})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	post := func(path, body string) (map[string]any, error) {
		req, _ := http.NewRequest("POST", app.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			return nil, err
		}
		if resp.StatusCode != 201 {
			return nil, fmt.Errorf("POST %s: %d %v", path, resp.StatusCode, out)
		}
		return out, nil
	}
	var mu sync.Mutex
	var versions []int64 // logged in project p, for the alias phase
	logEvent := func(project string) func(seq int) error {
		return func(seq int) error {
			out, err := post("/api/v1/projects/ml/"+project+"/artifacts", fmt.Sprintf(`{"name": "m%d", "type": "model", "metadata": {"seq": %d}}`, seq%16, seq))
			if err == nil && project == "p" {
				id, _ := out["id"].(float64)
				mu.Lock()
				versions = append(versions, int64(id))
				mu.Unlock()
			}
			return err
		}
	}
	addAlias := func(seq int) error {
		v := versions[(seq%len(versions)+len(versions))%len(versions)]
		_, err := post(fmt.Sprintf("/api/v1/artifacts/%d/aliases", v), fmt.Sprintf(`{"alias": "stage-%d"}`, seq))
		return err
	}
	// run sends events requests from clients clients (after a warm-up:
	// connections, prepared plans, collections) and returns the CPU
	// per request.
	run := func(send func(seq int) error) (self, pg time.Duration, took time.Duration) {
		for i := range 16 {
			if err := send(-1 - i); err != nil {
				b.Fatal(err)
			}
		}
		pgBefore := databaseBackendsCPU(b, app)
		selfBefore := rusageCPU()
		start := time.Now()
		closedLoop(b, clients, events, send)
		took = time.Since(start)
		self = (rusageCPU() - selfBefore) / time.Duration(events)
		after := databaseBackendsCPU(b, app)
		for pid, t := range after {
			pg += t - pgBefore[pid]
		}
		return self, pg / time.Duration(events), took
	}
	b.ResetTimer()
	soloSelf, soloPG, soloTook := run(logEvent("solo"))
	stop := profileIf(b, "BENCH_CPUPROFILE")
	fanSelf, fanPG, fanTook := run(logEvent("p"))
	stop()
	b.StopTimer()
	// Alias events: intakeFanOut automations on new aliases of ml/p.
	for i := range intakeFanOut {
		must(201, "POST", "/api/v1/automations", map[string]any{
			"name": fmt.Sprintf("alias%d", i), "scope": map[string]any{"type": "project", "project": "ml/p"},
			"event":  map[string]any{"type": "ADD_ARTIFACT_ALIAS", "alias_regex": "stage-[0-9]+"},
			"action": map[string]any{"type": "webhook", "team": "ml", "webhook": "sink", "payload": tpl},
		})
	}
	b.StartTimer()
	aliasSelf, aliasPG, aliasTook := run(addAlias)
	b.StopTimer()
	b.ReportMetric(float64(fanSelf.Microseconds()), "process-µs/event")
	b.ReportMetric(float64(fanPG.Microseconds()), "postgres-µs/event")
	fmt.Printf("\n== intake benchmark on %s (%d events per phase, %d clients, no worker)\n", modeltest.Kind(), events, clients)
	fmt.Printf("new version, 1 match:   %v process + %v PostgreSQL CPU per event (%.0f events/s)\n",
		soloSelf.Round(time.Microsecond), soloPG.Round(time.Microsecond), float64(events)/soloTook.Seconds())
	fmt.Printf("new version, %d matches: %v process + %v PostgreSQL CPU per event (%.0f events/s)\n", intakeFanOut,
		fanSelf.Round(time.Microsecond), fanPG.Round(time.Microsecond), float64(events)/fanTook.Seconds())
	fmt.Printf("per extra match: %v process + %v PostgreSQL\n",
		((fanSelf - soloSelf) / (intakeFanOut - 1)).Round(100*time.Nanosecond), ((fanPG - soloPG) / (intakeFanOut - 1)).Round(100*time.Nanosecond))
	fmt.Printf("new alias, %d matches:   %v process + %v PostgreSQL CPU per event (%.0f events/s)\n", intakeFanOut,
		aliasSelf.Round(time.Microsecond), aliasPG.Round(time.Microsecond), float64(events)/aliasTook.Seconds())
}

// rusageCPU is this process's user+system CPU time (precise, unlike the
// 10 ms ticks of /proc).
func rusageCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// databaseBackendsCPU is the CPU time of each PostgreSQL backend serving
// the test's own database, by pid (empty on SQLite). The pool keeps its
// connections open for the whole benchmark, so no backend's time is lost
// by exiting; other databases on the same server do not count.
func databaseBackendsCPU(b *testing.B, app *webtest.App) map[int]time.Duration {
	out := map[int]time.Duration{}
	if modeltest.Kind() != "postgres" {
		return out
	}
	var pids []int
	if err := app.DB.WithContext(context.Background()).
		Raw("SELECT pid FROM pg_stat_activity WHERE datname = current_database()").Scan(&pids).Error; err != nil {
		b.Fatal(err)
	}
	for _, pid := range pids {
		out[pid] = modeltest.RunTime(pid)
	}
	return out
}

// intakeFanOut is the automations matching each event of the 32-match phases.
const intakeFanOut = 32
