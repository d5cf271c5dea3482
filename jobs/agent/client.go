package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Item is a claimed run-queue item as the claim route returns it.
type Item struct {
	ID                 int64           `json:"id"`
	Job                string          `json:"job"`
	JobVersion         string          `json:"job_version"`
	Config             json.RawMessage `json:"config"`
	DestinationProject string          `json:"destination_project"`
	LeaseUntil         time.Time       `json:"lease_until"`
	// LeaseSeconds is the lease the server grants per claim or heartbeat.
	LeaseSeconds float64 `json:"lease_seconds"`
}

// Report is what the agent says about an item it holds.
type Report struct {
	State    string `json:"state"` // running, finished or failed
	ExitCode *int   `json:"exit_code,omitempty"`
	Message  string `json:"message,omitempty"`
	Agent    string `json:"agent"`
	RunID    *int64 `json:"run_id,omitempty"` // the run started for the item
}

// APIError is an answer other than success from the server.
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("server answered %d: %s", e.Status, e.Message)
}

// statusOf is the HTTP status of an APIError, 0 for network errors.
func statusOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// retryable reports whether trying the same request again may succeed:
// network errors, rate limits and server errors; not a refusal.
func retryable(err error) bool {
	s := statusOf(err)
	return s == 0 || s == http.StatusTooManyRequests || s >= 500
}

// client speaks the agent API (DESIGN.md §11) with an API key.
type client struct {
	base string
	key  string
	http *http.Client
}

// claim asks for the next item of team/queue; nil, nil when there is none.
func (c *client) claim(ctx context.Context, team, queue, agent string) (*Item, error) {
	path := "/api/v1/teams/" + url.PathEscape(team) + "/queues/" + url.PathEscape(queue) + "/claim"
	var item Item
	status, err := c.post(ctx, path, map[string]string{"agent": agent}, &item)
	if err != nil {
		return nil, err
	}
	if status == http.StatusNoContent {
		return nil, nil
	}
	return &item, nil
}

// report sends a status report about item id.
func (c *client) report(ctx context.Context, id int64, r Report) error {
	_, err := c.post(ctx, "/api/v1/run-queue-items/"+strconv.FormatInt(id, 10)+"/status", r, nil)
	return err
}

func (c *client) post(ctx context.Context, path string, body, out any) (int, error) {
	return c.do(ctx, http.MethodPost, path, body, out)
}

func (c *client) do(ctx context.Context, method, path string, body, out any) (int, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return 0, fmt.Errorf("encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(raw))
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, fmt.Errorf("read answer of %s %s: %w", method, path, err)
	}
	switch {
	case resp.StatusCode == http.StatusNoContent:
		return resp.StatusCode, nil
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		if out != nil {
			if err := json.Unmarshal(data, out); err != nil {
				return 0, fmt.Errorf("decode answer of %s %s: %w", method, path, err)
			}
		}
		return resp.StatusCode, nil
	}
	var e struct {
		Error string `json:"error"`
	}
	msg := strings.TrimSpace(string(data))
	if json.Unmarshal(data, &e) == nil && e.Error != "" {
		msg = e.Error
	}
	if len(msg) > 300 {
		msg = msg[:300]
	}
	return resp.StatusCode, &APIError{Status: resp.StatusCode, Message: msg}
}
