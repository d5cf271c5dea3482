package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/automations-dev/automations/models"
)

// ListenForDeliveries wakes r whenever another process (or this one)
// commits new deliveries on the PostgreSQL at databaseURL. It reconnects
// until ctx ends; while disconnected the runner's poll still finds work.
func ListenForDeliveries(ctx context.Context, databaseURL string, r *Runner, log *slog.Logger) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := listen(ctx, databaseURL, r)
		if ctx.Err() != nil {
			return
		}
		log.Warn("delivery notifications: reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

func listen(ctx context.Context, databaseURL string, r *Runner) error {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+models.DeliveryNotifyChannel); err != nil {
		return err
	}
	// Anything committed while we were connecting is found by this wake.
	r.Wake()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		r.Wake()
	}
}
