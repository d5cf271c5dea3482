package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"

	"gorm.io/gorm"
)

// SlackActionConfig is a Slack action's automations.action_config: the
// team's Slack integration (workspace and channel) to post to.
type SlackActionConfig struct {
	IntegrationID int64  `json:"integration_id"`
	Channel       string `json:"channel"`
}

// LaunchActionConfig is a launch action's automations.action_config: which
// job version to run, with which overrides, where, on which queue.
type LaunchActionConfig struct {
	QueueID         int64  `json:"queue_id"`
	Queue           string `json:"queue"`
	Job             string `json:"job"` // team/project/collection
	JobCollectionID int64  `json:"job_collection_id"`
	// JobVersion is "latest", "vN" or an alias, resolved when the action runs.
	JobVersion         string          `json:"job_version"`
	Overrides          json.RawMessage `json:"overrides"`
	DestinationProject string          `json:"destination_project"` // team/project
}

// ParseLaunchActionConfig decodes a launch action's configuration; a bad
// one is a *ValidationError (no retry can fix it).
func ParseLaunchActionConfig(raw string) (LaunchActionConfig, error) {
	var c LaunchActionConfig
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return c, Invalid("action", "launch configuration is not valid JSON")
	}
	return c, nil
}

// validateActionConfig checks the stored configuration of a Slack or
// launch action; handlers resolve names to ids before.
func validateActionConfig(actionType, raw string) error {
	switch actionType {
	case ActionSlack:
		if _, err := ParseSlackActionConfig(raw); err != nil {
			return Invalid("action.channel", "choose a Slack channel the team has connected")
		}
	case ActionLaunch:
		c, err := ParseLaunchActionConfig(raw)
		if err != nil {
			return err
		}
		switch {
		case c.QueueID == 0:
			return Invalid("action.queue", "choose a launch queue of the team")
		case c.JobCollectionID == 0:
			return Invalid("action.job", "name the job as team/project/collection")
		case strings.TrimSpace(c.JobVersion) == "":
			return Invalid("action.job_version", "is required: latest, vN or an alias")
		case c.DestinationProject == "":
			return Invalid("action.destination_project", "name the project as team/project")
		}
		if _, err := OverridesObject(c.Overrides); err != nil {
			return err
		}
	}
	return nil
}

// OverridesObject decodes a launch action's hyperparameter overrides: a
// JSON object (empty when absent).
func OverridesObject(raw json.RawMessage) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	if len(raw) == 0 || string(raw) == "null" {
		return out, nil
	}
	if err := json.Unmarshal(raw, &out); err != nil || out == nil {
		return nil, Invalid("action.overrides", "must be a JSON object of hyperparameters, e.g. {\"lr\": 0.01}")
	}
	return out, nil
}

// JobConfig is what a launch runs with: the job version's metadata
// "config" object with the overrides merged over it (top-level keys).
func JobConfig(v *ArtifactVersion, overrides json.RawMessage) (string, error) {
	var meta struct {
		Config map[string]json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal([]byte(v.Metadata), &meta); err != nil {
		return "", fmt.Errorf("job version %s metadata: %w", v.Version(), err)
	}
	cfg := meta.Config
	if cfg == nil {
		cfg = map[string]json.RawMessage{}
	}
	over, err := OverridesObject(overrides)
	if err != nil {
		return "", err
	}
	maps.Copy(cfg, over)
	out, err := json.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("encode job config: %w", err)
	}
	return string(out), nil
}

// LaunchFromDelivery creates the run-queue item a launch delivery asks for
// (c is its parsed action configuration).
// It is idempotent on the delivery's uid, so a retried attempt never queues
// the job twice.
func LaunchFromDelivery(ctx context.Context, db *gorm.DB, d *Delivery, c LaunchActionConfig) (*RunQueueItem, error) {
	v, err := ResolveVersion(ctx, db, c.JobCollectionID, c.JobVersion)
	if err != nil {
		return nil, fmt.Errorf("job %s:%s: %w", c.Job, c.JobVersion, err)
	}
	cfg, err := JobConfig(v, c.Overrides)
	if err != nil {
		return nil, err
	}
	uid, eventID := d.UID, d.EventID
	item := &RunQueueItem{
		QueueID: c.QueueID, Job: c.Job, JobVersion: v.Version(), JobVersionID: &v.ID, Config: cfg,
		DestinationProject: c.DestinationProject, AutomationID: d.AutomationID, EventID: &eventID, DeliveryUID: &uid,
	}
	if err := EnqueueRunItem(ctx, db, item); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("queue %s was deleted: %w", c.Queue, err)
		}
		return nil, err
	}
	return item, nil
}
