package runs

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/runcond"
)

// Replayed is one time a run automation would have fired, found by DryRun.
type Replayed struct {
	At      time.Time // when (metric events: estimated, see DryRun)
	RunID   int64
	RunName string // display name, as ${run_name}
	Author  string // the run's author, as ${run_user}
	State   string // RUN_STATE: the state the run entered
	// Metric events: the step where the condition held and metric_value there.
	Step  int64
	Value float64
}

// DryRunResult is what DryRun found.
type DryRunResult struct {
	Count int        // every fire in the period
	Fires []Replayed // the newest of them, newest first
	// Partial: the project had more than MaxDryRunRuns runs active in the
	// period; only the most recently active ones were replayed.
	Partial bool
}

// MaxDryRunRuns bounds the runs one dry run replays (the most recently
// active first), so a wizard panel stays quick on a very busy project.
const MaxDryRunRuns = 1000

// replayRun is a run as the replay reads it.
type replayRun struct {
	ID          int64     `gorm:"column:id"`
	DisplayName string    `gorm:"column:display_name"`
	State       string    `gorm:"column:state"`
	CreatedAt   time.Time `gorm:"column:created_at"`
	UpdatedAt   time.Time `gorm:"column:updated_at"`
	HeartbeatAt time.Time `gorm:"column:heartbeat_at"`
	Username    *string   `gorm:"column:username"`
	Email       *string   `gorm:"column:email"`
}

// user is the run's author as the filters and ${run_user} see it (nil if deleted).
func (r *replayRun) user() *models.User {
	if r.Username == nil && r.Email == nil {
		return nil
	}
	u := &models.User{}
	if r.Username != nil {
		u.Username = *r.Username
	}
	if r.Email != nil {
		u.Email = *r.Email
	}
	return u
}

func (r *replayRun) author() string {
	if u := r.user(); u != nil {
		return models.AuthorHandle(u)
	}
	return ""
}

// DryRun answers "how often would a run automation of event type typ
// with cfg (normalised) have fired in project projectID since since?" by
// replaying the stored runs through the rules live events use: the
// run-name and user filters (MatchesRun), the state rule (firesOnState),
// the window arithmetic and the once-a-batch rule (firstHolds) and the
// per-run cooldown (coolingAt). It keeps the newest keep fires.
//
// What is stored decides what a replay can know, so it assumes:
//   - Runs: those updated since since (at most MaxDryRunRuns), each on its
//     own, as live evaluation treats them; the filters see the run's
//     current display name and author.
//   - RUN_STATE: each run entered running when it was created and, if it
//     is finished, failed or crashed now, that state when it was last
//     updated (killed never fires). Only a run's current state is stored:
//     a crash the run came back from, and its later end, count once.
//   - Metric events: history keeps one value a step and no logging times,
//     so each stored step is replayed in step order as if logged in a
//     batch of its own, at a time spread evenly by step between the run's
//     creation and its last heartbeat (the cooldown compares these). A run
//     whose history was logged in batches of many steps fires here at each
//     step that holds outside the cooldown, live at most once a batch:
//     with a cooldown longer than the run (the default 24 h) the two agree;
//     with a cooldown of 0 the replay counts what one-step batches would.
//     Values logged twice count with their final value.
//
// A fire counts when its time is at or after since; earlier fires still
// start cooldowns, as they did live.
func DryRun(ctx context.Context, db *gorm.DB, projectID int64, typ string, cfg *runcond.Config, since time.Time, keep int) (*DryRunResult, error) {
	if !runcond.IsRunEvent(typ) {
		return nil, fmt.Errorf("dry run: %s is not a run event", typ)
	}
	var rs []replayRun
	if err := db.WithContext(ctx).Table("runs AS r").
		Select("r.id, r.display_name, r.state, r.created_at, r.updated_at, r.heartbeat_at, u.username, u.email").
		Joins("LEFT JOIN users u ON u.id = r.user_id").
		Where("r.project_id = ? AND r.updated_at >= ?", projectID, since.UTC()).
		Order("r.updated_at DESC, r.id DESC").Limit(MaxDryRunRuns + 1).Scan(&rs).Error; err != nil {
		return nil, fmt.Errorf("dry run: read runs: %w", err)
	}
	res := &DryRunResult{}
	if len(rs) > MaxDryRunRuns {
		rs, res.Partial = rs[:MaxDryRunRuns], true
	}
	c := &candidate{EventType: typ, cfg: cfg}
	var all []Replayed
	for i := range rs {
		r := &rs[i]
		username, email := "", ""
		if u := r.user(); u != nil {
			username, email = u.Username, u.Email
		}
		if !cfg.MatchesRun(r.DisplayName, username, email) {
			continue
		}
		var fires []Replayed
		var err error
		if typ == runcond.RunState {
			fires = replayStates(c, r)
		} else if fires, err = replayMetric(ctx, db, c, r); err != nil {
			return nil, err
		}
		for _, f := range fires {
			if !f.At.Before(since) {
				all = append(all, f)
			}
		}
	}
	res.Count = len(all)
	slices.SortFunc(all, func(a, b Replayed) int {
		return cmp.Or(b.At.Compare(a.At), cmpInt(b.RunID, a.RunID), cmpInt(b.Step, a.Step))
	})
	res.Fires = all[:min(keep, len(all))]
	return res, nil
}

// replayStates replays the state changes of r that are stored (see DryRun).
func replayStates(c *candidate, r *replayRun) []Replayed {
	type change struct {
		state string
		at    time.Time
	}
	changes := []change{{runcond.StateRunning, r.CreatedAt}}
	switch r.State {
	case runcond.StateFinished, runcond.StateFailed, runcond.StateCrashed, runcond.StateKilled:
		changes = append(changes, change{r.State, r.UpdatedAt})
	}
	var out []Replayed
	var last time.Time
	fired := false
	for _, ch := range changes {
		if c.firesOnState(ch.state, fired && c.coolingAt(last, ch.at)) {
			out = append(out, Replayed{At: ch.at.UTC(), RunID: r.ID, RunName: r.DisplayName, Author: r.author(), State: ch.state})
			last, fired = ch.at, true
		}
	}
	return out
}

// replayMetric replays r's stored values of c's metric step by step,
// each as a batch of its own (see DryRun), reading them in step order
// through run_history's key.
func replayMetric(ctx context.Context, db *gorm.DB, c *candidate, r *replayRun) ([]Replayed, error) {
	rows, err := db.WithContext(ctx).Raw("SELECT step, value FROM run_history WHERE run_id = ? AND metric = ? ORDER BY step",
		r.ID, c.cfg.Metric).Rows()
	if err != nil {
		return nil, fmt.Errorf("dry run: read history: %w", err)
	}
	defer rows.Close()
	var steps []int64
	var values []float64
	for rows.Next() {
		var step int64
		var v float64
		if err := rows.Scan(&step, &v); err != nil {
			return nil, fmt.Errorf("dry run: read history: %w", err)
		}
		steps, values = append(steps, step), append(values, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("dry run: read history: %w", err)
	}
	if len(steps) == 0 {
		return nil, nil
	}
	first, span := steps[0], steps[len(steps)-1]-steps[0]
	start, length := r.CreatedAt, r.HeartbeatAt.Sub(r.CreatedAt)
	at := func(step int64) time.Time {
		if span == 0 {
			return r.HeartbeatAt.UTC()
		}
		return start.Add(time.Duration(float64(length) * float64(step-first) / float64(span))).UTC()
	}
	cs := []*candidate{c}
	var out []Replayed
	var last time.Time
	fired := false
	for i := range values {
		now := at(steps[i])
		if fired && c.coolingAt(last, now) {
			continue
		}
		for _, h := range firstHolds(cs, values, []int{i}) {
			out = append(out, Replayed{At: now, RunID: r.ID, RunName: r.DisplayName, Author: r.author(),
				Step: steps[h.i], Value: h.value})
			last, fired = now, true
		}
	}
	return out, nil
}
