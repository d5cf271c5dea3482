package handlers

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/runs"
)

type queueCountsJSON struct {
	Queued   int64 `json:"queued"`
	Claimed  int64 `json:"claimed"`
	Running  int64 `json:"running"`
	Finished int64 `json:"finished"`
	Failed   int64 `json:"failed"`
}

type queueJSON struct {
	ID        int64           `json:"id"`
	Name      string          `json:"name"`
	CreatedAt time.Time       `json:"created_at"`
	Counts    queueCountsJSON `json:"counts"`
}

type runItemJSON struct {
	ID                 int64           `json:"id"`
	Queue              string          `json:"queue"`
	Job                string          `json:"job"`
	JobVersion         string          `json:"job_version"`
	Config             json.RawMessage `json:"config"`
	DestinationProject string          `json:"destination_project"`
	AutomationID       *int64          `json:"automation_id"`
	EventID            *int64          `json:"event_id"`
	State              models.RunState `json:"state"`
	Agent              string          `json:"agent"`
	LeaseUntil         *time.Time      `json:"lease_until"`
	Claims             int             `json:"claims"`
	ExitCode           *int            `json:"exit_code"`
	Message            string          `json:"message"`
	CreatedAt          time.Time       `json:"created_at"`
	UpdatedAt          time.Time       `json:"updated_at"`
	StartedAt          *time.Time      `json:"started_at"`
	FinishedAt         *time.Time      `json:"finished_at"`
	RunID              *int64          `json:"run_id,omitempty"`
}

func newRunItemJSON(i *models.RunQueueItem, queue string) runItemJSON {
	return runItemJSON{
		ID: i.ID, Queue: queue, Job: i.Job, JobVersion: i.JobVersion, Config: json.RawMessage(i.Config),
		DestinationProject: i.DestinationProject, AutomationID: i.AutomationID, EventID: i.EventID,
		State: i.State, Agent: i.Agent, LeaseUntil: i.LeaseUntil, Claims: i.Claims, ExitCode: i.ExitCode,
		Message: i.Message, CreatedAt: i.CreatedAt, UpdatedAt: i.UpdatedAt, StartedAt: i.StartedAt, FinishedAt: i.FinishedAt,
		RunID: i.RunID,
	}
}

// teamQueue loads the :queue of the route's team.
func (h *Handler) teamQueue(c echo.Context) (*models.Queue, error) {
	t := currentTeam(c)
	q, err := models.QueueByName(c.Request().Context(), h.db, t.ID, c.Param("queue"))
	if errors.Is(err, models.ErrNotFound) {
		return nil, newError(http.StatusNotFound, "queue", "team "+t.Name+" has no queue named "+c.Param("queue"))
	}
	return q, err
}

// agentName is who claims and reports, one rule for both routes: the
// body's "agent" when given, else the API key's user's email. An agent that
// names itself when claiming must send the same name with its reports.
func agentName(c echo.Context, given string) string {
	if name := strings.TrimSpace(given); name != "" {
		return name
	}
	return CurrentUser(c).Email
}

// APIQueuesList is GET /api/v1/teams/:team/queues: queues with item counts.
func (h *Handler) APIQueuesList(c echo.Context) error {
	qs, err := models.QueuesOf(c.Request().Context(), h.db, currentTeam(c).ID)
	if err != nil {
		return err
	}
	out := make([]queueJSON, len(qs))
	for i, q := range qs {
		out[i] = queueJSON{ID: q.ID, Name: q.Name, CreatedAt: q.CreatedAt, Counts: queueCountsJSON{
			Queued: q.Queued, Claimed: q.Claimed, Running: q.Running, Finished: q.Finished, Failed: q.Failed,
		}}
	}
	return c.JSON(http.StatusOK, map[string]any{"queues": out})
}

// APIQueueCreate is POST /api/v1/teams/:team/queues {name} (team admins).
func (h *Handler) APIQueueCreate(c echo.Context) error {
	var body struct {
		Name string `json:"name"`
	}
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	q, err := h.createQueue(c, currentTeam(c), body.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, queueJSON{ID: q.ID, Name: q.Name, CreatedAt: q.CreatedAt})
}

// APIQueueDelete is DELETE /api/v1/teams/:team/queues/:queue (team admins);
// 409 while items are queued or running.
func (h *Handler) APIQueueDelete(c echo.Context) error {
	q, err := h.teamQueue(c)
	if err != nil {
		return err
	}
	if err := h.deleteQueue(c, currentTeam(c), q); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// APIQueueItems is GET /api/v1/teams/:team/queues/:queue/items, newest first.
func (h *Handler) APIQueueItems(c echo.Context) error {
	q, err := h.teamQueue(c)
	if err != nil {
		return err
	}
	items, err := models.RunItemsOfQueue(c.Request().Context(), h.db, q.ID)
	if err != nil {
		return err
	}
	out := make([]runItemJSON, len(items))
	for i := range items {
		out[i] = newRunItemJSON(&items[i], q.Name)
	}
	return c.JSON(http.StatusOK, map[string]any{"items": out})
}

// APIQueueClaim is POST /api/v1/teams/:team/queues/:queue/claim {agent}
// (members): 200 with the next item, leased to the agent, or 204 when
// there is none. lease_seconds tells the agent how often to heartbeat.
func (h *Handler) APIQueueClaim(c echo.Context) error {
	q, err := h.teamQueue(c)
	if err != nil {
		return err
	}
	var body struct {
		Agent string `json:"agent"`
	}
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	item, err := models.ClaimRunItem(c.Request().Context(), h.db, q.ID, agentName(c, body.Agent), h.lease)
	if err != nil {
		return err
	}
	if item == nil {
		return c.NoContent(http.StatusNoContent)
	}
	return c.JSON(http.StatusOK, map[string]any{
		"id": item.ID, "job": item.Job, "job_version": item.JobVersion, "config": json.RawMessage(item.Config),
		"destination_project": item.DestinationProject, "lease_until": item.LeaseUntil,
		"lease_seconds": h.lease.Seconds(), "agent": item.Agent,
	})
}

// APIRunItemStatus is POST /api/v1/run-queue-items/:id/status
// {state: running|finished|failed, exit_code, message, agent}: the agent
// holding the item reports on it; running is also the heartbeat. Members of
// the queue's team only; others get 404 (viewers 403).
func (h *Handler) APIRunItemStatus(c echo.Context) error {
	ctx := c.Request().Context()
	notFound := newError(http.StatusNotFound, "", "No such run-queue item, or you are not a member of its team.")
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return notFound
	}
	item, err := models.RunItemByID(ctx, h.db, id)
	if errors.Is(err, models.ErrNotFound) {
		return notFound
	}
	if err != nil {
		return err
	}
	q, err := models.QueueByID(ctx, h.db, item.QueueID)
	if err != nil {
		return err
	}
	u := CurrentUser(c)
	role, err := models.TeamRole(ctx, h.db, q.TeamID, u.ID)
	if err != nil {
		return err
	}
	if !models.CanView(u, role) {
		return notFound
	}
	if !models.CanWrite(u, role) {
		return Forbidden()
	}
	var body struct {
		State    string `json:"state"`
		ExitCode *int   `json:"exit_code"`
		Message  string `json:"message"`
		Agent    string `json:"agent"`
		// RunID is the run the agent started for the item (DESIGN.md §14).
		RunID *int64 `json:"run_id"`
	}
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	if body.RunID != nil && (item.RunID == nil || *item.RunID != *body.RunID) {
		if err := runs.LinkItem(ctx, h.db, item, *body.RunID, u); err != nil {
			return err
		}
	}
	updated, err := models.ReportRunItem(ctx, h.db, id, agentName(c, body.Agent), models.RunState(body.State), body.ExitCode, body.Message, h.lease)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newRunItemJSON(updated, q.Name))
}
