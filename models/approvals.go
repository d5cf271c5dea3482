package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models/audit"
)

// Decision is a scope admin's answer to a delivery awaiting approval.
type Decision struct {
	Approve bool
	By      *User
	Comment string
	// Audit is the log entry to record with it (whose log, target); Kind,
	// actor and before/after are filled in here.
	Audit audit.Entry
}

// maxDecisionComment bounds a decision's comment.
const maxDecisionComment = 2000

// DecideDelivery approves (queues now) or rejects a delivery awaiting
// approval, stores who decided, when and why on the delivery (its
// history), and records the decision in the audit log, in one
// transaction. Only a delivery still awaiting approval changes: the
// conditional UPDATE makes two admins deciding at once, or a decision
// racing the expiry sweep, end with exactly one decision; the others get
// a conflict naming the state it reached.
func DecideDelivery(ctx context.Context, db *gorm.DB, d *Delivery, dec Decision) error {
	if len(dec.Comment) > maxDecisionComment {
		return Invalid("comment", "must be at most %d characters", maxDecisionComment)
	}
	now := time.Now().UTC()
	set := map[string]any{
		"decided_by": dec.By.ID, "decided_by_name": authorHandle(dec.By), "decided_at": now,
		"decision_comment": dec.Comment, "updated_at": now,
	}
	kind := "delivery.approve"
	if dec.Approve {
		set["state"], set["next_attempt_at"], set["completed_at"] = string(DeliveryQueued), now, nil
	} else {
		kind = "delivery.reject"
		set["state"], set["completed_at"], set["reason"] = string(DeliveryRejected), now, "rejected by "+authorHandle(dec.By)
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&Delivery{}).Where("id = ? AND state = ?", d.ID, DeliveryAwaitingApproval).Updates(set)
		if res.Error != nil {
			return fmt.Errorf("decide delivery %s: %w", d.UID, res.Error)
		}
		if res.RowsAffected == 0 {
			var now Delivery
			if err := tx.First(&now, "id = ?", d.ID).Error; err != nil {
				return notFound(err, "delivery")
			}
			return Conflict("state", "this delivery is %s, no longer awaiting approval", now.State)
		}
		e := dec.Audit
		e.Kind, e.ActorID, e.ActorName = kind, &dec.By.ID, authorHandle(dec.By)
		e.Before = audit.JSON(map[string]any{"state": DeliveryAwaitingApproval})
		e.After = audit.JSON(map[string]any{"state": set["state"], "comment": dec.Comment})
		if err := audit.Record(ctx, tx, e); err != nil {
			return err
		}
		return tx.First(d, "id = ?", d.ID).Error
	})
}

// ExpireApprovals rejects the deliveries whose approval window passed
// (a worker sweep) and records each expiry in its scope's audit log. The
// conditional UPDATE leaves any decided meanwhile, and only the rows it
// changed are logged, so concurrent sweeps log each expiry once.
func ExpireApprovals(ctx context.Context, db *gorm.DB, now time.Time) (int, error) {
	now = now.UTC()
	var due []struct {
		ID             int64  `gorm:"column:id"`
		UID            string `gorm:"column:uid"`
		AutomationName string `gorm:"column:automation_name"`
		TeamID         *int64 `gorm:"column:team_id"`
		RegistryID     *int64 `gorm:"column:registry_id"`
	}
	err := db.WithContext(ctx).Table("deliveries AS d").
		Select("d.id, d.uid, d.automation_name, p.team_id, a.registry_id").
		Joins("LEFT JOIN automations a ON a.id = d.automation_id").
		Joins("LEFT JOIN projects p ON p.id = a.project_id").
		Where(awaitingRows+" AND d.state = ? AND d.expires_at <= ?", DeliveryAwaitingApproval, now).Order("d.id").Limit(500).Scan(&due).Error
	if err != nil || len(due) == 0 {
		return 0, err
	}
	expired := 0
	for _, d := range due {
		err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			res := tx.Model(&Delivery{}).Where("id = ? AND state = ?", d.ID, DeliveryAwaitingApproval).Updates(map[string]any{
				"state": string(DeliveryRejected), "completed_at": now, "decided_at": now, "updated_at": now,
				"reason": "expired: nobody approved it in time",
			})
			if res.Error != nil || res.RowsAffected == 0 {
				return res.Error
			}
			expired++
			return audit.Record(ctx, tx, audit.Entry{
				TeamID: d.TeamID, RegistryID: d.RegistryID, ActorName: "system", Kind: "delivery.expire",
				Target: "delivery " + d.UID + " of automation " + d.AutomationName,
				Before: audit.JSON(map[string]any{"state": DeliveryAwaitingApproval}),
				After:  audit.JSON(map[string]any{"state": DeliveryRejected, "reason": "expired"}),
			})
		})
		if err != nil {
			return expired, fmt.Errorf("expire approval of %s: %w", d.UID, err)
		}
	}
	return expired, nil
}

// AwaitingApproval is a delivery waiting for a decision, with what a
// decider needs to see.
type AwaitingApproval struct {
	Delivery
	ScopeType      ScopeType `gorm:"column:scope_type"`
	EventVersion   string    `gorm:"-"`
	EventAuthor    string    `gorm:"-"`
	EventType      string    `gorm:"column:event_type"`
	AutomationDesc string    `gorm:"column:automation_description"`
}

// awaitingRows is deliveries_awaiting's predicate: awaiting rows are
// pending with an expiry (the index does not name state, so that a claim
// setting state stays a HOT update; migration 00023).
const awaitingRows = "d.expires_at IS NOT NULL AND d.completed_at IS NULL"

// AwaitingApprovalFor lists the deliveries u may decide, oldest first
// (through deliveries_awaiting): those of automations whose scope u
// administers (the project's team or the registry), all for site admins.
func AwaitingApprovalFor(ctx context.Context, db *gorm.DB, u *User, limit int) ([]AwaitingApproval, error) {
	q := db.WithContext(ctx).Table("deliveries AS d").
		Select("d.*, a.scope_type, e.type AS event_type, a.description AS automation_description").
		Joins("JOIN automations a ON a.id = d.automation_id").
		Joins("JOIN events e ON e.id = d.event_id").
		Where(awaitingRows+" AND d.state = ?", DeliveryAwaitingApproval)
	if !u.SiteAdmin {
		q = q.Where(`(a.project_id IN (SELECT p.id FROM projects p JOIN team_members m ON m.team_id = p.team_id
		WHERE m.user_id = ? AND m.role = ?) OR a.registry_id IN (SELECT r.registry_id FROM registry_members r
		WHERE r.user_id = ? AND r.role = ?))`, u.ID, RoleAdmin, u.ID, RoleAdmin)
	}
	var out []AwaitingApproval
	if err := q.Order("d.expires_at, d.id").Limit(limit).Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("deliveries awaiting approval: %w", err)
	}
	ids := make([]int64, len(out))
	for i := range out {
		ids[i] = out[i].EventID
	}
	evs, err := EventsByID(ctx, db, ids)
	if err != nil {
		return nil, err
	}
	byID := map[int64]*Event{}
	for i := range evs {
		byID[evs[i].ID] = &evs[i]
	}
	for i := range out {
		if ev := byID[out[i].EventID]; ev != nil {
			out[i].EventVersion, out[i].EventAuthor = ev.Vars.ArtifactVersionString, ev.Vars.EventAuthor
		}
	}
	return out, nil
}
