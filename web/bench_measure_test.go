package web_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models/modeltest"
)

// The delivery benchmarks (bench_e2e_test.go, bench_backlog_test.go)
// measure the server and worker's CPU apart from the receiver's: the
// receiver runs in a child process (this test binary, started again with
// benchReceiverEnv set), so this process's CPU is the server, the worker
// and the benchmark's own API clients, and the receiver's is read from the
// child's /proc entry.

const benchReceiverEnv = "AUTOMATIONS_BENCH_RECEIVER"

func TestMain(m *testing.M) {
	if os.Getenv(benchReceiverEnv) != "" {
		os.Exit(serveBenchReceiver())
	}
	code := m.Run()
	printBenchSummary(os.Stdout)
	os.Exit(code)
}

// benchReceiver is the loopback webhook receiver of the delivery
// benchmarks, running in a child process.
type benchReceiver struct {
	URL string
	pid int
}

// newBenchReceiver starts the receiver process; it ends with the benchmark
// (and by itself if this process dies: it exits when its stdin closes).
func newBenchReceiver(b *testing.B) *benchReceiver {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), benchReceiverEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close() // the receiver exits on EOF
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("the receiver process did not start: %v", err)
	}
	return &benchReceiver{URL: strings.TrimSpace(line), pid: cmd.Process.Pid}
}

// waitFor waits until at least n deliveries arrived or timeout passed,
// and returns how many did: one request that the receiver answers when
// the count is reached, so waiting costs this process nothing.
func (r *benchReceiver) waitFor(b *testing.B, n int, timeout time.Duration) int {
	var got int
	r.control(b, fmt.Sprintf("/_bench/wait?n=%d&timeout=%s", n, timeout), &got)
	return got
}

func (r *benchReceiver) delivered(b *testing.B) int { return r.waitFor(b, 0, 0) }

// latencies is, for the scheduled events, each delivery's arrival minus
// its event's scheduled time (both wall clock on this machine).
func (r *benchReceiver) latencies(b *testing.B, scheduled map[int]time.Time) []time.Duration {
	var bySeq map[int][]int64
	r.control(b, "/_bench/arrivals", &bySeq)
	var out []time.Duration
	for seq, at := range scheduled {
		for _, t := range bySeq[seq] {
			out = append(out, time.Duration(t-at.UnixNano()))
		}
	}
	slices.Sort(out)
	return out
}

// cpu is the receiver process's CPU time so far.
func (r *benchReceiver) cpu() time.Duration {
	return procCPU(fmt.Sprintf("/proc/%d/stat", r.pid), false)
}

func (r *benchReceiver) control(b *testing.B, path string, into any) {
	resp, err := http.Get(r.URL + path)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		b.Fatalf("receiver %s: %v", path, err)
	}
}

// serveBenchReceiver is the receiver process: it answers every POST 204
// after reading it, records the first arrival of each delivery id (by the
// event's seq in the payload), and serves the counts on /_bench/.
func serveBenchReceiver() int {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0) // the benchmark is over (or its process died)
	}()
	var (
		mu      sync.Mutex
		arrived = map[string]bool{}
		bySeq   = map[int][]int64{}
		waiters []benchWaiter
	)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		now := time.Now().UnixNano()
		body, _ := io.ReadAll(req.Body)
		var p struct {
			Seq int `json:"seq"`
		}
		id := req.Header.Get("webhook-id")
		if id != "" && json.Unmarshal(body, &p) == nil {
			mu.Lock()
			// The bare loop's requests take the same path, unrecorded.
			if !arrived[id] && !strings.HasPrefix(id, bareIDPrefix) {
				arrived[id] = true
				bySeq[p.Seq] = append(bySeq[p.Seq], now)
				waiters = slices.DeleteFunc(waiters, func(w benchWaiter) bool {
					if len(arrived) >= w.n {
						close(w.done)
						return true
					}
					return false
				})
			}
			mu.Unlock()
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_bench/wait", func(w http.ResponseWriter, req *http.Request) {
		n, _ := strconv.Atoi(req.URL.Query().Get("n"))
		timeout, _ := time.ParseDuration(req.URL.Query().Get("timeout"))
		done := make(chan struct{})
		mu.Lock()
		if len(arrived) < n {
			waiters = append(waiters, benchWaiter{n, done})
		} else {
			close(done)
		}
		mu.Unlock()
		select {
		case <-done:
		case <-time.After(timeout):
		}
		mu.Lock()
		got := len(arrived)
		mu.Unlock()
		_ = json.NewEncoder(w).Encode(got)
	})
	mux.HandleFunc("GET /_bench/arrivals", func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		_ = json.NewEncoder(w).Encode(bySeq)
	})
	fmt.Printf("http://%s\n", ln.Addr())
	if err := http.Serve(ln, mux); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

type benchWaiter struct {
	n    int
	done chan struct{}
}

// cpuMeter reads the CPU time of this process, the receiver process and,
// on PostgreSQL, of the benchmark database's server processes: the
// backends (and autovacuum or parallel workers) of this database that are
// children of the postmaster serving it. Other databases on the same
// server and other servers on the machine are not counted; the cluster's
// shared processes (checkpointer, WAL writer, background writer, …) are
// reported apart, since they also work for other databases.
type cpuMeter struct {
	rcv        *benchReceiver
	db         string // "" on SQLite, or when the server is not on this machine
	postmaster int
}

// cpuUse is CPU time so far; pgBackends by process, to take differences
// per backend.
type cpuUse struct {
	self, receiver, pgShared time.Duration
	pgBackends               map[int]time.Duration
}

// cpuSpent is the CPU a phase took.
type cpuSpent struct {
	self, receiver, postgres, pgShared time.Duration
	pgGone                             int // backends that exited during the phase: not counted
	pg                                 bool
}

func newCPUMeter(b *testing.B, db *gorm.DB, rcv *benchReceiver) *cpuMeter {
	m := &cpuMeter{rcv: rcv}
	if modeltest.Kind() != "postgres" {
		return m
	}
	var pid int
	var name string
	if err := db.Raw(`SELECT pg_backend_pid(), current_database()`).Row().Scan(&pid, &name); err != nil {
		b.Fatal(err)
	}
	if f := procStat(fmt.Sprintf("/proc/%d/stat", pid)); len(f) > 1 {
		m.postmaster, _ = strconv.Atoi(f[1])
		m.db = name
	}
	return m
}

func (m *cpuMeter) read() cpuUse {
	u := cpuUse{self: procCPU("/proc/self/stat", false), receiver: m.rcv.cpu(), pgBackends: map[int]time.Duration{}}
	if m.db == "" {
		return u
	}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	ours := map[int]bool{}
	type worker struct {
		pid, leader int
		cpu         time.Duration
	}
	var parallel []worker // resolved once every leader is known
	for _, s := range stats {
		f := procStat(s)
		if len(f) < 2 || f[1] != strconv.Itoa(m.postmaster) {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(s)))
		title, _ := os.ReadFile(filepath.Join(filepath.Dir(s), "cmdline"))
		// "postgres: USER DB HOST(PORT) STATE", "postgres: autovacuum
		// worker DB", "postgres: parallel worker for PID N", or a shared
		// process: "postgres: walwriter".
		words := strings.Fields(strings.TrimPrefix(strings.ReplaceAll(string(title), "\x00", " "), "postgres:"))
		cpu := procCPU(s, false)
		switch {
		case len(words) >= 3 && words[0] == "autovacuum" && words[1] == "worker":
			if words[2] == m.db {
				u.pgBackends[pid], ours[pid] = cpu, true
			}
		case len(words) >= 5 && words[0] == "parallel" && words[1] == "worker":
			leader, _ := strconv.Atoi(words[4])
			parallel = append(parallel, worker{pid, leader, cpu})
		case len(words) >= 3 && (strings.Contains(words[2], "(") || words[2] == "[local]"):
			if words[1] == m.db {
				u.pgBackends[pid], ours[pid] = cpu, true
			}
		default:
			u.pgShared += cpu
		}
	}
	for _, w := range parallel {
		if ours[w.leader] {
			u.pgBackends[w.pid] = w.cpu
		}
	}
	return u
}

func (u cpuUse) sub(v cpuUse) cpuSpent {
	s := cpuSpent{self: u.self - v.self, receiver: u.receiver - v.receiver, pgShared: u.pgShared - v.pgShared, pg: len(u.pgBackends)+len(v.pgBackends) > 0}
	for pid, cpu := range u.pgBackends {
		s.postgres += cpu - v.pgBackends[pid] // a backend started during the phase counts from 0
	}
	for pid := range v.pgBackends {
		if _, ok := u.pgBackends[pid]; !ok {
			s.pgGone++
		}
	}
	return s
}

// procStat returns the fields of a /proc stat file after the command name
// (which is in parentheses and may hold spaces): state, ppid, ….
func procStat(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	s := string(b)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
}

// procCPU reads utime+stime from a /proc stat file (clock ticks of 10 ms),
// plus the children's when children is set.
func procCPU(path string, children bool) time.Duration {
	f := procStat(path)
	if len(f) < 15 {
		return 0
	}
	last := 13
	if children {
		last = 15
	}
	var ticks int64
	for _, v := range f[11:last] {
		n, _ := strconv.ParseInt(v, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// benchRow is one fan-out's line of the summary table, filled by the
// end-to-end and the backlog benchmarks.
type benchRow struct {
	db                                string
	fanOut                            int
	e2eRate, e2eBare, e2eProc, e2ePG  float64
	e2eClients, e2eRcv                float64
	backlogRate, backlogBare          float64
	backlogProc, backlogPG, backlogRc float64
	idleSoloP50, idleP50, loadP99     time.Duration
	load                              string
	haveE2E, haveBacklog              bool
}

// benchSummary collects the rows of one `go test -bench` run, printed by
// TestMain once every benchmark ran (a test binary runs one at a time).
var benchSummary struct {
	mu   sync.Mutex
	rows map[int]*benchRow
}

func summaryRow(fanOut int) *benchRow {
	benchSummary.mu.Lock()
	defer benchSummary.mu.Unlock()
	if benchSummary.rows == nil {
		benchSummary.rows = map[int]*benchRow{}
	}
	r := benchSummary.rows[fanOut]
	if r == nil {
		r = &benchRow{db: modeltest.Kind(), fanOut: fanOut}
		benchSummary.rows[fanOut] = r
	}
	return r
}

func printBenchSummary(w io.Writer) {
	benchSummary.mu.Lock()
	defer benchSummary.mu.Unlock()
	if len(benchSummary.rows) == 0 {
		return
	}
	fmt.Fprintln(w, "\n== delivery benchmarks: one line per fan-out (µs are CPU per delivery; process = server + worker, the API clients' estimate taken out, receiver in its own process; PG = this database's backends)")
	fmt.Fprintln(w, "| db | fan-out | e2e /s | bare /s | e2e ratio | backlog /s | backlog ratio | process µs e2e (with clients) | PG µs e2e | worker µs backlog | PG µs backlog | receiver µs | idle p50 (1 / fan-out) | p99 at half max | load |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	fans := make([]int, 0, len(benchSummary.rows))
	for f := range benchSummary.rows {
		fans = append(fans, f)
	}
	slices.SortFunc(fans, func(a, b int) int { return b - a })
	dash := func(ok bool, v float64, format string) string {
		if !ok {
			return "—"
		}
		return fmt.Sprintf(format, v)
	}
	for _, f := range fans {
		r := benchSummary.rows[f]
		pg := r.db == "postgres"
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			r.db, r.fanOut,
			dash(r.haveE2E, r.e2eRate, "%.0f"), dash(r.haveE2E, r.e2eBare, "%.0f"), dash(r.haveE2E, r.e2eRate/r.e2eBare, "%.2f×"),
			dash(r.haveBacklog, r.backlogRate, "%.0f"), dash(r.haveBacklog, r.backlogRate/r.backlogBare, "%.2f×"),
			procPair(r), dash(r.haveE2E && pg, r.e2ePG, "%.0f"),
			dash(r.haveBacklog, r.backlogProc, "%.0f"), dash(r.haveBacklog && pg, r.backlogPG, "%.0f"),
			dash(r.haveE2E, r.e2eRcv, "%.0f"),
			idlePair(r), dash(r.haveE2E, float64(r.loadP99.Microseconds())/1000, "%.1f ms"), r.load)
	}
}

func procPair(r *benchRow) string {
	if !r.haveE2E {
		return "—"
	}
	return fmt.Sprintf("%.0f (%.0f)", r.e2eProc, r.e2eProc+r.e2eClients)
}

func idlePair(r *benchRow) string {
	if !r.haveE2E {
		return "—"
	}
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) }
	return ms(r.idleSoloP50) + " / " + ms(r.idleP50) + " ms"
}

// closedLoop calls send(1), send(2), … send(n) from clients goroutines,
// each taking the next number as soon as its call returns, and waits for
// them all; a client stops at its first error, which is reported to b.
func closedLoop(b *testing.B, clients, n int, send func(seq int) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for {
				seq := next.Add(1)
				if seq > int64(n) {
					return
				}
				if err := send(int(seq)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
