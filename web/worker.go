package web

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/jobs"
	"github.com/automations-dev/automations/jobs/mailer"
	"github.com/automations-dev/automations/jobs/sender"
	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/runcond"
	"github.com/automations-dev/automations/models/runs"
	"github.com/automations-dev/automations/models/secretbox"
	"github.com/automations-dev/automations/web/metrics"
)

// Worker is the delivery runner with the long-lived parts its actions use.
type Worker struct {
	*jobs.Runner
	secrets *secretbox.Box
	sender  *sender.Sender
	sweep   jobs.CrashSweep
	db      *gorm.DB
	log     *slog.Logger
}

// WorkerOption changes how NewWorker builds the worker.
type WorkerOption func(*jobs.RunnerConfig)

// WithMetrics counts the worker's attempts in m (serve passes its
// server's, so GET /metrics shows them).
func WithMetrics(m *metrics.Metrics) WorkerOption {
	return func(c *jobs.RunnerConfig) {
		if m != nil {
			c.Observer = m
		}
	}
}

// NewWorker builds the delivery worker (serve runs it in-process, worker
// alone) from the configuration.
func NewWorker(ctx context.Context, cfg Config, keys Keys, db *gorm.DB, log *slog.Logger, opts ...WorkerOption) (*Worker, error) {
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
	health := models.HealthPolicy{DisableAfter: cfg.EndpointDisableAfter.Duration(), MinFailures: cfg.EndpointDisableMinFailures}
	if health.MinFailures <= 0 {
		// A Config built in code (tests, tools) gets the documented policy.
		health = models.HealthPolicy{DisableAfter: DefaultEndpointDisableAfter, MinFailures: DefaultEndpointDisableMinFailures}
	}
	mail, err := mailer.New(cfg.SMTPURL, cfg.SMTPFrom)
	if err != nil {
		snd.Close()
		_ = box.Close()
		return nil, err
	}
	notifier := &jobs.DisableNotifier{DB: db, Secrets: box, SlackAPIURL: cfg.SlackAPIURL, BaseURL: cfg.BaseURL, Mail: mail, Log: log}
	host, _ := os.Hostname()
	rc := jobs.RunnerConfig{
		WorkerID:    fmt.Sprintf("%s-%d", host, os.Getpid()),
		Concurrency: cfg.WorkerConcurrency,
		Lease:       cfg.WorkerLease,
		Schedule:    schedule,
		Grace:       cfg.ShutdownTimeout,
		Health:      health,
		OnDisabled:  notifier.Notify,
		Retention:   cfg.DeliveryRetention.Duration(),
	}
	for _, o := range opts {
		o(&rc)
	}
	runner := jobs.NewRunner(db, jobs.NewActions(jobs.ActionDeps{
		DB: db, Secrets: box, Sender: snd, SlackAPIURL: cfg.SlackAPIURL, BaseURL: cfg.BaseURL,
	}), rc, log)
	timeout := cfg.RunHeartbeatTimeout
	if timeout <= 0 {
		timeout = DefaultRunHeartbeatTimeout
	}
	sweep := jobs.CrashSweep{DB: db, Env: runs.Env{BaseURL: cfg.BaseURL, Conditions: runcond.NewCache()}, Timeout: timeout, Wake: runner.Wake, Log: log}
	return &Worker{Runner: runner, secrets: box, sender: snd, sweep: sweep, db: db, log: log}, nil
}

// DefaultRunHeartbeatTimeout is RUN_HEARTBEAT_TIMEOUT's default, used when
// a Config built in code leaves it zero.
const DefaultRunHeartbeatTimeout = 10 * time.Minute

// Run runs the delivery runner and, beside it, the sweeps that mark silent
// runs crashed and reject expired approvals, until ctx ends.
func (w *Worker) Run(ctx context.Context) error {
	sweepCtx, stop := context.WithCancel(ctx)
	var sweeps sync.WaitGroup
	sweeps.Go(func() { w.sweep.Run(sweepCtx) })
	sweeps.Go(func() { jobs.SweepApprovals(sweepCtx, w.db, jobs.ApprovalSweepInterval, w.log) })
	err := w.Runner.Run(ctx)
	stop()
	sweeps.Wait()
	return err
}

// Close releases the worker's connections and keeper; call it after Run returns.
func (w *Worker) Close() error {
	w.sender.Close()
	return w.secrets.Close()
}

// DeliveryWake is what the server calls after committing deliveries that
// wait for a claim (those of events not all handed to the in-process
// worker, redeliveries, approvals): it wakes the in-process worker w (nil
// for a web-only process) and, on PostgreSQL, notifies worker processes,
// until ctx ends.
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
