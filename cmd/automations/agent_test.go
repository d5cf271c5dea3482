package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/modeltest"
)

// itemScript is the command the agents run: it records its config file and
// environment in $OUT_DIR/item-<id>, fails for jobs named fail, and blocks
// the first time it runs a job named block (writing its pid, so the test
// can see it started and clean it up).
const itemScript = `#!/bin/sh
out="$OUT_DIR/item-$LAUNCH_ITEM_ID"
cat "$LAUNCH_CONFIG_FILE" > "$out"
echo "$LAUNCH_JOB $LAUNCH_JOB_VERSION $LAUNCH_PROJECT $LAUNCH_ITEM_ID" >> "$out"
case "$LAUNCH_JOB" in
  */fail) echo "loss went NaN" >&2; exit 3 ;;
  */block)
    if [ ! -e "$OUT_DIR/blocked-$LAUNCH_ITEM_ID" ]; then
      echo $$ > "$OUT_DIR/blocked-$LAUNCH_ITEM_ID"
      exec sleep 60
    fi ;;
esac
exit 0
`

type launchEnv struct {
	database modeltest.Database
	db       *gorm.DB
	base     string
	key      string
	team     *models.Team
	user     *models.User
	outDir   string
	script   string
}

// startLaunchServer serves the real binary on db with a 2s lease.
func startLaunchServer(t *testing.T) *launchEnv {
	t.Helper()
	db := modeltest.New(t)
	ctx := context.Background()
	user := modeltest.User(t, db.DB, "agent@example.com", false)
	team := modeltest.Team(t, db.DB, "ml", user)
	key, _, err := models.CreateAPIKey(ctx, db.DB, user.ID, "agent")
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	serve := exec.Command(binary, "serve")
	serve.Env = append(os.Environ(), "DATABASE_URL="+db.URL, "DATA_DIR="+db.DataDir, fmt.Sprintf("PORT=%d", port), "LAUNCH_LEASE=2s")
	stderr, _ := serve.StderrPipe()
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { serve.Process.Kill(); serve.Wait() })
	waitForLog(t, stderr, "serving")
	dir := t.TempDir()
	script := filepath.Join(dir, "item.sh")
	if err := os.WriteFile(script, []byte(itemScript), 0o755); err != nil {
		t.Fatal(err)
	}
	outDir := filepath.Join(dir, "out")
	if err := os.Mkdir(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &launchEnv{database: db, db: db.DB, base: fmt.Sprintf("http://127.0.0.1:%d", port), key: key, team: team, user: user, outDir: outDir, script: script}
}

func (e *launchEnv) queue(t *testing.T, name string) *models.Queue {
	t.Helper()
	q, err := models.CreateQueue(context.Background(), e.db, e.team, name, e.user)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func (e *launchEnv) enqueue(t *testing.T, q *models.Queue, job, config string) *models.RunQueueItem {
	t.Helper()
	item := &models.RunQueueItem{QueueID: q.ID, Job: "ml/proj/" + job, JobVersion: "v3", Config: config, DestinationProject: "ml/proj"}
	if err := models.EnqueueRunItem(context.Background(), e.db, item); err != nil {
		t.Fatal(err)
	}
	return item
}

func (e *launchEnv) item(t *testing.T, id int64) *models.RunQueueItem {
	t.Helper()
	item, err := models.RunItemByID(context.Background(), e.db, id)
	if err != nil {
		t.Fatal(err)
	}
	return item
}

// agentProcess is a running `automations agent`; its output goes to a file
// shown when the test fails.
type agentProcess struct {
	cmd  *exec.Cmd
	done chan error
}

func (e *launchEnv) startAgent(t *testing.T, queue, name string) *agentProcess {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "agent", "--queue", "ml/"+queue, "--url", e.base, "--api-key", e.key,
		"--name", name, "--poll", "100ms", "--", "sh", e.script)
	cmd.Env = append(os.Environ(), "OUT_DIR="+e.outDir)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &agentProcess{cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait(); logFile.Close() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			out, _ := os.ReadFile(logPath)
			t.Logf("agent %s output:\n%s", name, out)
		}
	})
	return p
}

// wait returns the agent's exit code once it exits, failing after timeout.
func (p *agentProcess) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err // for the cleanup
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatalf("agent: %v", err)
		}
		return 0
	case <-time.After(timeout):
		t.Fatalf("agent did not exit within %s", timeout)
	}
	return -1
}

// waitFor polls cond until it holds, failing after timeout.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitBlocked waits until the script blocks on item (its pid file exists
// and the agent reported running), and kills the blocked command when the
// test ends, whatever happened to its agent.
func (e *launchEnv) waitBlocked(t *testing.T, item *models.RunQueueItem) {
	t.Helper()
	pidFile := filepath.Join(e.outDir, "blocked-"+strconv.FormatInt(item.ID, 10))
	waitFor(t, "the command to start on item "+strconv.FormatInt(item.ID, 10), 30*time.Second, func() bool {
		_, err := os.Stat(pidFile)
		return err == nil && e.item(t, item.ID).State == models.RunRunning
	})
	t.Cleanup(func() {
		raw, _ := os.ReadFile(pidFile)
		if pid, err := strconv.Atoi(strings.TrimSpace(string(raw))); err == nil && pid > 0 {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
}

func final(item *models.RunQueueItem) bool { return item.State.Final() }

// The real binary, served and as an agent: items run with their config and
// environment, exit codes become finished or failed, an agent killed mid-item
// loses the item to another agent once the lease expires, and SIGTERM stops
// an agent cleanly.
func TestAgentBinary(t *testing.T) {
	e := startLaunchServer(t)

	t.Run("runs items and reports exit codes", func(t *testing.T) {
		q := e.queue(t, "work")
		ok := e.enqueue(t, q, "train", `{"lr": 0.1, "layers": [64, 32], "name": "it's \"quoted\""}`)
		bad := e.enqueue(t, q, "fail", `{}`)
		agent := e.startAgent(t, "work", "agent-w")
		waitFor(t, "both items to end", 30*time.Second, func() bool {
			return final(e.item(t, ok.ID)) && final(e.item(t, bad.ID))
		})
		got := e.item(t, ok.ID)
		if got.State != models.RunFinished || got.ExitCode == nil || *got.ExitCode != 0 || got.Agent != "agent-w" || got.StartedAt == nil || got.FinishedAt == nil {
			t.Fatalf("ok item %+v", got)
		}
		out, err := os.ReadFile(filepath.Join(e.outDir, "item-"+strconv.FormatInt(ok.ID, 10)))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		var config map[string]any
		if len(lines) != 2 || json.Unmarshal([]byte(lines[0]), &config) != nil {
			t.Fatalf("command output %q", out)
		}
		if config["lr"] != 0.1 || config["name"] != `it's "quoted"` || len(config["layers"].([]any)) != 2 {
			t.Fatalf("config file held %v", config)
		}
		if want := fmt.Sprintf("ml/proj/train v3 ml/proj %d", ok.ID); lines[1] != want {
			t.Fatalf("environment line %q, want %q", lines[1], want)
		}
		got = e.item(t, bad.ID)
		if got.State != models.RunFailed || got.ExitCode == nil || *got.ExitCode != 3 || !strings.Contains(got.Message, "loss went NaN") {
			t.Fatalf("failing item %+v", got)
		}
		// An idle agent stops on SIGTERM with exit code 0.
		agent.cmd.Process.Signal(syscall.SIGTERM)
		if code := agent.wait(t, 30*time.Second); code != 0 {
			t.Fatalf("idle agent exited %d after SIGTERM", code)
		}
	})

	t.Run("an item whose agent was killed is claimed again", func(t *testing.T) {
		q := e.queue(t, "kill")
		item := e.enqueue(t, q, "block", `{"seed": 7}`)
		first := e.startAgent(t, "kill", "agent-a")
		e.waitBlocked(t, item)
		first.cmd.Process.Kill() // SIGKILL: no chance to report
		first.wait(t, 30*time.Second)
		if got := e.item(t, item.ID); got.State != models.RunRunning || got.Agent != "agent-a" {
			t.Fatalf("after the kill %+v", got)
		}
		e.startAgent(t, "kill", "agent-b")
		waitFor(t, "the item to end on agent-b", 30*time.Second, func() bool { return final(e.item(t, item.ID)) })
		got := e.item(t, item.ID)
		if got.State != models.RunFinished || got.Agent != "agent-b" || got.Claims != 2 || got.ExitCode == nil || *got.ExitCode != 0 {
			t.Fatalf("re-claimed item %+v", got)
		}
	})

	t.Run("SIGTERM stops the command and reports the item failed", func(t *testing.T) {
		q := e.queue(t, "term")
		item := e.enqueue(t, q, "block", `{}`)
		agent := e.startAgent(t, "term", "agent-t")
		e.waitBlocked(t, item)
		// Heartbeats keep the item past its first lease, though a rival
		// agent polls the same queue all along.
		e.startAgent(t, "term", "agent-x")
		firstLease := *e.item(t, item.ID).LeaseUntil
		waitFor(t, "the first lease to run out", 30*time.Second, func() bool { return time.Now().After(firstLease.Add(500 * time.Millisecond)) })
		if got := e.item(t, item.ID); got.State != models.RunRunning || got.Agent != "agent-t" || got.Claims != 1 || !got.LeaseUntil.After(firstLease) {
			t.Fatalf("heartbeats did not keep the item: %+v (first lease until %s)", got, firstLease)
		}
		start := time.Now()
		agent.cmd.Process.Signal(syscall.SIGTERM)
		if code := agent.wait(t, 30*time.Second); code != 0 {
			t.Fatalf("agent exited %d after SIGTERM", code)
		}
		got := e.item(t, item.ID)
		if got.State != models.RunFailed || got.Message != "agent stopped" || got.Agent != "agent-t" {
			t.Fatalf("stopped item %+v", got)
		}
		// The command got SIGTERM, not the 10s grace and a SIGKILL.
		if d := time.Since(start); d > 8*time.Second {
			t.Fatalf("stopping took %s", d)
		}
	})
}

func TestAgentUsage(t *testing.T) {
	e := startLaunchServer(t)
	e.queue(t, "gpu")
	db := e.database
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"agent", "--url", "http://x", "--api-key", "k", "--", "true"}, "TEAM/QUEUE"},
		{[]string{"agent", "--queue", "ml/gpu", "--api-key", "k", "--", "true"}, "--url is required"},
		{[]string{"agent", "--queue", "ml/gpu", "--url", "http://x", "--api-key", "k"}, "command to run"},
		{[]string{"agent", "--queue", "ml/gpu/x", "--url", "http://x", "--api-key", "k", "--", "true"}, "TEAM/QUEUE"},
	} {
		_, errOut, code := cli(t, db, []string{"AUTOMATIONS_API_KEY="}, c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: code %d, stderr %q", c.args, code, errOut)
		}
	}
	// A key the server refuses is fatal: exit 1 with the reason.
	_, errOut, code := cli(t, db, nil, "agent", "--queue", "ml/gpu", "--url", e.base, "--api-key", "ak_wrong", "--", "true")
	if code != 1 || !strings.Contains(errOut, "401") {
		t.Fatalf("bad key: code %d, stderr %q", code, errOut)
	}
	_, errOut, code = cli(t, db, nil, "agent", "--queue", "ml/nope", "--url", e.base, "--api-key", e.key, "--", "true")
	if code != 1 || !strings.Contains(errOut, "no queue named nope") {
		t.Fatalf("unknown queue: code %d, stderr %q", code, errOut)
	}
}
