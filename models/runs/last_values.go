package runs

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/runcond"
)

// MaxListMetrics bounds the metric columns a runs list shows.
const MaxListMetrics = 10

// LastValue is a run's newest logged value of a metric.
type LastValue struct {
	Step  int64
	Value float64
}

// ParseListMetrics reads the metrics a runs list should show: each value
// of the parameter is one name or several separated by commas (so a name
// holding a comma cannot be chosen), blanks dropped, repeats kept once, at
// most MaxListMetrics. field names the parameter in errors.
func ParseListMetrics(field string, values []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, v := range values {
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			if name == "" || seen[name] {
				continue
			}
			if err := runcond.ValidateMetricName(field, name); err != nil {
				return nil, models.Invalid(field, "metric name %q %s", name, err.(*runcond.FieldError).Message)
			}
			seen[name] = true
			out = append(out, name)
		}
	}
	if len(out) > MaxListMetrics {
		return nil, models.Invalid(field, "at most %d metrics (got %d)", MaxListMetrics, len(out))
	}
	return out, nil
}

// LastValues returns the newest value (by step) of each of metrics for
// each of runIDs, in one statement: per run and metric a correlated
// subquery reads the last entry of run_history's (run_id, metric, step)
// key (ORDER BY step DESC LIMIT 1), so the cost is two index seeks a cell
// whatever the length of the history. A run without a metric has no entry.
func LastValues(ctx context.Context, db *gorm.DB, runIDs []int64, metrics []string) (map[int64]map[string]LastValue, error) {
	out := make(map[int64]map[string]LastValue, len(runIDs))
	if len(runIDs) == 0 || len(metrics) == 0 {
		return out, nil
	}
	// The chosen names as a one-column table; CAST so PostgreSQL types the parameters.
	names := make([]string, len(metrics))
	args := make([]any, 0, len(metrics)+1)
	for i, m := range metrics {
		names[i] = "SELECT CAST(? AS TEXT) AS metric"
		args = append(args, m)
	}
	args = append(args, runIDs)
	last := func(col string) string {
		return "(SELECT h." + col + " FROM run_history h WHERE h.run_id = r.id AND h.metric = m.metric ORDER BY h.step DESC LIMIT 1)"
	}
	var rows []struct {
		RunID  int64    `gorm:"column:run_id"`
		Metric string   `gorm:"column:metric"`
		Step   *int64   `gorm:"column:step"`
		Value  *float64 `gorm:"column:value"`
	}
	err := db.WithContext(ctx).Raw(`SELECT r.id AS run_id, m.metric, `+last("step")+` AS step, `+last("value")+` AS value
FROM runs r CROSS JOIN (`+strings.Join(names, " UNION ALL ")+`) m
WHERE r.id IN ?`, args...).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("last metric values: %w", err)
	}
	for _, r := range rows {
		if r.Step == nil || r.Value == nil {
			continue
		}
		if out[r.RunID] == nil {
			out[r.RunID] = map[string]LastValue{}
		}
		out[r.RunID][r.Metric] = LastValue{Step: *r.Step, Value: *r.Value}
	}
	return out, nil
}

// maxMetricNames bounds the names MetricNames returns.
const maxMetricNames = 200

// MetricNames lists, in name order, the metrics logged for any of runIDs
// (at most 200), for a runs list's column chooser. It walks run_history's
// key from one name to the next per run (a loose index scan, written as a
// recursive query that both databases run), reading one entry per run and
// metric rather than every logged step.
func MetricNames(ctx context.Context, db *gorm.DB, runIDs []int64) ([]string, error) {
	if len(runIDs) == 0 {
		return nil, nil
	}
	var names []string
	err := db.WithContext(ctx).Raw(`WITH RECURSIVE m(run_id, metric) AS (
  SELECT r.id, (SELECT MIN(h.metric) FROM run_history h WHERE h.run_id = r.id) FROM runs r WHERE r.id IN ?
  UNION ALL
  SELECT m.run_id, (SELECT MIN(h.metric) FROM run_history h WHERE h.run_id = m.run_id AND h.metric > m.metric)
  FROM m WHERE m.metric IS NOT NULL
)
SELECT DISTINCT metric FROM m WHERE metric IS NOT NULL ORDER BY metric LIMIT ?`, runIDs, maxMetricNames).Scan(&names).Error
	if err != nil {
		return nil, fmt.Errorf("metric names: %w", err)
	}
	return names, nil
}
