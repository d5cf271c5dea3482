package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/automations-dev/automations/models"
)

// api sends a JSON request to the served binary and fails unless it answers want.
func (e *launchEnv) api(t *testing.T, want int, method, path string, body any) map[string]any {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, e.base+path, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+e.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %v", method, path, resp.StatusCode, want, out)
	}
	return out
}

// A launch automation fires on a new dataset version: the in-process
// worker of `automations serve` puts the job on the queue with the job
// version's config and the overrides merged, and the real `automations
// agent` runs it and reports finished.
func TestLaunchAutomationRunsThroughAgent(t *testing.T) {
	e := startLaunchServer(t)
	e.queue(t, "gpu")
	e.api(t, http.StatusCreated, "POST", "/api/v1/teams/ml/projects", map[string]any{"name": "proj"})
	e.api(t, http.StatusCreated, "POST", "/api/v1/projects/ml/proj/artifacts", map[string]any{
		"name": "train", "type": "job", "metadata": map[string]any{"config": map[string]any{"lr": 0.1, "epochs": 3}},
	})
	e.api(t, http.StatusCreated, "POST", "/api/v1/projects/ml/proj/artifacts", map[string]any{"name": "data", "type": "dataset"})
	bad := e.api(t, http.StatusUnprocessableEntity, "POST", "/api/v1/automations", launchAutomation("ml/proj/data", map[string]any{"lr": 0.5}))
	if bad["field"] != "action.job" {
		t.Errorf("a dataset as the job: %v", bad)
	}
	a := e.api(t, http.StatusCreated, "POST", "/api/v1/automations", launchAutomation("ml/proj/train", map[string]any{"lr": 0.5}))
	id := int64(a["id"].(float64))

	e.startAgent(t, "gpu", "agent-1")
	e.api(t, http.StatusCreated, "POST", "/api/v1/projects/ml/proj/artifacts", map[string]any{"name": "data", "type": "dataset"})
	var item models.RunItemWithQueue
	waitFor(t, "the launched run to finish", 60*time.Second, func() bool {
		items, err := models.RunItemsOfAutomation(context.Background(), e.db, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) > 0 {
			item = items[0]
		}
		return len(items) == 1 && items[0].State.Final()
	})
	if item.State != models.RunFinished || item.ExitCode == nil || *item.ExitCode != 0 {
		t.Fatalf("run item ended %s (exit %v): %s", item.State, item.ExitCode, item.Message)
	}
	out, err := os.ReadFile(filepath.Join(e.outDir, "item-"+strconv.FormatInt(item.ID, 10)))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(out), "\n", 2)
	var cfg map[string]float64
	if err := json.Unmarshal([]byte(lines[0]), &cfg); err != nil {
		t.Fatalf("config file %q: %v", lines[0], err)
	}
	if cfg["lr"] != 0.5 || cfg["epochs"] != 3 || len(cfg) != 2 {
		t.Errorf("the job ran with config %v, want lr 0.5 over the version's lr 0.1, epochs 3", cfg)
	}
	if want := "ml/proj/train v0 ml/proj " + strconv.FormatInt(item.ID, 10); !strings.HasPrefix(lines[1], want) {
		t.Errorf("the job's environment: %q, want %q", lines[1], want)
	}
}

func launchAutomation(job string, overrides map[string]any) map[string]any {
	return map[string]any{
		"name":   "train-on-new-data",
		"scope":  map[string]any{"type": "project", "project": "ml/proj", "collection": "data"},
		"event":  map[string]any{"type": "CREATE_ARTIFACT"},
		"action": map[string]any{"type": "launch", "team": "ml", "queue": "gpu", "job": job, "job_version": "latest", "overrides": overrides, "destination_project": "ml/proj"},
	}
}
