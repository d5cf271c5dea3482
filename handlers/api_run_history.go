package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models/runs"
)

// MaxHistoryBody is the largest history batch the API reads: 10,000 rows
// of a few dozen metrics.
const MaxHistoryBody = 32 << 20

type runHistoryInput struct {
	Rows []runs.Row `json:"rows"`
}

// APIRunHistory is POST /api/v1/runs/{id}/history: log up to 10,000 rows
// of {step, metrics}; the project's metric automations are evaluated in
// the same transaction. It counts as a heartbeat.
func (h *Handler) APIRunHistory(c echo.Context) error {
	ctx, u := c.Request().Context(), CurrentUser(c)
	var in runHistoryInput
	if err := bindJSONLimit(c, &in, MaxHistoryBody); err != nil {
		return err
	}
	points, err := runs.ParseRows(in.Rows)
	if err != nil {
		return err
	}
	res, err := runs.LogHistory(ctx, h.db, h.runEnv(), currentRun(c), points, u)
	if err != nil {
		return err
	}
	h.countRunHistoryRows(len(in.Rows))
	if res.Queued > 0 {
		h.wakeDeliveries()
	}
	return c.JSON(http.StatusOK, map[string]any{"accepted": res.Accepted, "queued": res.Queued})
}
