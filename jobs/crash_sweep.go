package jobs

import (
	"context"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models/runs"
)

// CrashSweep marks crashed the runs that went silent for Timeout
// (RUN_HEARTBEAT_TIMEOUT), firing RUN_STATE as failed. Every worker
// process sweeps; a run is re-checked under its row lock, so two sweeps
// never crash it twice.
type CrashSweep struct {
	DB      *gorm.DB
	Env     runs.Env
	Timeout time.Duration
	Wake    func() // wakes the delivery runner when a crash queued deliveries
	Log     *slog.Logger
}

// sweepBatch bounds the runs one pass handles; the next pass takes the rest.
const sweepBatch = 100

// Interval is how often the sweep looks: a tenth of the timeout, between
// one second and a minute, so a silent run crashes within about 10% of
// the timeout after it.
func (s CrashSweep) Interval() time.Duration {
	return min(max(s.Timeout/10, time.Second), time.Minute)
}

// Run sweeps every Interval until ctx ends.
func (s CrashSweep) Run(ctx context.Context) {
	tick := time.NewTicker(s.Interval())
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		crashed, queued, err := runs.SweepCrashed(ctx, s.DB, s.Env, s.Timeout, sweepBatch)
		if err != nil && ctx.Err() == nil {
			s.Log.Error("sweep silent runs", "err", err)
		}
		if crashed > 0 {
			s.Log.Info("runs crashed: no heartbeat", "runs", crashed, "timeout", s.Timeout)
		}
		if queued > 0 && s.Wake != nil {
			s.Wake()
		}
	}
}
