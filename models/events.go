package models

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models/payload"
)

// Scope kinds of an event: where the mutation happened.
const (
	ScopeKindProject  = "project"
	ScopeKindRegistry = "registry"
)

// Event is one artifact mutation that can trigger automations (DESIGN.md
// §4, §5). It is written by RecordEvent in the mutation's own transaction,
// so it exists exactly when the change does.
type Event struct {
	ID           int64  `gorm:"column:id;primaryKey"`
	Type         string `gorm:"column:type"`
	ScopeKind    string `gorm:"column:scope_kind"`
	ProjectID    *int64 `gorm:"column:project_id"`
	RegistryID   *int64 `gorm:"column:registry_id"`
	CollectionID int64  `gorm:"column:collection_id"`
	VersionID    int64  `gorm:"column:version_id"`
	AuthorID     *int64 `gorm:"column:author_id"`
	// RunID is the run of a run event (CollectionID and VersionID are 0).
	RunID   *int64 `gorm:"column:run_id"`
	Payload string `gorm:"column:payload"`
	// Alias is Vars.Alias kept in its own column (dry runs match on it).
	Alias     string    `gorm:"column:alias"`
	CreatedAt time.Time `gorm:"column:created_at"`
	// Vars is the snapshot stored in Payload.
	Vars EventVars `gorm:"-"`
}

// TableName maps Event to its table.
func (Event) TableName() string { return "events" }

// EventVars is the snapshot of every payload variable of DESIGN.md §6 at
// the moment of the event (automation_name is added per automation).
type EventVars struct {
	EntityName             string          `json:"entity_name"`
	ProjectName            string          `json:"project_name"`
	ArtifactCollectionName string          `json:"artifact_collection_name"`
	ArtifactVersion        string          `json:"artifact_version"`
	ArtifactVersionString  string          `json:"artifact_version_string"`
	ArtifactVersionIndex   int             `json:"artifact_version_index"`
	ArtifactMetadata       json.RawMessage `json:"artifact_metadata"`
	EventAuthor            string          `json:"event_author"`
	EventType              string          `json:"event_type"`
	Alias                  string          `json:"alias,omitempty"`

	// Run events (DESIGN.md §14).
	RunID           string          `json:"run_id,omitempty"`
	RunName         string          `json:"run_name,omitempty"`
	RunURL          string          `json:"run_url,omitempty"`
	RunState        string          `json:"run_state,omitempty"`
	RunUser         string          `json:"run_user,omitempty"`
	RunConfig       json.RawMessage `json:"run_config,omitempty"`
	MetricName      string          `json:"metric_name,omitempty"`
	MetricValue     string          `json:"metric_value,omitempty"`
	MetricThreshold string          `json:"metric_threshold,omitempty"`
	MetricStep      string          `json:"metric_step,omitempty"`
}

// snapshot sets ev's payload and alias from its Vars, and its time if unset.
func (ev *Event) snapshot() error {
	raw, err := json.Marshal(ev.Vars)
	if err != nil {
		return fmt.Errorf("encode event payload: %w", err)
	}
	ev.Payload, ev.Alias = string(raw), ev.Vars.Alias
	if ev.CreatedAt.IsZero() {
		ev.CreatedAt = time.Now().UTC()
	}
	return nil
}

// RecordEvent writes ev (its Vars as the payload snapshot) in tx, which must
// be the transaction of the mutation the event describes.
func RecordEvent(tx *gorm.DB, ev *Event) error {
	if err := ev.snapshot(); err != nil {
		return err
	}
	q := tx
	if ev.RunID != nil {
		q = tx.Omit("collection_id", "version_id") // NULL: a run event has no artifact
	}
	if err := q.Create(ev).Error; err != nil {
		return fmt.Errorf("record %s event: %w", ev.Type, err)
	}
	countEvent(tx, ev.Type)
	return nil
}

// MatchTarget is what automation matching needs to know about ev.
func (ev *Event) MatchTarget() MatchTarget {
	return MatchTarget{
		Type: ev.Type, ProjectID: ev.ProjectID, RegistryID: ev.RegistryID,
		CollectionID: ev.CollectionID, Alias: ev.Vars.Alias, Subject: VersionSubject(ev.VersionID),
	}
}

// VersionSubject is what dedupe counts once for artifact events: the version.
func VersionSubject(versionID int64) string { return "version:" + strconv.FormatInt(versionID, 10) }

// PayloadVars converts the snapshot into the payload renderer's variables.
func (ev *Event) PayloadVars(automationName string) payload.Vars {
	v := ev.Vars
	var meta, runConfig map[string]json.RawMessage
	_ = json.Unmarshal(v.ArtifactMetadata, &meta) // stored metadata is always an object
	_ = json.Unmarshal(v.RunConfig, &runConfig)   // so is a run's config
	return payload.Vars{
		RunID: v.RunID, RunName: v.RunName, RunURL: v.RunURL, RunState: v.RunState, RunUser: v.RunUser,
		RunConfig: runConfig, MetricName: v.MetricName, MetricValue: v.MetricValue,
		MetricThreshold: v.MetricThreshold, MetricStep: v.MetricStep,
		EntityName: v.EntityName, ProjectName: v.ProjectName, EventType: v.EventType,
		EventAuthor: v.EventAuthor, ArtifactCollectionName: v.ArtifactCollectionName,
		ArtifactVersion: v.ArtifactVersion, ArtifactVersionString: v.ArtifactVersionString,
		ArtifactVersionIndex: v.ArtifactVersionIndex, AutomationName: automationName,
		Alias: v.Alias, ArtifactMetadata: meta,
	}
}

// ArtifactVersionRef is ${artifact_version}: "wandb-artifact://_id/" and
// the base64 of "Artifact:<id>".
func ArtifactVersionRef(versionID int64) string {
	return "wandb-artifact://_id/" + base64.StdEncoding.EncodeToString([]byte("Artifact:"+strconv.FormatInt(versionID, 10)))
}

// EventsOf lists the newest events of a project or registry (scopeKind),
// their snapshots decoded.
func EventsOf(ctx context.Context, db *gorm.DB, scopeKind string, scopeID int64, limit int) ([]Event, error) {
	col := "project_id"
	if scopeKind == ScopeKindRegistry {
		col = "registry_id"
	}
	var out []Event
	// Artifact events only: run events are listed on their run's page.
	if err := db.WithContext(ctx).Where(col+" = ? AND run_id IS NULL", scopeID).Order("id DESC").Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	for i := range out {
		if err := json.Unmarshal([]byte(out[i].Payload), &out[i].Vars); err != nil {
			return nil, fmt.Errorf("decode event %d: %w", out[i].ID, err)
		}
	}
	return out, nil
}

// EventByID loads one event with its snapshot decoded.
func EventByID(ctx context.Context, db *gorm.DB, id int64) (*Event, error) {
	var ev Event
	if err := db.WithContext(ctx).First(&ev, "id = ?", id).Error; err != nil {
		return nil, notFound(err, fmt.Sprintf("event %d", id))
	}
	if err := json.Unmarshal([]byte(ev.Payload), &ev.Vars); err != nil {
		return nil, fmt.Errorf("decode event %d: %w", ev.ID, err)
	}
	return &ev, nil
}
