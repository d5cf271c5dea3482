package jobs

import (
	"context"
	"sync"
	"time"

	"github.com/automations-dev/automations/models"
)

// DefaultLease is how long a claim holds without a renewal. The runner
// renews the leases of the deliveries it works on every third of it (the
// heartbeat), so an attempt may take longer than the lease; only a worker
// that died stops renewing, and its deliveries are claimed again within
// about one lease.
const DefaultLease = 10 * time.Second

// limitedRecheck is how soon a runner claims again when deliveries are
// due but none could be claimed (they wait under their webhooks' limits,
// perhaps for another process's requests to finish).
const limitedRecheck = 50 * time.Millisecond

// leaseSet is the deliveries this worker claimed and has not yet recorded
// or given back: the ones the heartbeat renews.
type leaseSet struct {
	mu  sync.Mutex
	ids map[int64]struct{}
}

func (s *leaseSet) add(ids ...int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.ids[id] = struct{}{}
	}
}

func (s *leaseSet) remove(ids ...int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		delete(s.ids, id)
	}
}

func (s *leaseSet) list() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]int64, 0, len(s.ids))
	for id := range s.ids {
		out = append(out, id)
	}
	return out
}

// heartbeat renews this worker's leases until ctx ends.
func (r *Runner) heartbeat(ctx context.Context) {
	t := time.NewTicker(max(r.cfg.Lease/3, 100*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ids := r.leases.list()
		for len(ids) > 0 {
			n := min(len(ids), 500)
			if err := models.RenewLeases(ctx, r.db, r.cfg.WorkerID, ids[:n], r.cfg.Lease); err != nil && ctx.Err() == nil {
				r.log.Error("renew delivery leases", "count", n, "err", err)
			}
			ids = ids[n:]
		}
	}
}

// IntegrationOf names the webhook or Slack integration a delivery goes to.
func IntegrationOf(d *models.Delivery) models.IntegrationRef {
	switch d.ActionType {
	case models.ActionWebhook:
		if d.WebhookID != nil {
			return models.IntegrationRef{Kind: models.IntegrationWebhook, ID: *d.WebhookID}
		}
	case models.ActionSlack:
		if cfg, err := models.ParseSlackActionConfig(d.ActionConfig); err == nil {
			return models.IntegrationRef{Kind: models.IntegrationSlack, ID: cfg.IntegrationID}
		}
	}
	return models.IntegrationRef{}
}

// holdDisabled takes the deliveries for disabled integrations out of a
// claimed batch and marks them held; the rest are this worker's to send.
func (r *Runner) holdDisabled(ctx context.Context, ds []models.Delivery) []models.Delivery {
	if len(ds) == 0 {
		return ds
	}
	refs := make([]models.IntegrationRef, len(ds))
	for i := range ds {
		refs[i] = IntegrationOf(&ds[i])
	}
	disabled, err := models.DisabledAmong(ctx, r.db, refs)
	if err != nil {
		// Sending to a disabled endpoint is better than losing the batch.
		r.log.Error("check disabled integrations", "err", err)
	}
	keep := ds[:0]
	var held []int64
	for i := range ds {
		if disabled[refs[i]] {
			held = append(held, ds[i].ID)
			continue
		}
		keep = append(keep, ds[i])
		r.leases.add(ds[i].ID)
	}
	if len(held) > 0 {
		if err := models.HoldClaims(context.WithoutCancel(ctx), r.db, r.cfg.WorkerID, held); err != nil {
			r.log.Error("hold deliveries of disabled integrations; they are claimed again when their leases expire", "err", err)
		}
	}
	return keep
}

// recordHealth counts final outcomes into their integrations' health and
// reports the integrations that the policy disabled. Webhooks whose
// outcomes in the batch are all successes were reset by CompleteAttempts.
func (r *Runner) recordHealth(ctx context.Context, batch []models.AttemptResult) {
	outcomes := models.HealthOutcomes(batch)
	if len(outcomes) == 0 {
		return
	}
	disabled, err := models.RecordIntegrationHealth(ctx, r.db, outcomes, r.cfg.Health)
	if err != nil {
		r.log.Error("record endpoint health", "err", err)
	}
	for _, d := range disabled {
		r.log.Warn("integration disabled: its deliveries kept failing", "kind", d.Ref.Kind, "name", d.Name,
			"team_id", d.TeamID, "failures", d.Streak, "since", d.Since, "held", d.HeldCount)
		if r.cfg.OnDisabled != nil {
			r.cfg.OnDisabled(ctx, d)
		}
	}
}

// pruneEvery is how often the worker looks for deliveries past retention;
// pruneBatch how many it deletes per transaction, so no statement holds
// the (single, on SQLite) write lock for long.
const (
	pruneEvery = time.Minute
	pruneBatch = 500
)

// prune deletes finished deliveries older than the retention, in small
// batches, at start and then every pruneEvery, until ctx ends.
func (r *Runner) prune(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for ctx.Err() == nil {
			n, err := models.PruneDeliveries(ctx, r.db, time.Now().UTC().Add(-r.cfg.Retention), pruneBatch)
			if err != nil {
				if ctx.Err() == nil {
					r.log.Error("prune old deliveries", "err", err)
				}
				break
			}
			if n > 0 {
				r.log.Debug("pruned old deliveries", "count", n)
			}
			if n < pruneBatch {
				break
			}
		}
		t.Reset(pruneEvery)
	}
}
