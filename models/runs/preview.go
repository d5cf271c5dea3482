package runs

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models/runcond"
)

// PreviewRow says whether a run event's condition would have held for
// one recent run, and where first.
type PreviewRow struct {
	RunID       int64
	RunName     string
	State       string
	Matches     bool   // the run-name and user filters admit the run
	Held        bool   // the condition held (RUN_STATE: the run is in one of the states)
	Step        int64  // metric events: the first step where it held
	Value       string // metric events: metric_value there
	Unavailable string // why nothing could be said (e.g. no values of the metric)
}

// previewValues bounds the values of one run a preview reads.
const previewValues = 10000

// Preview evaluates cfg (event type typ, normalised) on the project's
// newest limit runs as if their history were logged now, for the wizard:
// unlike LogHistory it reads history (bounded by previewValues a run).
func Preview(ctx context.Context, db *gorm.DB, projectID int64, typ string, cfg *runcond.Config, limit int) ([]PreviewRow, error) {
	list, _, err := List(ctx, db, projectID, ListFilter{Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]PreviewRow, 0, len(list))
	for _, r := range list {
		row := PreviewRow{RunID: r.ID, RunName: r.DisplayName, State: r.State}
		username, email := r.UserName, r.UserName
		row.Matches = cfg.MatchesRun(r.DisplayName, username, email)
		if typ == runcond.RunState {
			row.Held = row.Matches && cfg.MatchesState(r.State)
			out = append(out, row)
			continue
		}
		var ps []Point
		if err := db.WithContext(ctx).Table("run_history").Select("metric, step, value").
			Where("run_id = ? AND metric = ?", r.ID, cfg.Metric).Order("step DESC").Limit(previewValues).Find(&ps).Error; err != nil {
			return nil, fmt.Errorf("preview %s: %w", r.Name, err)
		}
		if len(ps) == 0 {
			row.Unavailable = "no values of " + cfg.Metric
			out = append(out, row)
			continue
		}
		values := make([]float64, len(ps))
		for i := range ps {
			values[i] = ps[len(ps)-1-i].Value // oldest first
		}
		need := cfg.Need(typ)
		for i := need - 1; i < len(values); i++ {
			if ok, v := cfg.Eval(typ, values[i+1-need:i+1]); ok {
				row.Held, row.Step, row.Value = true, ps[len(ps)-1-i].Step, formatNumber(v)
				break
			}
		}
		if len(values) < need {
			row.Unavailable = fmt.Sprintf("%d values, fewer than the %d the condition needs", len(values), need)
		}
		out = append(out, row)
	}
	return out, nil
}
