package handlers

import (
	"errors"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/runs"
	"github.com/automations-dev/automations/views"
)

// runsListMetrics reads the chosen metric columns (a refused choice is a
// message beside the chooser, the list shown without them) and the names
// the page's runs logged, to choose from.
func (h *Handler) runsListMetrics(c echo.Context, list []runs.Listing, props *views.RunsPageProps) error {
	metrics, err := runs.ParseListMetrics("metrics", c.QueryParams()["metrics"])
	if err != nil {
		var fe *models.ValidationError
		if !errors.As(err, &fe) {
			return err
		}
		props.MetricsError = fe.Message
		for _, v := range c.QueryParams()["metrics"] {
			for _, name := range strings.Split(v, ",") {
				if name = strings.TrimSpace(name); name != "" {
					props.MetricsInput = append(props.MetricsInput, name)
				}
			}
		}
	}
	props.Metrics = metrics
	ids := make([]int64, len(list))
	for i := range list {
		ids[i] = list[i].ID
	}
	props.MetricNames, err = runs.MetricNames(c.Request().Context(), h.db, ids)
	return err
}

// fillMetricCells puts each run's last value of the chosen metrics in its row.
func (h *Handler) fillMetricCells(c echo.Context, list []runs.Listing, props *views.RunsPageProps) error {
	if len(props.Metrics) == 0 {
		return nil
	}
	ids := make([]int64, len(list))
	for i := range list {
		ids[i] = list[i].ID
	}
	last, err := runs.LastValues(c.Request().Context(), h.db, ids, props.Metrics)
	if err != nil {
		return err
	}
	for i := range props.Runs {
		cells := make([]views.MetricCell, len(props.Metrics))
		for j, m := range props.Metrics {
			if v, ok := last[props.Runs[i].ID][m]; ok {
				cells[j] = views.MetricCell{Has: true, Value: v.Value, Step: v.Step}
			}
		}
		props.Runs[i].Last = cells
	}
	return nil
}
