package agent_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/automations-dev/automations/jobs/agent"
	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/modeltest"
	"github.com/automations-dev/automations/web"
	"github.com/automations-dev/automations/web/webtest"
)

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// An agent that misses its heartbeats loses the item to another agent; its
// next heartbeat is refused, so it stops its copy of the command and
// reports nothing (the item stays with the new holder).
func TestAgentThatLostItsLeaseStopsTheCommand(t *testing.T) {
	app := webtest.Start(t, webtest.WithConfig(func(c *web.Config) { c.LaunchLease = time.Second }))
	ctx := context.Background()
	u := app.User(t, "a@example.com", false)
	team := modeltest.Team(t, app.DB, "ml", u)
	q, err := models.CreateQueue(ctx, app.DB, team, "gpu", u)
	if err != nil {
		t.Fatal(err)
	}
	item := &models.RunQueueItem{QueueID: q.ID, Job: "ml/p/train", JobVersion: "v0", DestinationProject: "ml/p"}
	if err := models.EnqueueRunItem(ctx, app.DB, item); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	started, stopped := filepath.Join(dir, "started"), filepath.Join(dir, "stopped")
	script := `trap 'touch "` + stopped + `"; exit 143' TERM; touch "` + started + `"; while :; do sleep 0.05; done`

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- agent.Run(runCtx, agent.Config{
			URL: app.URL, APIKey: app.APIKey(t, u), Team: "ml", Queue: "gpu", Name: "slow",
			Command:      []string{"sh", "-c", script},
			PollInterval: 50 * time.Millisecond,
			// Three times the lease: the lease runs out between heartbeats.
			HeartbeatInterval: 3 * time.Second,
			Stdout:            io.Discard, Stderr: io.Discard,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
	}()
	waitFor(t, "the command to start", func() bool { return exists(started) })
	var taken *models.RunQueueItem
	waitFor(t, "another agent to take the item", func() bool {
		taken, err = models.ClaimRunItem(ctx, app.DB, q.ID, "fast", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return taken != nil
	})
	if taken.ID != item.ID || taken.Claims != 2 {
		t.Fatalf("taken %+v", taken)
	}
	waitFor(t, "the first agent to stop its command", func() bool { return exists(stopped) })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("agent: %v", err)
	}
	got, err := models.RunItemByID(ctx, app.DB, item.ID)
	if err != nil || got.State != models.RunClaimed || got.Agent != "fast" {
		t.Fatalf("item after the old holder stopped: %+v %v", got, err)
	}
}

// Without a queue it can claim from, the agent does not start.
func TestAgentConfigErrors(t *testing.T) {
	base := agent.Config{URL: "http://127.0.0.1:1", APIKey: "k", Team: "ml", Queue: "gpu", Command: []string{"true"}}
	for name, edit := range map[string]func(*agent.Config){
		"no url":     func(c *agent.Config) { c.URL = "" },
		"no key":     func(c *agent.Config) { c.APIKey = "" },
		"no queue":   func(c *agent.Config) { c.Queue = "" },
		"no command": func(c *agent.Config) { c.Command = nil },
	} {
		cfg := base
		edit(&cfg)
		if err := agent.Run(context.Background(), cfg); err == nil {
			t.Errorf("%s: started", name)
		}
	}
}

// A job gets the LAUNCH_* variables but never the agent's API key: not as
// AUTOMATIONS_API_KEY, nor in any other variable that carries it.
func TestAgentJobEnvironmentHasNoAPIKey(t *testing.T) {
	app := webtest.Start(t)
	ctx := context.Background()
	u := app.User(t, "a@example.com", false)
	team := modeltest.Team(t, app.DB, "ml", u)
	q, err := models.CreateQueue(ctx, app.DB, team, "gpu", u)
	if err != nil {
		t.Fatal(err)
	}
	item := &models.RunQueueItem{QueueID: q.ID, Job: "ml/p/train", JobVersion: "v0", DestinationProject: "ml/p"}
	if err := models.EnqueueRunItem(ctx, app.DB, item); err != nil {
		t.Fatal(err)
	}
	key := app.APIKey(t, u)
	t.Setenv(agent.APIKeyEnv, key)
	t.Setenv("CI_TOKEN_COPY", "Bearer "+key)
	t.Setenv("AGENT_TEST_KEPT", "kept")
	envFile := filepath.Join(t.TempDir(), "env")

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- agent.Run(runCtx, agent.Config{
			URL: app.URL, APIKey: key, Team: "ml", Queue: "gpu", Name: "env",
			Command:      []string{"sh", "-c", `env > "$0.tmp" && mv "$0.tmp" "$0"`, envFile},
			PollInterval: 50 * time.Millisecond,
			Stdout:       io.Discard, Stderr: io.Discard,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
	}()
	waitFor(t, "the item to finish", func() bool {
		got, err := models.RunItemByID(ctx, app.DB, item.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.State == models.RunFinished
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("agent: %v", err)
	}
	raw, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		if name, value, ok := strings.Cut(line, "="); ok {
			env[name] = value
		}
	}
	for name, want := range map[string]string{
		"LAUNCH_ITEM_ID": strconv.FormatInt(item.ID, 10), "LAUNCH_JOB": "ml/p/train",
		"LAUNCH_JOB_VERSION": "v0", "LAUNCH_PROJECT": "ml/p", "AGENT_TEST_KEPT": "kept",
	} {
		if env[name] != want {
			t.Errorf("job environment %s=%q, want %q", name, env[name], want)
		}
	}
	if env["LAUNCH_CONFIG_FILE"] == "" {
		t.Error("job environment has no LAUNCH_CONFIG_FILE")
	}
	if _, ok := env[agent.APIKeyEnv]; ok {
		t.Errorf("job environment has %s", agent.APIKeyEnv)
	}
	if _, ok := env["CI_TOKEN_COPY"]; ok {
		t.Error("job environment has a variable carrying the key")
	}
	if strings.Contains(string(raw), key) {
		t.Error("the API key appears in the job's environment")
	}
}
