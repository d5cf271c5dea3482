package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Queue is a team's launch queue: automations put run-queue items on it and
// agents poll it for work.
type Queue struct {
	ID        int64     `gorm:"column:id;primaryKey"`
	TeamID    int64     `gorm:"column:team_id"`
	Name      string    `gorm:"column:name"`
	CreatedBy *int64    `gorm:"column:created_by"`
	CreatedAt time.Time `gorm:"column:created_at"`
}

// TableName maps Queue to its table.
func (Queue) TableName() string { return "queues" }

// RunState is where a run-queue item is in its life:
// queued → claimed → running → finished | failed. A claimed or running item
// whose lease expires (its agent vanished) is claimed again like a queued one.
type RunState string

// Run-queue item states.
const (
	RunQueued   RunState = "queued"
	RunClaimed  RunState = "claimed"
	RunRunning  RunState = "running"
	RunFinished RunState = "finished"
	RunFailed   RunState = "failed"
)

// Final reports whether s is an end state.
func (s RunState) Final() bool { return s == RunFinished || s == RunFailed }

// Limits on what agents send.
const (
	MaxAgentName  = 200
	MaxRunMessage = 4000
	// RunItemListLimit caps the items a queue or automation page lists (newest first).
	RunItemListLimit = 200
)

// RunQueueItem is one launch job to run: which job version, with what
// config, into which project; and who holds it, until when, and how it ended.
type RunQueueItem struct {
	ID                 int64      `gorm:"column:id;primaryKey"`
	QueueID            int64      `gorm:"column:queue_id"`
	Job                string     `gorm:"column:job"`         // team/project/collection
	JobVersion         string     `gorm:"column:job_version"` // vN
	JobVersionID       *int64     `gorm:"column:job_version_id"`
	Config             string     `gorm:"column:config"` // a JSON object
	DestinationProject string     `gorm:"column:destination_project"`
	AutomationID       *int64     `gorm:"column:automation_id"`
	EventID            *int64     `gorm:"column:event_id"`
	DeliveryUID        *string    `gorm:"column:delivery_uid"`
	State              RunState   `gorm:"column:state"`
	Agent              string     `gorm:"column:agent"`
	LeaseUntil         *time.Time `gorm:"column:lease_until"`
	Claims             int        `gorm:"column:claims"`
	ExitCode           *int       `gorm:"column:exit_code"`
	Message            string     `gorm:"column:message"`
	CreatedAt          time.Time  `gorm:"column:created_at"`
	UpdatedAt          time.Time  `gorm:"column:updated_at"`
	StartedAt          *time.Time `gorm:"column:started_at"`
	FinishedAt         *time.Time `gorm:"column:finished_at"`
	// RunID is the run the agent started for the item (models/runs).
	RunID *int64 `gorm:"column:run_id"`
}

// TableName maps RunQueueItem to its table.
func (RunQueueItem) TableName() string { return "run_queue_items" }

// LeaseExpired reports whether the item's agent stopped renewing its lease:
// the next claim on the queue takes it.
func (i *RunQueueItem) LeaseExpired(now time.Time) bool {
	return (i.State == RunClaimed || i.State == RunRunning) && (i.LeaseUntil == nil || !i.LeaseUntil.After(now))
}

// CreateQueue creates a queue in team t.
func CreateQueue(ctx context.Context, db *gorm.DB, t *Team, name string, creator *User) (*Queue, error) {
	name = strings.TrimSpace(name)
	if err := ValidateName("name", name); err != nil {
		return nil, err
	}
	q := &Queue{TeamID: t.ID, Name: name, CreatedAt: time.Now().UTC()}
	if creator != nil {
		q.CreatedBy = &creator.ID
	}
	if err := db.WithContext(ctx).Create(q).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return nil, Conflict("name", "team %s already has a queue named %s", t.Name, name)
		}
		return nil, fmt.Errorf("create queue: %w", err)
	}
	return q, nil
}

// QueueByName loads a queue of a team.
func QueueByName(ctx context.Context, db *gorm.DB, teamID int64, name string) (*Queue, error) {
	var q Queue
	if err := db.WithContext(ctx).First(&q, "team_id = ? AND name = ?", teamID, name).Error; err != nil {
		return nil, notFound(err, "queue "+name)
	}
	return &q, nil
}

// QueueByID loads a queue.
func QueueByID(ctx context.Context, db *gorm.DB, id int64) (*Queue, error) {
	var q Queue
	if err := db.WithContext(ctx).First(&q, "id = ?", id).Error; err != nil {
		return nil, notFound(err, "queue")
	}
	return &q, nil
}

// QueueWithCounts is a queue and how many of its items are in each state.
type QueueWithCounts struct {
	Queue
	Queued   int64 `gorm:"column:queued"`
	Claimed  int64 `gorm:"column:claimed"`
	Running  int64 `gorm:"column:running"`
	Finished int64 `gorm:"column:finished"`
	Failed   int64 `gorm:"column:failed"`
}

// Active is how many items are waiting or held by an agent.
func (q QueueWithCounts) Active() int64 { return q.Queued + q.Claimed + q.Running }

// QueuesOf lists a team's queues by name with their item counts.
func QueuesOf(ctx context.Context, db *gorm.DB, teamID int64) ([]QueueWithCounts, error) {
	var out []QueueWithCounts
	err := db.WithContext(ctx).Table("queues AS q").
		Select(`q.id, q.team_id, q.name, q.created_by, q.created_at,
  SUM(CASE WHEN i.state = 'queued' THEN 1 ELSE 0 END) AS queued,
  SUM(CASE WHEN i.state = 'claimed' THEN 1 ELSE 0 END) AS claimed,
  SUM(CASE WHEN i.state = 'running' THEN 1 ELSE 0 END) AS running,
  SUM(CASE WHEN i.state = 'finished' THEN 1 ELSE 0 END) AS finished,
  SUM(CASE WHEN i.state = 'failed' THEN 1 ELSE 0 END) AS failed`).
		Joins("LEFT JOIN run_queue_items i ON i.queue_id = q.id").
		Where("q.team_id = ?", teamID).
		Group("q.id, q.team_id, q.name, q.created_by, q.created_at").
		Order("q.name").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list queues: %w", err)
	}
	return out, nil
}

// DeleteQueue deletes a queue and its item history, refused while any item
// is queued, claimed or running (an agent may be working on it). The queue
// row is locked first: on Postgres an item being enqueued meanwhile waits
// for the lock (its foreign key check) and then fails, so no live item is
// deleted with the queue; SQLite's write lock serialises the same way.
func DeleteQueue(ctx context.Context, db *gorm.DB, q *Queue) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var locked Queue
		if err := forUpdate(tx).First(&locked, "id = ?", q.ID).Error; err != nil {
			return notFound(err, "queue "+q.Name)
		}
		var active int64
		err := tx.Model(&RunQueueItem{}).
			Where("queue_id = ? AND state IN ?", q.ID, []string{string(RunQueued), string(RunClaimed), string(RunRunning)}).
			Count(&active).Error
		if err != nil {
			return fmt.Errorf("count queue items: %w", err)
		}
		if active > 0 {
			return Conflict("queue", "queue %s still has %d item(s) queued or running; delete it once they have finished or failed", q.Name, active)
		}
		if err := tx.Delete(&Queue{}, "id = ?", q.ID).Error; err != nil {
			return fmt.Errorf("delete queue: %w", err)
		}
		return nil
	})
}

// EnqueueRunItem puts item on its queue (state queued). It is idempotent
// on item.DeliveryUID: when an item with that uid exists, item is filled
// with the existing one and nothing new is written, so a retried delivery
// never runs a job twice. ON CONFLICT DO NOTHING (rather than catching the
// duplicate-key error) keeps a surrounding Postgres transaction usable.
func EnqueueRunItem(ctx context.Context, db *gorm.DB, item *RunQueueItem) error {
	if err := validateRunItem(item); err != nil {
		return err
	}
	now := time.Now().UTC()
	item.ID = 0
	item.State, item.Agent, item.LeaseUntil, item.Claims = RunQueued, "", nil, 0
	item.ExitCode, item.Message, item.StartedAt, item.FinishedAt = nil, "", nil, nil
	item.CreatedAt, item.UpdatedAt = now, now
	res := db.WithContext(ctx).
		Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "delivery_uid"}}, DoNothing: true}).
		Create(item)
	if errors.Is(res.Error, gorm.ErrForeignKeyViolated) {
		return fmt.Errorf("enqueue run item: queue %d: %w", item.QueueID, ErrNotFound)
	}
	if res.Error != nil {
		return fmt.Errorf("enqueue run item: %w", res.Error)
	}
	if res.RowsAffected == 0 && item.DeliveryUID != nil {
		uid := *item.DeliveryUID
		*item = RunQueueItem{}
		if err := db.WithContext(ctx).First(item, "delivery_uid = ?", uid).Error; err != nil {
			return notFound(err, "run item of delivery "+uid)
		}
	}
	return nil
}

func validateRunItem(item *RunQueueItem) error {
	if item.QueueID == 0 {
		return Invalid("queue", "is required")
	}
	if strings.TrimSpace(item.Job) == "" {
		return Invalid("job", "is required: team/project/collection")
	}
	if strings.TrimSpace(item.JobVersion) == "" {
		return Invalid("job_version", "is required, e.g. v3")
	}
	if strings.TrimSpace(item.DestinationProject) == "" {
		return Invalid("destination_project", "is required: team/project")
	}
	if item.Config == "" {
		item.Config = "{}"
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(item.Config), &obj); err != nil || obj == nil {
		return Invalid("config", "must be a JSON object")
	}
	return nil
}

func validateAgent(agent string) error {
	if strings.TrimSpace(agent) == "" {
		return Invalid("agent", "is required: a name for the agent, e.g. its host")
	}
	if len(agent) > MaxAgentName {
		return Invalid("agent", "must be at most %d characters", MaxAgentName)
	}
	return nil
}

// ClaimRunItem leases the oldest claimable item of a queue to agent: a
// queued one, or one whose lease expired while claimed or running (its
// agent vanished, so the item goes back to work). It returns nil, nil when
// there is nothing to do. One statement, safe with many agents: on Postgres
// the inner SELECT … FOR UPDATE SKIP LOCKED hands each row to one claimer
// (a row another claimer just took is re-checked against the WHERE and
// skipped); on SQLite the UPDATE runs under the database's single write lock.
func ClaimRunItem(ctx context.Context, db *gorm.DB, queueID int64, agent string, lease time.Duration) (*RunQueueItem, error) {
	if err := validateAgent(agent); err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	lock := ""
	if Dialect(db) == "postgres" {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	// SET expressions read the row's old values: the message says whose lease expired.
	q := `UPDATE run_queue_items SET
  message = CASE WHEN state = 'queued' THEN '' ELSE 'claimed again: the lease of agent ' || agent || ' expired' END,
  state = 'claimed', agent = ?, lease_until = ?, claims = claims + 1,
  exit_code = NULL, started_at = NULL, updated_at = ?
WHERE id IN (
  SELECT id FROM run_queue_items
  WHERE queue_id = ? AND (state = 'queued' OR (state IN ('claimed', 'running') AND lease_until < ?))
  ORDER BY id LIMIT 1` + lock + `)
RETURNING *`
	var out []RunQueueItem
	if err := db.WithContext(ctx).Raw(q, agent, now.Add(lease), now, queueID, now).Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("claim run item: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return &out[0], nil
}

// ReportRunItem records what agent says about an item it holds: running
// (also the heartbeat: the lease is extended by lease), finished (exit code
// 0) or failed (with its exit code, if any). finished and failed are final.
// A report from an agent that no longer holds the item (its lease expired
// and another agent claimed it) is a conflict and changes nothing; a late
// report from the holder whose lease expired but that nobody took yet is
// accepted. The row is locked so a report and a claim cannot interleave.
func ReportRunItem(ctx context.Context, db *gorm.DB, id int64, agent string, state RunState, exitCode *int, message string, lease time.Duration) (*RunQueueItem, error) {
	switch state {
	case RunRunning, RunFinished, RunFailed:
	default:
		return nil, Invalid("state", "%q is not a state an agent reports: use running, finished or failed", Excerpt(string(state)))
	}
	if state == RunFinished {
		if exitCode != nil && *exitCode != 0 {
			return nil, Invalid("exit_code", "finished means exit code 0; report failed for exit code %d", *exitCode)
		}
		zero := 0
		exitCode = &zero
	}
	if len(message) > MaxRunMessage {
		return nil, Invalid("message", "must be at most %d characters", MaxRunMessage)
	}
	if err := validateAgent(agent); err != nil {
		return nil, err
	}
	var item RunQueueItem
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := forUpdate(tx).First(&item, "id = ?", id).Error; err != nil {
			return notFound(err, "run-queue item")
		}
		if err := checkHolder(&item, agent); err != nil {
			return err
		}
		// Microseconds: what Postgres stores, so the returned item equals the row.
		now := time.Now().UTC().Truncate(time.Microsecond)
		updates := map[string]any{"state": string(state), "updated_at": now}
		if state == RunRunning {
			until := now.Add(lease)
			updates["lease_until"] = until
			item.LeaseUntil = &until
			if item.StartedAt == nil {
				updates["started_at"] = now
				item.StartedAt = &now
			}
			if message != "" {
				updates["message"] = message
				item.Message = message
			}
		} else {
			updates["lease_until"] = nil
			updates["exit_code"] = exitCode
			updates["message"] = message
			updates["finished_at"] = now
			item.LeaseUntil, item.ExitCode, item.Message, item.FinishedAt = nil, exitCode, message, &now
		}
		if err := tx.Model(&RunQueueItem{}).Where("id = ?", id).Updates(updates).Error; err != nil {
			return fmt.Errorf("update run item %d: %w", id, err)
		}
		item.State, item.UpdatedAt = state, now
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &item, nil
}

// checkHolder refuses a report about an item agent does not hold.
func checkHolder(item *RunQueueItem, agent string) error {
	switch {
	case item.State.Final():
		return Conflict("state", "item %d is already %s", item.ID, item.State)
	case item.State == RunQueued:
		return Conflict("agent", "item %d is not claimed: claim it first (a lease that expired puts it back in the queue)", item.ID)
	case item.Agent != agent:
		return Conflict("agent", "item %d is held by another agent: the lease of %q expired and it was claimed again", item.ID, agent)
	}
	return nil
}

// RunItemByID loads a run-queue item.
func RunItemByID(ctx context.Context, db *gorm.DB, id int64) (*RunQueueItem, error) {
	var item RunQueueItem
	if err := db.WithContext(ctx).First(&item, "id = ?", id).Error; err != nil {
		return nil, notFound(err, "run-queue item")
	}
	return &item, nil
}

// RunItemsOfQueue lists a queue's newest items (at most RunItemListLimit).
func RunItemsOfQueue(ctx context.Context, db *gorm.DB, queueID int64) ([]RunQueueItem, error) {
	var out []RunQueueItem
	err := db.WithContext(ctx).Where("queue_id = ?", queueID).Order("id DESC").Limit(RunItemListLimit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list queue items: %w", err)
	}
	return out, nil
}

// RunItemWithQueue is a run-queue item and the name of its queue.
type RunItemWithQueue struct {
	RunQueueItem
	QueueName string `gorm:"column:queue_name"`
}

// RunItemsOfAutomation lists the newest items an automation created (at
// most RunItemListLimit), with their queue's name.
func RunItemsOfAutomation(ctx context.Context, db *gorm.DB, automationID int64) ([]RunItemWithQueue, error) {
	var out []RunItemWithQueue
	err := db.WithContext(ctx).Table("run_queue_items AS i").Select("i.*, q.name AS queue_name").
		Joins("JOIN queues q ON q.id = i.queue_id").
		Where("i.automation_id = ?", automationID).
		Order("i.id DESC").Limit(RunItemListLimit).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list automation run items: %w", err)
	}
	return out, nil
}
