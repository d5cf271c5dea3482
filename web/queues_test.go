package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/automations-dev/automations/models"
)

func (f *teamFixture) queue(t *testing.T, name string) *models.Queue {
	t.Helper()
	q, err := models.CreateQueue(context.Background(), f.app.DB, f.team, name, f.admin)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func (f *teamFixture) enqueue(t *testing.T, q *models.Queue, config string) *models.RunQueueItem {
	t.Helper()
	item := &models.RunQueueItem{QueueID: q.ID, Job: "ml/proj/train", JobVersion: "v3", Config: config, DestinationProject: "ml/proj"}
	if err := models.EnqueueRunItem(context.Background(), f.app.DB, item); err != nil {
		t.Fatal(err)
	}
	return item
}

func (f *teamFixture) item(t *testing.T, id int64) *models.RunQueueItem {
	t.Helper()
	item, err := models.RunItemByID(context.Background(), f.app.DB, id)
	if err != nil {
		t.Fatal(err)
	}
	return item
}

// Each launch route refuses the roles DESIGN.md §9 gives no right to, sent
// directly, and nothing changes: viewers cannot claim or report, members
// cannot manage queues, outsiders cannot even see the team's queues.
func TestQueueRoutesRefuseRoles(t *testing.T) {
	f := newTeamFixture(t)
	q := f.queue(t, "gpu")
	held := f.enqueue(t, q, `{}`) // the oldest: claimed below
	waiting := f.enqueue(t, q, `{}`)
	if _, err := models.ClaimRunItem(context.Background(), f.app.DB, q.ID, "agent-1", time.Minute); err != nil {
		t.Fatal(err)
	}
	heldPath := fmt.Sprintf("/api/v1/run-queue-items/%d/status", held.ID)
	users := map[string]*models.User{"admin": f.admin, "member": f.member, "viewer": f.viewer, "other": f.other}
	cases := []struct {
		as, method, path string
		body             any
		wantStatus       int
	}{
		{"member", "POST", "/api/v1/teams/ml/queues", map[string]string{"name": "new"}, 403},
		{"viewer", "POST", "/api/v1/teams/ml/queues", map[string]string{"name": "new"}, 403},
		{"other", "POST", "/api/v1/teams/ml/queues", map[string]string{"name": "new"}, 404},
		{"other", "GET", "/api/v1/teams/ml/queues", nil, 404},
		{"member", "DELETE", "/api/v1/teams/ml/queues/gpu", nil, 403},
		{"other", "GET", "/api/v1/teams/ml/queues/gpu/items", nil, 404},
		{"viewer", "POST", "/api/v1/teams/ml/queues/gpu/claim", map[string]string{"agent": "v"}, 403},
		{"other", "POST", "/api/v1/teams/ml/queues/gpu/claim", map[string]string{"agent": "o"}, 404},
		{"member", "POST", "/api/v1/teams/ml/queues/nope/claim", map[string]string{"agent": "m"}, 404},
		{"viewer", "POST", heldPath, map[string]string{"state": "failed", "agent": "agent-1"}, 403},
		{"other", "POST", heldPath, map[string]string{"state": "failed", "agent": "agent-1"}, 404},
		{"member", "POST", "/api/v1/run-queue-items/999999/status", map[string]string{"state": "failed", "agent": "agent-1"}, 404},
		{"member", "POST", "/api/v1/run-queue-items/x/status", map[string]string{"state": "failed", "agent": "agent-1"}, 404},
	}
	for _, c := range cases {
		t.Run(c.as+" "+c.method+" "+c.path, func(t *testing.T) {
			status, body := f.app.API(t, f.app.APIKey(t, users[c.as]), c.method, c.path, c.body)
			if status != c.wantStatus {
				t.Fatalf("status %d, want %d: %v", status, c.wantStatus, body)
			}
			if s, _ := body["error"].(string); s == "" {
				t.Fatalf("no error message in %v", body)
			}
		})
	}
	// Forms too.
	forms := []struct {
		as, path   string
		wantStatus int
	}{
		{"member@example.com", "/teams/ml/queues", 403},
		{"viewer@example.com", "/teams/ml/queues/gpu/delete", 403},
		{"other@example.com", "/teams/ml/queues", 404},
	}
	for _, c := range forms {
		t.Run("form "+c.as+" "+c.path, func(t *testing.T) {
			s := f.app.SignInHTTP(t, c.as)
			if status, body := s.PostForm(t, c.path, url.Values{"name": {"new"}}); status != c.wantStatus {
				t.Fatalf("status %d, want %d: %s", status, c.wantStatus, body)
			}
		})
	}
	qs, err := models.QueuesOf(context.Background(), f.app.DB, f.team.ID)
	if err != nil || len(qs) != 1 || qs[0].Name != "gpu" || qs[0].Queued != 1 || qs[0].Claimed != 1 {
		t.Fatalf("queues changed: %+v %v", qs, err)
	}
	if got := f.item(t, held.ID); got.State != models.RunClaimed || got.Agent != "agent-1" {
		t.Fatalf("claimed item changed: %+v", got)
	}
	if got := f.item(t, waiting.ID); got.State != models.RunQueued {
		t.Fatalf("queued item changed: %+v", got)
	}
}

// The agent API end to end: create a queue, claim, heartbeat, finish, and
// every bad input refused with the field named.
func TestAgentAPIClaimHeartbeatFinish(t *testing.T) {
	f := newTeamFixture(t)
	admin, member := f.app.APIKey(t, f.admin), f.app.APIKey(t, f.member)

	status, body := f.app.API(t, admin, "POST", "/api/v1/teams/ml/queues", map[string]string{"name": "gpu"})
	if status != 201 || body["name"] != "gpu" {
		t.Fatalf("create queue: %d %v", status, body)
	}
	for _, c := range []struct {
		body       any
		wantStatus int
		field      string
	}{
		{map[string]string{"name": "gpu"}, 409, "name"},
		{map[string]string{"name": "no spaces"}, 422, "name"},
		{map[string]string{"title": "gpu"}, 400, "title"},
	} {
		status, body := f.app.API(t, admin, "POST", "/api/v1/teams/ml/queues", c.body)
		if status != c.wantStatus || body["field"] != c.field {
			t.Errorf("create queue %v: %d %v, want %d on %s", c.body, status, body, c.wantStatus, c.field)
		}
	}
	q, err := models.QueueByName(context.Background(), f.app.DB, f.team.ID, "gpu")
	if err != nil {
		t.Fatal(err)
	}

	claimPath := "/api/v1/teams/ml/queues/gpu/claim"
	if status, raw := f.app.APIRaw(t, member, "POST", claimPath, map[string]string{"agent": "box-1"}); status != 204 || len(raw) != 0 {
		t.Fatalf("claim on an empty queue: %d %s", status, raw)
	}
	item := f.enqueue(t, q, `{"lr": 0.01, "epochs": 3}`)
	status, body = f.app.API(t, member, "POST", claimPath, map[string]string{"agent": "box-1"})
	if status != 200 || body["id"] != float64(item.ID) || body["job"] != "ml/proj/train" || body["job_version"] != "v3" ||
		body["destination_project"] != "ml/proj" || body["lease_until"] == nil || body["lease_seconds"] != float64(60) {
		t.Fatalf("claim: %d %v", status, body)
	}
	if cfg, ok := body["config"].(map[string]any); !ok || cfg["epochs"] != float64(3) {
		t.Fatalf("config is not the object: %v", body["config"])
	}
	if status, _ := f.app.APIRaw(t, member, "POST", claimPath, map[string]string{"agent": "box-2"}); status != 204 {
		t.Fatalf("second claim while leased: %d", status)
	}

	statusPath := fmt.Sprintf("/api/v1/run-queue-items/%d/status", item.ID)
	for _, c := range []struct {
		body       any
		wantStatus int
		field      string
	}{
		{map[string]any{"state": "done", "agent": "box-1"}, 422, "state"},
		{map[string]any{"state": "queued", "agent": "box-1"}, 422, "state"},
		{map[string]any{"state": "finished", "exit_code": 2, "agent": "box-1"}, 422, "exit_code"},
		{map[string]any{"state": "failed", "exit_code": "two", "agent": "box-1"}, 400, "exit_code"},
		{map[string]any{"state": "running", "agent": "box-2"}, 409, "agent"},
		// No agent: the API key's user's email, which did not claim it.
		{map[string]any{"state": "running"}, 409, "agent"},
		{`{"state": "running", "agent": "box-1"} {}`, 400, ""},
	} {
		status, body := f.app.API(t, member, "POST", statusPath, c.body)
		if status != c.wantStatus || (c.field != "" && body["field"] != c.field) || body["error"] == nil {
			t.Errorf("report %v: %d %v, want %d on %q", c.body, status, body, c.wantStatus, c.field)
		}
	}
	if got := f.item(t, item.ID); got.State != models.RunClaimed || got.StartedAt != nil {
		t.Fatalf("bad reports changed the item: %+v", got)
	}

	status, body = f.app.API(t, member, "POST", statusPath, map[string]any{"state": "running", "agent": "box-1", "message": "epoch 1"})
	if status != 200 || body["state"] != "running" || body["started_at"] == nil || body["message"] != "epoch 1" {
		t.Fatalf("heartbeat: %d %v", status, body)
	}
	status, body = f.app.API(t, member, "POST", statusPath, map[string]any{"state": "finished", "exit_code": 0, "agent": "box-1"})
	if status != 200 || body["state"] != "finished" || body["exit_code"] != float64(0) || body["finished_at"] == nil {
		t.Fatalf("finish: %d %v", status, body)
	}
	status, body = f.app.API(t, member, "POST", statusPath, map[string]any{"state": "failed", "agent": "box-1"})
	if status != 409 || body["field"] != "state" {
		t.Fatalf("report after the end: %d %v", status, body)
	}

	// An agent that does not name itself is the key's user, for claims and reports alike.
	second := f.enqueue(t, q, `{}`)
	status, body = f.app.API(t, member, "POST", claimPath, map[string]string{})
	if status != 200 || body["agent"] != "member@example.com" {
		t.Fatalf("anonymous claim: %d %v", status, body)
	}
	status, body = f.app.API(t, member, "POST", fmt.Sprintf("/api/v1/run-queue-items/%d/status", second.ID), map[string]any{"state": "failed", "exit_code": 137, "message": "killed"})
	if status != 200 || body["state"] != "failed" || body["exit_code"] != float64(137) {
		t.Fatalf("anonymous report: %d %v", status, body)
	}

	viewer := f.app.APIKey(t, f.viewer)
	status, body = f.app.API(t, viewer, "GET", "/api/v1/teams/ml/queues", nil)
	queues, _ := body["queues"].([]any)
	if status != 200 || len(queues) != 1 {
		t.Fatalf("list queues: %d %v", status, body)
	}
	counts := queues[0].(map[string]any)["counts"].(map[string]any)
	if counts["finished"] != float64(1) || counts["failed"] != float64(1) || counts["queued"] != float64(0) {
		t.Fatalf("counts %v", counts)
	}
	status, body = f.app.API(t, viewer, "GET", "/api/v1/teams/ml/queues/gpu/items", nil)
	items, _ := body["items"].([]any)
	if status != 200 || len(items) != 2 || items[1].(map[string]any)["state"] != "finished" || items[1].(map[string]any)["agent"] != "box-1" {
		t.Fatalf("items: %d %v", status, body)
	}

	// Deleting waits for live items.
	f.enqueue(t, q, `{}`)
	status, body = f.app.API(t, admin, "DELETE", "/api/v1/teams/ml/queues/gpu", nil)
	if status != 409 || !strings.Contains(fmt.Sprint(body["error"]), "1 item") {
		t.Fatalf("delete with a queued item: %d %v", status, body)
	}
	if status, body := f.app.API(t, admin, "DELETE", "/api/v1/teams/ml/queues/nope", nil); status != 404 || body["field"] != "queue" {
		t.Fatalf("delete unknown queue: %d %v", status, body)
	}
}

// Team Settings lists queues with counts; an admin creates and deletes them
// through the forms, with errors beside the field; the queue page lists items.
func TestQueueScreens(t *testing.T) {
	f := newTeamFixture(t)
	admin := f.app.SignInHTTP(t, "admin@example.com")

	status, body := admin.PostForm(t, "/teams/ml/queues", url.Values{"name": {"bad name"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, "is not a valid name") || !strings.Contains(body, `value="bad name"`) {
		t.Fatalf("bad queue name: %d", status)
	}
	if status, _ := admin.PostForm(t, "/teams/ml/queues", url.Values{"name": {"gpu"}}); status != http.StatusSeeOther {
		t.Fatalf("create queue: %d", status)
	}
	status, body = admin.PostForm(t, "/teams/ml/queues", url.Values{"name": {"gpu"}})
	if status != http.StatusConflict || !strings.Contains(body, "already has a queue named gpu") {
		t.Fatalf("duplicate queue: %d", status)
	}
	q, err := models.QueueByName(context.Background(), f.app.DB, f.team.ID, "gpu")
	if err != nil {
		t.Fatal(err)
	}
	item := f.enqueue(t, q, `{}`)
	_, body = admin.Get(t, "/teams/ml")
	if !strings.Contains(body, `data-testid="queue-gpu"`) || strings.Contains(body, `data-testid="delete-queue"`) || !strings.Contains(body, "in use") {
		t.Fatalf("team settings: no queue row, or a delete button for a queue in use")
	}
	status, _ = admin.PostForm(t, "/teams/ml/queues/gpu/delete", url.Values{})
	_, body = admin.Get(t, "/teams/ml")
	if status != http.StatusSeeOther || !strings.Contains(body, "still has 1 item") {
		t.Fatalf("delete refused: %d, no message", status)
	}

	viewer := f.app.SignInHTTP(t, "viewer@example.com")
	status, body = viewer.Get(t, "/teams/ml/queues/gpu")
	if status != 200 || !strings.Contains(body, fmt.Sprintf(`data-testid="item-%d"`, item.ID)) || !strings.Contains(body, "ml/proj/train") ||
		!strings.Contains(body, "--queue ml/gpu --url "+f.app.URL) {
		t.Fatalf("queue page: %d", status)
	}
	_, body = viewer.Get(t, "/teams/ml")
	if !strings.Contains(body, `data-testid="queue-gpu"`) || strings.Contains(body, `new-queue-form`) {
		t.Fatal("viewer sees no queue, or the admin form")
	}
	if status, _ := viewer.Get(t, "/teams/ml/queues/nope"); status != 404 {
		t.Fatalf("unknown queue page: %d", status)
	}
	if status, _ := f.app.SignInHTTP(t, "other@example.com").Get(t, "/teams/ml/queues/gpu"); status != 404 {
		t.Fatalf("outsider sees the queue page: %d", status)
	}

	code := 0
	if _, err := models.ClaimRunItem(context.Background(), f.app.DB, q.ID, "a", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := models.ReportRunItem(context.Background(), f.app.DB, item.ID, "a", models.RunFinished, &code, "", time.Minute); err != nil {
		t.Fatal(err)
	}
	_, body = admin.Get(t, "/teams/ml")
	if !strings.Contains(body, `data-testid="delete-queue"`) {
		t.Fatal("no delete button once every item ended")
	}
	if status, _ := admin.PostForm(t, "/teams/ml/queues/gpu/delete", url.Values{}); status != http.StatusSeeOther {
		t.Fatalf("delete: %d", status)
	}
	if _, err := models.QueueByName(context.Background(), f.app.DB, f.team.ID, "gpu"); err == nil {
		t.Fatal("queue not deleted")
	}
}
