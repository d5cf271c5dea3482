package jobs

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
)

// LaunchAction puts a job run on a launch queue for an agent to claim.
type LaunchAction struct {
	DB *gorm.DB
}

// Perform creates the run-queue item (once per delivery, however often it
// is attempted) and records it as the attempt's response.
func (a *LaunchAction) Perform(ctx context.Context, d *models.Delivery) Outcome {
	out := Outcome{Attempt: models.DeliveryAttempt{RequestBody: d.ActionConfig}}
	cfg, err := models.ParseLaunchActionConfig(d.ActionConfig)
	if err != nil {
		out.Err, out.Permanent = err, true
		return out
	}
	out.Attempt.RequestURL = fmt.Sprintf("launch queue %s", cfg.Queue)
	item, err := models.LaunchFromDelivery(ctx, a.DB, d, cfg)
	if err != nil {
		var ve *models.ValidationError
		// A deleted queue or job version, or a bad config, stays so: retrying cannot help.
		out.Err, out.Permanent = err, errors.Is(err, models.ErrNotFound) || errors.As(err, &ve)
		return out
	}
	out.Attempt.ResponseBody = fmt.Sprintf("run-queue item #%d (%s %s) queued with config %s", item.ID, item.Job, item.JobVersion, item.Config)
	return out
}
