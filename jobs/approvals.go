package jobs

import (
	"context"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
)

// ApprovalSweepInterval is how often a worker rejects deliveries whose
// approval window passed: their expiry is at most this late.
const ApprovalSweepInterval = 30 * time.Second

// SweepApprovals rejects expired approvals now and every interval until
// ctx ends. Any number of workers may run it: each expiry is one
// conditional UPDATE, so a delivery is rejected once.
func SweepApprovals(ctx context.Context, db *gorm.DB, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := models.ExpireApprovals(ctx, db, time.Now()); err != nil && ctx.Err() == nil {
			log.Error("expire approvals", "err", err)
		} else if n > 0 {
			log.Info("rejected deliveries whose approval expired", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
