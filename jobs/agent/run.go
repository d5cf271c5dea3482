package agent

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// JobRun is the run the agent starts in the item's destination project
// (DESIGN.md §14), so the job's result is a run event and the job can log
// history with the run's token.
type JobRun struct {
	ID    int64  `json:"id"`
	URL   string `json:"url"`
	Token string `json:"token"`
}

// startRun creates the item's run; the display name says which job and item.
func (c *client) startRun(ctx context.Context, item *Item) (*JobRun, error) {
	team, project, ok := strings.Cut(item.DestinationProject, "/")
	if !ok {
		return nil, errors.New("the item has no destination project team/project")
	}
	body := map[string]any{
		"display_name": item.Job + ":" + item.JobVersion + " (item " + strconv.FormatInt(item.ID, 10) + ")",
		"tags":         []string{"launch"},
	}
	if len(item.Config) > 0 {
		body["config"] = item.Config
	}
	var r JobRun
	if _, err := c.post(ctx, "/api/v1/projects/"+url.PathEscape(team)+"/"+url.PathEscape(project)+"/runs", body, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// endRun marks the run finished or failed; a run already ended (the job
// set its state itself) is left as it is.
func (c *client) endRun(ctx context.Context, id int64, state string) error {
	_, err := c.do(ctx, "PATCH", "/api/v1/runs/"+strconv.FormatInt(id, 10), map[string]string{"state": state}, nil)
	if statusOf(err) == 409 {
		return nil
	}
	return err
}

// runHeartbeat keeps the run from being marked crashed while the job runs.
func (c *client) runHeartbeat(ctx context.Context, id int64) error {
	_, err := c.post(ctx, "/api/v1/runs/"+strconv.FormatInt(id, 10)+"/heartbeat", map[string]string{}, nil)
	if statusOf(err) == 409 {
		return nil // the job ended its run itself
	}
	return err
}
