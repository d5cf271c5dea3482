package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
)

// ListenForDeliveries wakes r whenever another process (or this one)
// commits new deliveries on the PostgreSQL at databaseURL. It reconnects
// until ctx ends; while disconnected the runner's poll still finds work.
func ListenForDeliveries(ctx context.Context, databaseURL string, r *Runner, log *slog.Logger) {
	const firstBackoff = 100 * time.Millisecond
	backoff := firstBackoff
	for ctx.Err() == nil {
		listened, err := listen(ctx, databaseURL, r)
		if ctx.Err() != nil {
			return
		}
		if listened {
			backoff = firstBackoff // a working connection dropped: retry soon
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

// listen wakes r on each notification until the connection fails;
// listened says whether it got as far as listening.
func listen(ctx context.Context, databaseURL string, r *Runner) (listened bool, err error) {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+models.DeliveryNotifyChannel); err != nil {
		return false, err
	}
	// Anything committed while we were connecting is found by this wake.
	r.Wake()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return true, err
		}
		r.Wake()
	}
}

// Notifier tells worker processes that deliveries were committed, with a
// NOTIFY sent after the commit, outside the event's transaction: inside
// it, PostgreSQL's notification lock would make every committing event
// transaction wait for the previous one's fsync. Calls coalesce: one
// NOTIFY in flight and at most one more pending, however many events.
type Notifier struct {
	db      *gorm.DB
	pending chan struct{}
}

// NewNotifier sends notifications on db until ctx ends.
func NewNotifier(ctx context.Context, db *gorm.DB, log *slog.Logger) *Notifier {
	n := &Notifier{db: db, pending: make(chan struct{}, 1)}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-n.pending:
			}
			if err := n.db.WithContext(ctx).Exec("NOTIFY " + models.DeliveryNotifyChannel).Error; err != nil && ctx.Err() == nil {
				// Workers still find the deliveries on their next poll.
				log.Warn("notify delivery workers", "err", err)
			}
		}
	}()
	return n
}

// Notify asks for a NOTIFY soon; it never blocks.
func (n *Notifier) Notify() {
	select {
	case n.pending <- struct{}{}:
	default:
	}
}
