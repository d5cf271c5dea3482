package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models/audit"
)

// DefaultMaxConcurrent is a webhook's limit of requests in flight unless set.
const DefaultMaxConcurrent = 10

// DeliveryHeld is the state of a delivery whose integration is disabled:
// neither sent nor dropped until Re-enable sends or discards it.
const DeliveryHeld DeliveryState = "held"

// DiscardedOnReenable is the last error of a held delivery discarded by
// Re-enable; the delivery is then failed (final, and redeliverable).
const DiscardedOnReenable = "discarded on re-enable"

// Integration kinds whose health is tracked.
const (
	IntegrationWebhook = "webhook"
	IntegrationSlack   = "slack"
)

// IntegrationRef names one webhook or Slack integration.
type IntegrationRef struct {
	Kind string // IntegrationWebhook or IntegrationSlack; "" for none (launch)
	ID   int64
}

func (r IntegrationRef) table() string {
	if r.Kind == IntegrationSlack {
		return "slack_integrations"
	}
	return "webhooks"
}

// IntegrationHealth is the endpoint health of a webhook or Slack
// integration (DESIGN.md §15): the streak of consecutive deliveries that
// finally failed, when it began, and whether the policy disabled it.
type IntegrationHealth struct {
	FailureStreak  int        `gorm:"column:failure_streak;->"`
	FailingSince   *time.Time `gorm:"column:failing_since;->"`
	DisabledAt     *time.Time `gorm:"column:disabled_at;->"`
	DisabledReason string     `gorm:"column:disabled_reason;->"`
}

// Disabled reports whether the integration is disabled.
func (h IntegrationHealth) Disabled() bool { return h.DisabledAt != nil }

// HealthPolicy is when an integration is disabled: every delivery failed
// for at least DisableAfter, and at least MinFailures of them.
type HealthPolicy struct {
	DisableAfter time.Duration
	MinFailures  int
}

// IntegrationOutcome is a delivery's final outcome for its integration.
type IntegrationOutcome struct {
	Ref    IntegrationRef
	Failed bool
	At     time.Time
}

// DisabledIntegration is an integration the policy just disabled.
type DisabledIntegration struct {
	Ref       IntegrationRef
	TeamID    int64
	Name      string // the webhook's name or "#channel (workspace)"
	Streak    int
	Since     time.Time
	HeldCount int64
}

// RecordIntegrationHealth folds final delivery outcomes (in the order
// they happened) into each integration's streak, disables those the
// policy now condemns, holds their pending deliveries, and returns them.
// One statement per integration of the batch; each disable runs in its
// own transaction with the row locked, so only one worker disables it.
func RecordIntegrationHealth(ctx context.Context, db *gorm.DB, outcomes []IntegrationOutcome, p HealthPolicy) ([]DisabledIntegration, error) {
	type fold struct {
		reset    bool // a success came: the streak restarts after it
		failures int
		first    time.Time
	}
	folds := map[IntegrationRef]*fold{}
	var order []IntegrationRef
	for _, o := range outcomes {
		if o.Ref.Kind == "" {
			continue
		}
		f := folds[o.Ref]
		if f == nil {
			f = &fold{}
			folds[o.Ref] = f
			order = append(order, o.Ref)
		}
		if !o.Failed {
			*f = fold{reset: true}
			continue
		}
		if f.failures == 0 {
			f.first = o.At
		}
		f.failures++
	}
	var failing []IntegrationRef
	for _, ref := range order {
		f := folds[ref]
		var err error
		switch {
		case f.reset && f.failures == 0:
			err = db.WithContext(ctx).Exec(`UPDATE `+ref.table()+` SET failure_streak = 0, failing_since = NULL
WHERE id = ? AND failure_streak <> 0`, ref.ID).Error
		case f.reset:
			err = db.WithContext(ctx).Exec(`UPDATE `+ref.table()+` SET failure_streak = ?, failing_since = ? WHERE id = ?`,
				f.failures, f.first, ref.ID).Error
		default:
			err = db.WithContext(ctx).Exec(`UPDATE `+ref.table()+` SET failure_streak = failure_streak + ?,
  failing_since = COALESCE(failing_since, ?) WHERE id = ?`, f.failures, f.first, ref.ID).Error
		}
		if err != nil {
			return nil, fmt.Errorf("record %s %d health: %w", ref.Kind, ref.ID, err)
		}
		if f.failures > 0 {
			failing = append(failing, ref)
		}
	}
	var out []DisabledIntegration
	for _, ref := range failing {
		d, ok, err := disableIfCondemned(ctx, db, ref, p)
		if err != nil {
			return out, err
		}
		if ok {
			out = append(out, d)
		}
	}
	return out, nil
}

type healthRow struct {
	ID            int64      `gorm:"column:id"`
	TeamID        int64      `gorm:"column:team_id"`
	Name          string     `gorm:"column:name"`
	FailureStreak int        `gorm:"column:failure_streak"`
	FailingSince  *time.Time `gorm:"column:failing_since"`
	DisabledAt    *time.Time `gorm:"column:disabled_at"`
}

// integrationName is the SQL naming an integration in notices and the audit log.
func integrationName(ref IntegrationRef) string {
	if ref.Kind == IntegrationSlack {
		return "'#' || channel_name || ' (' || workspace_name || ')'"
	}
	return "name"
}

func disableIfCondemned(ctx context.Context, db *gorm.DB, ref IntegrationRef, p HealthPolicy) (DisabledIntegration, bool, error) {
	var out DisabledIntegration
	ok := false
	now := time.Now().UTC()
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row healthRow
		q := forUpdate(tx.Table(ref.table()).Select("id, team_id, " + integrationName(ref) + " AS name, failure_streak, failing_since, disabled_at"))
		if err := q.Where("id = ?", ref.ID).Take(&row).Error; err != nil {
			return notFound(err, ref.Kind)
		}
		if row.DisabledAt != nil || row.FailingSince == nil || row.FailureStreak < max(p.MinFailures, 1) ||
			now.Sub(*row.FailingSince) < p.DisableAfter {
			return nil
		}
		reason := fmt.Sprintf("%d deliveries in a row failed since %s", row.FailureStreak, row.FailingSince.UTC().Format(time.RFC3339))
		if err := tx.Exec(`UPDATE `+ref.table()+` SET disabled_at = ?, disabled_reason = ? WHERE id = ?`, now, reason, ref.ID).Error; err != nil {
			return fmt.Errorf("disable %s %s: %w", ref.Kind, row.Name, err)
		}
		held, err := holdPending(tx, ref, row.TeamID)
		if err != nil {
			return err
		}
		out = DisabledIntegration{Ref: ref, TeamID: row.TeamID, Name: row.Name, Streak: row.FailureStreak, Since: *row.FailingSince, HeldCount: held}
		ok = true
		return audit.Record(ctx, tx, audit.Entry{
			TeamID: &row.TeamID, ActorName: "automations (endpoint health)", Kind: ref.Kind + ".disable", Target: row.Name,
			Before: audit.JSON(map[string]any{"enabled": true}),
			After:  audit.JSON(map[string]any{"enabled": false, "reason": reason, "held": held}),
		})
	})
	if err != nil {
		return out, false, fmt.Errorf("disable %s %d: %w", ref.Kind, ref.ID, err)
	}
	return out, ok, nil
}

// ofIntegration is the condition (and its arguments) selecting the
// deliveries of an integration of the team: a webhook by its column, a
// Slack integration through the revision's action config.
func ofIntegration(tx *gorm.DB, ref IntegrationRef, teamID int64) (string, []any) {
	if ref.Kind == IntegrationWebhook {
		return "team_id = ? AND webhook_id = ?", []any{teamID, ref.ID}
	}
	extract := "json_extract(r.action_config, '$.integration_id')"
	if Dialect(tx) == "postgres" {
		extract = "(r.action_config::jsonb ->> 'integration_id')::bigint"
	}
	return "team_id = ? AND action_type = 'slack' AND revision_id IN (SELECT r.id FROM automation_revisions r WHERE " + extract + " = ?)",
		[]any{teamID, ref.ID}
}

// holdPending moves the integration's waiting deliveries (not those a
// worker holds right now: their outcome is recorded as usual, and a retry
// is held when it is next claimed) to held.
func holdPending(tx *gorm.DB, ref IntegrationRef, teamID int64) (int64, error) {
	cond, args := ofIntegration(tx, ref, teamID)
	res := tx.Exec(`UPDATE deliveries SET state = 'held', updated_at = ?
WHERE completed_at IS NULL AND leased_by = '' AND state IN ('queued', 'retrying') AND `+cond,
		append([]any{time.Now().UTC()}, args...)...)
	if res.Error != nil {
		return 0, fmt.Errorf("hold deliveries: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// DisabledAmong returns which of the integrations are disabled now.
func DisabledAmong(ctx context.Context, db *gorm.DB, refs []IntegrationRef) (map[IntegrationRef]bool, error) {
	ids := map[string][]int64{}
	for _, r := range refs {
		if r.Kind != "" {
			ids[r.Kind] = append(ids[r.Kind], r.ID)
		}
	}
	out := map[IntegrationRef]bool{}
	for kind, list := range ids {
		var disabled []int64
		err := db.WithContext(ctx).Table(IntegrationRef{Kind: kind}.table()).
			Where("id IN ? AND disabled_at IS NOT NULL", list).Pluck("id", &disabled).Error
		if err != nil {
			return nil, fmt.Errorf("read disabled integrations: %w", err)
		}
		for _, id := range disabled {
			out[IntegrationRef{Kind: kind, ID: id}] = true
		}
	}
	return out, nil
}

// HoldClaims turns deliveries a worker just claimed for a disabled
// integration into held ones, their attempt uncounted (like ReleaseClaims).
func HoldClaims(ctx context.Context, db *gorm.DB, workerID string, ids []int64) error {
	err := db.WithContext(ctx).Exec(unleasing(db, `UPDATE deliveries SET state = 'held', attempts = attempts - 1,
  lease_until = NULL, leased_by = '', updated_at = ?
WHERE id IN ? AND state = 'running' AND leased_by = ?`), time.Now().UTC(), ids, workerID).Error
	if err != nil {
		return fmt.Errorf("hold %d claimed deliveries: %w", len(ids), err)
	}
	return nil
}

// EnableIntegration re-enables a disabled integration, resets its streak,
// and sends its held deliveries again now (send) or fails them with
// DiscardedOnReenable. It returns how many held deliveries it moved.
// Enabling an integration that is not disabled changes nothing but still
// moves any held deliveries.
func EnableIntegration(ctx context.Context, tx *gorm.DB, ref IntegrationRef, teamID int64, send bool) (int64, error) {
	now := time.Now().UTC()
	err := tx.WithContext(ctx).Exec(`UPDATE `+ref.table()+` SET disabled_at = NULL, disabled_reason = '',
  failure_streak = 0, failing_since = NULL WHERE id = ? AND team_id = ?`, ref.ID, teamID).Error
	if err != nil {
		return 0, fmt.Errorf("enable %s: %w", ref.Kind, err)
	}
	cond, args := ofIntegration(tx, ref, teamID)
	var res *gorm.DB
	if send {
		res = tx.WithContext(ctx).Exec(`UPDATE deliveries SET state = CASE WHEN attempts > 0 THEN 'retrying' ELSE 'queued' END,
  next_attempt_at = ?, updated_at = ? WHERE state = 'held' AND `+cond, append([]any{now, now}, args...)...)
	} else {
		res = tx.WithContext(ctx).Exec(`UPDATE deliveries SET state = 'failed', completed_at = ?, last_error = ?, updated_at = ?
WHERE state = 'held' AND `+cond, append([]any{now, DiscardedOnReenable, now}, args...)...)
	}
	if res.Error != nil {
		return 0, fmt.Errorf("release held deliveries: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// HeldCount counts the held deliveries of an integration.
func HeldCount(ctx context.Context, db *gorm.DB, ref IntegrationRef, teamID int64) (int64, error) {
	cond, args := ofIntegration(db, ref, teamID)
	var n int64
	if err := db.WithContext(ctx).Model(&Delivery{}).Where("state = 'held' AND "+cond, args...).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count held deliveries: %w", err)
	}
	return n, nil
}

// DisabledIntegrationNotice is a banner's content: a disabled integration
// of a team.
type DisabledIntegrationNotice struct {
	Kind, Name, Reason string
	// Key is how routes name it: the webhook's name or the Slack integration's id.
	Key        string
	DisabledAt time.Time
	Held       int64
	id         int64
}

// DisabledIntegrationsOf lists the team's disabled webhooks and Slack integrations.
func DisabledIntegrationsOf(ctx context.Context, db *gorm.DB, teamID int64) ([]DisabledIntegrationNotice, error) {
	var out []DisabledIntegrationNotice
	for _, kind := range []string{IntegrationWebhook, IntegrationSlack} {
		ref := IntegrationRef{Kind: kind}
		var rows []struct {
			ID             int64     `gorm:"column:id"`
			Name           string    `gorm:"column:name"`
			DisabledAt     time.Time `gorm:"column:disabled_at"`
			DisabledReason string    `gorm:"column:disabled_reason"`
		}
		err := db.WithContext(ctx).Table(ref.table()).Select("id, "+integrationName(ref)+" AS name, disabled_at, disabled_reason").
			Where("team_id = ? AND disabled_at IS NOT NULL", teamID).Order("id").Scan(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("list disabled integrations: %w", err)
		}
		for _, r := range rows {
			ref.ID = r.ID
			held, err := HeldCount(ctx, db, ref, teamID)
			if err != nil {
				return nil, err
			}
			key := r.Name
			if kind == IntegrationSlack {
				key = fmt.Sprint(r.ID)
			}
			out = append(out, DisabledIntegrationNotice{Kind: kind, Name: r.Name, Reason: r.DisabledReason, Key: key, DisabledAt: r.DisabledAt, Held: held, id: r.ID})
		}
	}
	return out, nil
}

// TeamAdminEmails lists the emails of the team's active admins (people,
// not service accounts), for notices.
func TeamAdminEmails(ctx context.Context, db *gorm.DB, teamID int64) ([]string, error) {
	var out []string
	err := db.WithContext(ctx).Table("team_members m").Joins("JOIN users u ON u.id = m.user_id").
		Where("m.team_id = ? AND m.role = 'admin' AND u.state = 'active' AND u.service_team_id IS NULL", teamID).
		Order("u.email").Pluck("u.email", &out).Error
	if err != nil {
		return nil, fmt.Errorf("list team admins: %w", err)
	}
	return out, nil
}

// DisabledIntegrationOf returns the notice for the automation's
// integration when it is disabled, or nil.
func DisabledIntegrationOf(ctx context.Context, db *gorm.DB, a *Automation) (*DisabledIntegrationNotice, error) {
	var ref IntegrationRef
	switch {
	case a.ActionType == ActionWebhook && a.WebhookID != nil:
		ref = IntegrationRef{Kind: IntegrationWebhook, ID: *a.WebhookID}
	case a.ActionType == ActionSlack:
		cfg, err := ParseSlackActionConfig(a.ActionConfig)
		if err != nil {
			return nil, nil // nothing to say about a broken configuration here
		}
		ref = IntegrationRef{Kind: IntegrationSlack, ID: cfg.IntegrationID}
	default:
		return nil, nil
	}
	notices, err := DisabledIntegrationsOf(ctx, db, a.TeamID)
	if err != nil {
		return nil, err
	}
	for i, n := range notices {
		if n.Kind == ref.Kind && n.id == ref.ID {
			return &notices[i], nil
		}
	}
	return nil, nil
}
