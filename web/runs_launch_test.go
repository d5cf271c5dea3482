package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/automations-dev/automations/jobs/agent"
)

// helperJobEnv marks the test binary run as the launch job of
// TestLaunchedJobLogsHistoryAndFiresRunMetric.
const helperJobEnv = "RUNS_TEST_HELPER_JOB"

// TestHelperJobLogsHistory is the job the agent runs (the test binary run
// again, the os/exec helper-process pattern): it logs two steps of loss to
// its run with the run's token, as a real training job would. Run as an
// ordinary test it has nothing to do.
func TestHelperJobLogsHistory(t *testing.T) {
	if os.Getenv(helperJobEnv) != "1" {
		return
	}
	body, _ := json.Marshal(map[string]any{"rows": []map[string]any{
		{"step": 0, "metrics": map[string]any{"loss": 0.9}},
		{"step": 1, "metrics": map[string]any{"loss": 0.3}},
	}})
	req, _ := http.NewRequest("POST", os.Getenv("LAUNCH_SERVER_URL")+"/api/v1/runs/"+os.Getenv("LAUNCH_RUN_ID")+"/history", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+os.Getenv("LAUNCH_RUN_TOKEN"))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, "log history:", err)
		os.Exit(2)
	}
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(os.Stderr, "log history: %d %s\n", resp.StatusCode, out)
		os.Exit(3)
	}
	// The run's token is for its own run: it cannot read anything else.
	req, _ = http.NewRequest("GET", os.Getenv("LAUNCH_SERVER_URL")+"/api/v1/teams", nil)
	req.Header.Set("Authorization", "Bearer "+os.Getenv("LAUNCH_RUN_TOKEN"))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		fmt.Fprintln(os.Stderr, "the run token was accepted as an API key")
		os.Exit(4)
	}
}

// The chain of DESIGN.md §14: adding an alias launches a job; the agent
// starts a run for the item in the destination project and gives the job
// the run's id, token and the server URL; the job logs history; a
// RUN_METRIC automation of the project fires to the webhook; the agent
// marks the run finished by the exit code; the item links to the run.
func TestLaunchedJobLogsHistoryAndFiresRunMetric(t *testing.T) {
	f := newAutomationFixture(t, nil)
	f.must(t, http.StatusCreated, "POST", "/api/v1/teams/ml/queues", map[string]any{"name": "gpu"})
	f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{
		"name": "train", "type": "job", "metadata": map[string]any{"config": map[string]any{"lr": 0.1}},
	})
	data := f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "data", "type": "dataset"})
	f.must(t, http.StatusCreated, "POST", "/api/v1/automations", map[string]any{
		"name": "train-on-prod", "enabled": true,
		"scope":  map[string]any{"type": "project", "project": "ml/mnist"},
		"event":  map[string]any{"type": "ADD_ARTIFACT_ALIAS", "alias_regex": "prod"},
		"action": map[string]any{"type": "launch", "team": "ml", "queue": "gpu", "job": "ml/mnist/train", "job_version": "latest", "destination_project": "ml/mnist"},
	})
	metric := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", runMetricAutomation("loss-good",
		map[string]any{"type": "RUN_METRIC", "metric": "loss", "window": 1, "op": "<", "threshold": 0.5},
		`{"run": "${run_name}", "loss": "${metric_value}", "lr": "${run_config.lr}", "step": "${metric_step}"}`))
	finished := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", runMetricAutomation("run-finished",
		map[string]any{"type": "RUN_STATE", "states": []string{"finished"}}, `{"state": "${run_state}", "run": "${run_id}"}`))

	t.Setenv(helperJobEnv, "1") // the job inherits the agent's environment
	ctx, stop := context.WithCancel(context.Background())
	agentDone := make(chan error, 1)
	go func() {
		agentDone <- agent.Run(ctx, agent.Config{
			URL: f.app.URL, APIKey: f.key, Team: "ml", Queue: "gpu", Name: "agent-1",
			Command:      []string{os.Args[0], "-test.run=^TestHelperJobLogsHistory$"},
			PollInterval: 50 * time.Millisecond, Stdout: io.Discard, Stderr: os.Stderr,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
	}()
	t.Cleanup(func() {
		stop()
		if err := <-agentDone; err != nil {
			t.Errorf("agent: %v", err)
		}
	})
	f.must(t, http.StatusCreated, "POST", fmt.Sprintf("/api/v1/artifacts/%v/aliases", data["id"]), map[string]any{"alias": "prod"})

	got := f.receiver.next(t)
	var body map[string]any
	if err := json.Unmarshal(got.Body, &body); err != nil {
		t.Fatalf("payload %s: %v", got.Body, err)
	}
	if body["loss"] != 0.3 || body["lr"] != 0.1 || body["step"] != float64(1) || !strings.HasPrefix(fmt.Sprint(body["run"]), "ml/mnist/train:v0 (item ") {
		t.Fatalf("RUN_METRIC payload %s", got.Body)
	}
	f.deliveries(t, metric["id"], allIn("succeeded", 1))
	got = f.receiver.next(t)
	if !strings.HasPrefix(string(got.Body), `{"state":"finished","run":"`) {
		t.Fatalf("RUN_STATE payload %s", got.Body)
	}
	f.deliveries(t, finished["id"], allIn("succeeded", 1))

	var item map[string]any
	deadline := time.Now().Add(20 * time.Second)
	for {
		items := f.must(t, http.StatusOK, "GET", "/api/v1/teams/ml/queues/gpu/items", nil)
		list, _ := items["items"].([]any)
		if len(list) == 1 {
			item = list[0].(map[string]any)
			if item["state"] == "finished" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the item did not finish: %v", items)
		}
		time.Sleep(50 * time.Millisecond)
	}
	runID := item["run_id"]
	run := f.must(t, http.StatusOK, "GET", fmt.Sprintf("/api/v1/runs/%v", runID), nil)
	if run["state"] != "finished" || fmt.Sprint(run["config"]) != "map[lr:0.1]" {
		t.Fatalf("the item's run %v", run)
	}
	admin := f.app.SignInHTTP(t, "admin@example.com")
	_, page := admin.Get(t, "/teams/ml/queues/gpu")
	if !strings.Contains(page, fmt.Sprintf(`href="/projects/ml/mnist/runs/%v" data-testid="item-run"`, runID)) {
		t.Fatalf("the queue page does not link the item's run")
	}

	// The alias event's lineage page follows the launch item to its run and
	// on to the events that run caused.
	events := f.must(t, http.StatusOK, "GET", "/api/v1/projects/ml/mnist/events", nil)
	var aliasEvent any
	list, _ := events["events"].([]any)
	for _, e := range list {
		if ev, _ := e.(map[string]any); ev["type"] == "ADD_ARTIFACT_ALIAS" {
			aliasEvent = ev["id"]
		}
	}
	if aliasEvent == nil {
		t.Fatalf("no ADD_ARTIFACT_ALIAS event in %v", events)
	}
	_, lineage := admin.Get(t, fmt.Sprintf("/events/%v", aliasEvent))
	if !strings.Contains(lineage, fmt.Sprintf(`href="/projects/ml/mnist/runs/%v"`, runID)) {
		t.Fatalf("the lineage page does not link the run the launch item produced")
	}
	for _, caused := range []string{">RUN_METRIC</a>", ">RUN_STATE</a>"} {
		if !strings.Contains(lineage, caused) {
			t.Errorf("the lineage page does not list the run's %s event", caused)
		}
	}
}
