package web

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/jobs"
	"github.com/automations-dev/automations/jobs/sender"
	"github.com/automations-dev/automations/models/secretbox"
)

// Worker is the delivery runner with the long-lived parts its actions use.
type Worker struct {
	*jobs.Runner
	secrets *secretbox.Box
	sender  *sender.Sender
	db      *gorm.DB
	log     *slog.Logger
}

// Run delivers until ctx ends, sweeping expired approvals beside it.
func (w *Worker) Run(ctx context.Context) error {
	sweepCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		jobs.SweepApprovals(sweepCtx, w.db, jobs.ApprovalSweepInterval, w.log)
	}()
	err := w.Runner.Run(ctx)
	stop()
	<-done
	return err
}

// NewWorker builds the delivery worker (serve runs it in-process, worker
// alone) from the configuration.
func NewWorker(ctx context.Context, cfg Config, keys Keys, db *gorm.DB, log *slog.Logger) (*Worker, error) {
	schedule, err := jobs.ParseRetrySchedule(cfg.RetrySchedule)
	if err != nil {
		return nil, err
	}
	box, err := secretbox.Open(ctx, cfg.SecretsKeeperURL, keys.Encryption)
	if err != nil {
		return nil, fmt.Errorf("open secrets keeper: %w", err)
	}
	snd, err := sender.New(sender.Config{AllowedTargets: cfg.AllowedTargets})
	if err != nil {
		_ = box.Close()
		return nil, fmt.Errorf("ALLOWED_TARGETS: %w", err)
	}
	host, _ := os.Hostname()
	runner := jobs.NewRunner(db, jobs.NewActions(jobs.ActionDeps{
		DB: db, Secrets: box, Sender: snd, SlackAPIURL: cfg.SlackAPIURL, BaseURL: cfg.BaseURL,
	}), jobs.RunnerConfig{
		WorkerID:    fmt.Sprintf("%s-%d", host, os.Getpid()),
		Concurrency: cfg.WorkerConcurrency,
		Lease:       cfg.WorkerLease,
		Schedule:    schedule,
		Grace:       cfg.ShutdownTimeout,
	}, log)
	return &Worker{Runner: runner, secrets: box, sender: snd, db: db, log: log}, nil
}

// Close releases the worker's connections and keeper; call it after Run returns.
func (w *Worker) Close() error {
	w.sender.Close()
	return w.secrets.Close()
}

// DeliveryWake is what the server calls after committing events: it wakes
// the in-process worker w (nil for a web-only process) and, on PostgreSQL,
// notifies worker processes, until ctx ends.
func DeliveryWake(ctx context.Context, cfg Config, db *gorm.DB, w *Worker, log *slog.Logger) func() {
	var notifier *jobs.Notifier
	if cfg.DatabaseURL != "" {
		notifier = jobs.NewNotifier(ctx, db, log)
	}
	return func() {
		if w != nil {
			w.Wake()
		}
		if notifier != nil {
			notifier.Notify()
		}
	}
}
