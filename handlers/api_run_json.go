package handlers

import (
	"encoding/json"
	"time"

	"github.com/automations-dev/automations/models/runs"
)

// runJSON is a run as the API returns it.
type runJSON struct {
	ID          int64           `json:"id"`
	Name        string          `json:"name"`
	DisplayName string          `json:"display_name"`
	URL         string          `json:"url"`
	Entity      string          `json:"entity"`
	Project     string          `json:"project"`
	State       string          `json:"state"`
	User        string          `json:"user"`
	Config      json.RawMessage `json:"config"`
	Tags        []string        `json:"tags"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
	HeartbeatAt time.Time       `json:"heartbeat_at"`
	// Token is shown once, when the run is created: it lets a job log this
	// run's history and heartbeats (Authorization: Bearer <token>).
	Token string `json:"token,omitempty"`
	// LastMetrics is, in the list when ?metrics= asks, each chosen
	// metric's newest value: a map of name to lastMetricJSON (empty when
	// the run logged none of them).
	LastMetrics any `json:"last_metrics,omitempty"`
}

// lastMetricJSON is a run's newest value of a metric and its step.
type lastMetricJSON struct {
	Value float64 `json:"value"`
	Step  int64   `json:"step"`
}

func (h *Handler) runJSON(r *runs.Run, team, project, user string) runJSON {
	return runJSON{
		ID: r.ID, Name: r.Name, DisplayName: r.DisplayName, URL: h.runEnv().RunURL(team, project, r.ID),
		Entity: team, Project: project, State: r.State, User: user, Config: json.RawMessage(r.Config),
		Tags: r.TagList(), CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, HeartbeatAt: r.HeartbeatAt,
	}
}
