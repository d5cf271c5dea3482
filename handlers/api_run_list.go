package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/runs"
)

// APIRunsList is GET /api/v1/projects/{team}/{project}/runs: newest first,
// ?state=, ?search= (part of the name), ?limit= (up to 200) and ?offset=;
// ?metrics=a,b (or repeated) adds each run's last_metrics.
func (h *Handler) APIRunsList(c echo.Context) error {
	ctx := c.Request().Context()
	t, p := currentTeam(c), currentProject(c)
	f := runs.ListFilter{State: c.QueryParam("state"), Search: c.QueryParam("search")}
	metrics, err := runs.ParseListMetrics("metrics", c.QueryParams()["metrics"])
	if err != nil {
		return err
	}
	if v := c.QueryParam("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 || f.Limit > 200 {
			return models.Invalid("limit", "must be a number from 1 to 200")
		}
	}
	if v := c.QueryParam("offset"); v != "" {
		if f.Offset, err = strconv.Atoi(v); err != nil || f.Offset < 0 {
			return models.Invalid("offset", "must be a number from 0")
		}
	}
	list, total, err := runs.List(ctx, h.db, p.ID, f)
	if err != nil {
		return err
	}
	out := make([]runJSON, len(list))
	ids := make([]int64, len(list))
	for i := range list {
		out[i] = h.runJSON(&list[i].Run, t.Name, p.Name, list[i].UserName)
		ids[i] = list[i].ID
	}
	if len(metrics) > 0 {
		last, err := runs.LastValues(ctx, h.db, ids, metrics)
		if err != nil {
			return err
		}
		for i := range out {
			m := map[string]lastMetricJSON{}
			for name, v := range last[ids[i]] {
				m[name] = lastMetricJSON{Value: v.Value, Step: v.Step}
			}
			out[i].LastMetrics = m
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"runs": out, "total": total})
}
