package runs

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/runcond"
)

// terminal states end a run for good; crashed does not (a run that comes
// back with a heartbeat or history is running again).
func terminal(state string) bool {
	return state == runcond.StateFinished || state == runcond.StateFailed || state == runcond.StateKilled
}

// lockRun reads the run under a row lock, so concurrent state changes and
// history batches of one run take turns (windows and cooldowns see each
// other's rows).
func lockRun(tx *gorm.DB, id int64) (*Run, error) {
	var r Run
	if err := models.ForUpdate(tx).First(&r, "id = ?", id).Error; err != nil {
		return nil, fmt.Errorf("lock run %d: %w", id, err)
	}
	return &r, nil
}

// SetState moves a run to state (finished, failed, crashed or killed),
// firing RUN_STATE in the same transaction. Setting the state it already
// has changes nothing; a finished, failed or killed run cannot change.
// It returns how many deliveries were queued.
func SetState(ctx context.Context, db *gorm.DB, env Env, s *Scope, state string, author *models.User) (int, error) {
	if !slices.Contains([]string{runcond.StateFinished, runcond.StateFailed, runcond.StateCrashed, runcond.StateKilled}, state) {
		return 0, models.Invalid("state", "%q is not a state a run can be set to: use finished, failed, crashed or killed", state)
	}
	queued := 0
	err := models.EventTransaction(ctx, db, func(tx *gorm.DB) error {
		r, err := lockRun(tx, s.Run.ID)
		if err != nil {
			return err
		}
		if r.State == state {
			s.Run = r
			return nil
		}
		if terminal(r.State) {
			return models.Conflict("state", "run %s is already %s", r.Name, r.State)
		}
		now := time.Now().UTC()
		if err := tx.Model(r).Updates(map[string]any{"state": state, "updated_at": now}).Error; err != nil {
			return fmt.Errorf("set run state: %w", err)
		}
		r.State, r.UpdatedAt = state, now
		s.Run = r
		queued, err = fireState(ctx, tx, env, s, author)
		return err
	})
	return queued, err
}

// Heartbeat records that a run is alive; a crashed run is running again.
func Heartbeat(ctx context.Context, db *gorm.DB, runID int64) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		r, err := lockRun(tx, runID)
		if err != nil {
			return err
		}
		return touch(tx, r)
	})
}

// touch marks r alive now (history counts as a heartbeat).
func touch(tx *gorm.DB, r *Run) error {
	if terminal(r.State) {
		return models.Conflict("state", "run %s is %s: it takes no more heartbeats or history", r.Name, r.State)
	}
	now := time.Now().UTC()
	if err := tx.Model(r).Updates(map[string]any{"state": runcond.StateRunning, "heartbeat_at": now, "updated_at": now}).Error; err != nil {
		return fmt.Errorf("run heartbeat: %w", err)
	}
	r.State, r.HeartbeatAt, r.UpdatedAt = runcond.StateRunning, now, now
	return nil
}

// SweepCrashed marks crashed every running run whose last heartbeat or
// history is older than timeout (RUN_HEARTBEAT_TIMEOUT), up to limit runs
// a call, firing RUN_STATE as failed for each. It returns how many runs
// crashed and how many deliveries were queued.
func SweepCrashed(ctx context.Context, db *gorm.DB, env Env, timeout time.Duration, limit int) (int, int, error) {
	var stale []Run
	cutoff := time.Now().UTC().Add(-timeout)
	if err := db.WithContext(ctx).Where("state = ? AND heartbeat_at < ?", runcond.StateRunning, cutoff).
		Order("heartbeat_at").Limit(limit).Find(&stale).Error; err != nil {
		return 0, 0, fmt.Errorf("find silent runs: %w", err)
	}
	crashed, queued := 0, 0
	for i := range stale {
		s, err := LoadScope(ctx, db, &stale[i])
		if err != nil {
			return crashed, queued, err
		}
		err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			r, err := lockRun(tx, stale[i].ID)
			if err != nil {
				return err
			}
			// A heartbeat may have come in since the read: check again under the lock.
			if r.State != runcond.StateRunning || !r.HeartbeatAt.Before(cutoff) {
				return nil
			}
			now := time.Now().UTC()
			if err := tx.Model(r).Updates(map[string]any{"state": runcond.StateCrashed, "updated_at": now}).Error; err != nil {
				return fmt.Errorf("mark run crashed: %w", err)
			}
			r.State, r.UpdatedAt = runcond.StateCrashed, now
			s.Run = r
			crashed++
			n, err := fireState(ctx, tx, env, s, s.User)
			queued += n
			return err
		})
		if err != nil {
			return crashed, queued, err
		}
	}
	return crashed, queued, nil
}

// candidate is an enabled run automation of the project, its parameters parsed.
type candidate struct {
	ID        int64  `gorm:"column:id"`
	EventType string `gorm:"column:event_type"`
	Raw       string `gorm:"column:event_config"`
	cfg       *runcond.Config
}

// candidates reads the enabled automations of the project that watch one
// of types (through the automations_project_match index) and keeps those
// whose run-name and user filters admit s's run.
func candidates(tx *gorm.DB, env Env, s *Scope, types []string) ([]candidate, error) {
	var found []candidate
	if err := tx.Table("automations").Select("id, event_type, event_config").
		Where("enabled AND project_id = ? AND scope_type = ? AND event_type IN ?", s.Project.ID, models.ScopeProject, types).
		Order("id").Find(&found).Error; err != nil {
		return nil, fmt.Errorf("match run automations: %w", err)
	}
	username, email := "", ""
	if s.User != nil {
		username, email = s.User.Username, s.User.Email
	}
	kept := found[:0]
	for _, c := range found {
		cfg, err := env.Conditions.Parse(c.EventType, c.Raw)
		if err != nil {
			continue // saved through validation; a bad row fires nothing rather than failing the log
		}
		if cfg.MatchesRun(s.Run.DisplayName, username, email) {
			c.cfg = cfg
			kept = append(kept, c)
		}
	}
	return kept, nil
}

// cooling returns the automations among cs that fired for the run within
// their cooldown.
func cooling(tx *gorm.DB, runID int64, cs []candidate, now time.Time) (map[int64]bool, error) {
	var fires []struct {
		AutomationID int64     `gorm:"column:automation_id"`
		FiredAt      time.Time `gorm:"column:fired_at"`
	}
	if err := tx.Table("run_automation_fires").Select("automation_id, fired_at").Where("run_id = ?", runID).
		Find(&fires).Error; err != nil {
		return nil, fmt.Errorf("read cooldowns: %w", err)
	}
	last := make(map[int64]time.Time, len(fires))
	for _, f := range fires {
		last[f.AutomationID] = f.FiredAt
	}
	out := map[int64]bool{}
	for _, c := range cs {
		if at, ok := last[c.ID]; ok && c.coolingAt(at, now) {
			out[c.ID] = true
		}
	}
	return out, nil
}

// coolingAt reports whether c, having last fired for a run at last, is
// still within its cooldown at now (the rule live events and the dry
// run's replay share).
func (c *candidate) coolingAt(last, now time.Time) bool {
	return now.Sub(last) < c.cfg.CooldownDuration()
}

// firesOnState reports whether c fires for a run entering state when it is
// (or is not) cooling down for the run.
func (c *candidate) firesOnState(state string, cooling bool) bool {
	return c.cfg.MatchesState(state) && !cooling
}

// recordFires notes that the automations ids fired for the run now (event eventID).
func recordFires(tx *gorm.DB, runID, eventID int64, ids []int64, now time.Time) error {
	for _, id := range ids {
		res := tx.Exec(`UPDATE run_automation_fires SET fired_at = ?, event_id = ? WHERE automation_id = ? AND run_id = ?`, now, eventID, id, runID)
		if res.Error != nil {
			return fmt.Errorf("record fire: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			if err := tx.Exec(`INSERT INTO run_automation_fires (automation_id, run_id, event_id, fired_at) VALUES (?, ?, ?, ?)`,
				id, runID, eventID, now).Error; err != nil {
				return fmt.Errorf("record fire: %w", err)
			}
		}
	}
	return nil
}

// eventVars is the snapshot of a run event's variables.
func eventVars(env Env, s *Scope, typ string, author *models.User) models.EventVars {
	v := models.EventVars{
		EntityName: s.Team.Name, ProjectName: s.Project.Name, EventType: typ,
		RunID: strconv.FormatInt(s.Run.ID, 10), RunName: s.Run.DisplayName,
		RunURL: env.RunURL(s.Team.Name, s.Project.Name, s.Run.ID), RunState: s.Run.State,
		RunUser: s.UserHandle(), RunConfig: json.RawMessage(s.Run.Config),
		ArtifactMetadata: json.RawMessage("{}"),
	}
	if author != nil {
		v.EventAuthor = models.AuthorHandle(author)
	}
	return v
}

// fireState writes the RUN_STATE event of s's run entering its state, with
// a delivery for each RUN_STATE automation of the project that watches
// the state, admits the run and is not cooling down for it.
func fireState(ctx context.Context, tx *gorm.DB, env Env, s *Scope, author *models.User) (int, error) {
	cs, err := candidates(tx.WithContext(ctx), env, s, []string{runcond.RunState})
	if err != nil || len(cs) == 0 {
		return 0, err
	}
	now := time.Now().UTC()
	cool, err := cooling(tx, s.Run.ID, cs, now)
	if err != nil {
		return 0, err
	}
	var ids []int64
	for _, c := range cs {
		if c.firesOnState(s.Run.State, cool[c.ID]) {
			ids = append(ids, c.ID)
		}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	return writeEvent(ctx, tx, s, eventVars(env, s, runcond.RunState, author), ids, now)
}

// writeEvent records a run event and queues a delivery for each of ids.
func writeEvent(ctx context.Context, tx *gorm.DB, s *Scope, vars models.EventVars, ids []int64, now time.Time) (int, error) {
	ev := &models.Event{Type: vars.EventType, ScopeKind: models.ScopeKindProject, ProjectID: &s.Project.ID,
		RunID: &s.Run.ID, Vars: vars, CreatedAt: now}
	if s.User != nil {
		ev.AuthorID = &s.User.ID
	}
	if err := models.RecordEvent(tx, ev); err != nil {
		return 0, err
	}
	target := models.MatchTarget{Type: vars.EventType, ProjectID: &s.Project.ID, Subject: fmt.Sprintf("run:%d", s.Run.ID)}
	n, err := models.EnqueueDeliveriesTo(ctx, tx, ev.ID, target, ids)
	if err != nil {
		return 0, fmt.Errorf("queue deliveries of %s event: %w", vars.EventType, err)
	}
	return n, recordFires(tx, s.Run.ID, ev.ID, ids, now)
}
