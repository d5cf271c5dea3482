package models

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// HistoryFilter chooses the deliveries a history page lists: those of one
// automation, or of every automation of a project or registry (found
// through their events, so deliveries of deleted automations stay).
type HistoryFilter struct {
	// DeliveryID picks one delivery (a history row refreshed alone).
	DeliveryID   *int64
	AutomationID *int64
	ProjectID    *int64
	RegistryID   *int64
	// State keeps one state only ("" keeps all).
	State DeliveryState
	// Query keeps deliveries whose automation name or event's artifact
	// version string contains it (case-insensitive).
	Query string
}

// HistoryEvent is what a history row says about the event that caused a
// delivery: its version string and alias, and where its version's page is.
type HistoryEvent struct {
	ID            int64
	Type          string
	VersionString string
	Alias         string
	Collection    string
	VersionIndex  int
	Author        string
	// TeamName and ProjectName are set for project events, RegistryName
	// for registry events.
	TeamName     string
	ProjectName  string
	RegistryName string
}

// HistoryLaunch is what a launch delivery asked for (its automation's
// configuration when the event matched) and the run-queue item it made.
type HistoryLaunch struct {
	Config LaunchActionConfig
	Item   *RunQueueItem
}

// DeliveryStates lists every state a delivery row can be in today, for
// filters.
var DeliveryStates = []DeliveryState{DeliveryQueued, DeliveryRunning, DeliveryRetrying, DeliverySucceeded, DeliveryFailed,
	DeliveryHeld, DeliveryAwaitingApproval, DeliveryRejected, DeliverySkipped}

// DeliveryHistory lists one page of deliveries, newest first, with their
// attempts, each one's event (events[i] belongs to ds[i]) and, for launch
// deliveries, what they launched. more says an older page exists. Callers
// pass ds through VisibleDeliveries before showing it.
func DeliveryHistory(ctx context.Context, db *gorm.DB, f HistoryFilter, p Page) (ds []DeliveryWithAttempts, events []HistoryEvent, launches map[int64]HistoryLaunch, more bool, err error) {
	q := db.WithContext(ctx).Table("deliveries AS d").Select("d.*")
	switch {
	case f.DeliveryID != nil:
		q = q.Where("d.id = ?", *f.DeliveryID)
	case f.AutomationID != nil:
		q = q.Where("d.automation_id = ?", *f.AutomationID)
	case f.ProjectID != nil:
		q = q.Where("d.event_id IN (SELECT id FROM events WHERE project_id = ?)", *f.ProjectID)
	case f.RegistryID != nil:
		q = q.Where("d.event_id IN (SELECT id FROM events WHERE registry_id = ?)", *f.RegistryID)
	default:
		return nil, nil, nil, false, fmt.Errorf("delivery history: no automation or scope")
	}
	if f.State != "" {
		q = q.Where("d.state = ?", string(f.State))
	}
	if query := strings.TrimSpace(f.Query); query != "" {
		q = q.Where("("+likeClause("d.automation_name")+" OR d.event_id IN (SELECT id FROM events WHERE "+likeClause("payload")+"))",
			likePattern(query), likePattern(query))
	}
	var rows []Delivery
	if err := p.apply(q.Order("d.id DESC")).Scan(&rows).Error; err != nil {
		return nil, nil, nil, false, fmt.Errorf("delivery history: %w", err)
	}
	rows, more = cut(rows, p)
	if ds, err = withAttempts(ctx, db, rows); err != nil {
		return nil, nil, nil, false, err
	}
	if events, err = historyEvents(ctx, db, rows); err != nil {
		return nil, nil, nil, false, err
	}
	if launches, err = historyLaunches(ctx, db, rows); err != nil {
		return nil, nil, nil, false, err
	}
	return ds, events, launches, more, nil
}

// withAttempts reads the attempts of ds, oldest first, with the request
// bodies of successful webhook attempts rendered again (fillSentBodies).
func withAttempts(ctx context.Context, db *gorm.DB, ds []Delivery) ([]DeliveryWithAttempts, error) {
	out := make([]DeliveryWithAttempts, len(ds))
	if len(ds) == 0 {
		return out, nil
	}
	ids := make([]int64, len(ds))
	index := map[int64]int{}
	for i, d := range ds {
		ids[i] = d.ID
		index[d.ID] = i
		out[i].Delivery = d
	}
	var attempts []DeliveryAttempt
	if err := db.WithContext(ctx).Where("delivery_id IN ?", ids).Order("delivery_id, number").Find(&attempts).Error; err != nil {
		return nil, fmt.Errorf("list attempts: %w", err)
	}
	for _, a := range attempts {
		i := index[a.DeliveryID]
		out[i].AttemptList = append(out[i].AttemptList, a)
	}
	if err := fillSentBodies(ctx, db, out); err != nil {
		return nil, err
	}
	return out, nil
}

func historyEvents(ctx context.Context, db *gorm.DB, ds []Delivery) ([]HistoryEvent, error) {
	out := make([]HistoryEvent, len(ds))
	if len(ds) == 0 {
		return out, nil
	}
	ids := make([]int64, len(ds))
	for i, d := range ds {
		ids[i] = d.EventID
	}
	var rows []struct {
		ID           int64  `gorm:"column:id"`
		Type         string `gorm:"column:type"`
		Payload      string `gorm:"column:payload"`
		TeamName     string `gorm:"column:team_name"`
		ProjectName  string `gorm:"column:project_name"`
		RegistryName string `gorm:"column:registry_name"`
	}
	err := db.WithContext(ctx).Table("events AS e").
		Select("e.id, e.type, e.payload, COALESCE(t.name, '') AS team_name, COALESCE(p.name, '') AS project_name, COALESCE(r.name, '') AS registry_name").
		Joins("LEFT JOIN projects p ON p.id = e.project_id").
		Joins("LEFT JOIN teams t ON t.id = p.team_id").
		Joins("LEFT JOIN registries r ON r.id = e.registry_id").
		Where("e.id IN ?", ids).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("delivery history: read events: %w", err)
	}
	byID := map[int64]HistoryEvent{}
	for _, r := range rows {
		var v EventVars
		if err := json.Unmarshal([]byte(r.Payload), &v); err != nil {
			return nil, fmt.Errorf("decode event %d: %w", r.ID, err)
		}
		byID[r.ID] = HistoryEvent{
			ID: r.ID, Type: r.Type, VersionString: v.ArtifactVersionString, Alias: v.Alias,
			Collection: v.ArtifactCollectionName, VersionIndex: v.ArtifactVersionIndex, Author: v.EventAuthor,
			TeamName: r.TeamName, ProjectName: r.ProjectName, RegistryName: r.RegistryName,
		}
	}
	for i, d := range ds {
		out[i] = byID[d.EventID]
		out[i].ID = d.EventID
	}
	return out, nil
}

// historyLaunches reads, for launch deliveries, the configuration they
// were queued with (their revision's) and the run-queue item they made.
func historyLaunches(ctx context.Context, db *gorm.DB, ds []Delivery) (map[int64]HistoryLaunch, error) {
	out := map[int64]HistoryLaunch{}
	var revIDs []int64
	var uids []string
	for _, d := range ds {
		if d.ActionType == ActionLaunch {
			revIDs = append(revIDs, d.RevisionID)
			uids = append(uids, d.UID)
		}
	}
	if len(revIDs) == 0 {
		return out, nil
	}
	var revs []AutomationRevision
	if err := db.WithContext(ctx).Where("id IN ?", revIDs).Find(&revs).Error; err != nil {
		return nil, fmt.Errorf("delivery history: read revisions: %w", err)
	}
	configs := map[int64]LaunchActionConfig{}
	for _, r := range revs {
		c, _ := ParseLaunchActionConfig(r.ActionConfig) // shown as stored, even if incomplete
		configs[r.ID] = c
	}
	var items []RunQueueItem
	if err := db.WithContext(ctx).Where("delivery_uid IN ?", uids).Find(&items).Error; err != nil {
		return nil, fmt.Errorf("delivery history: read run items: %w", err)
	}
	byUID := map[string]*RunQueueItem{}
	for i := range items {
		if items[i].DeliveryUID != nil {
			byUID[*items[i].DeliveryUID] = &items[i]
		}
	}
	for _, d := range ds {
		if d.ActionType == ActionLaunch {
			out[d.ID] = HistoryLaunch{Config: configs[d.RevisionID], Item: byUID[d.UID]}
		}
	}
	return out, nil
}

// RetryNow makes a retrying delivery due at once instead of at its next
// scheduled attempt. Only a retrying delivery that no worker holds
// changes (the WHERE is the check, so a worker claiming it meanwhile wins).
func RetryNow(ctx context.Context, db *gorm.DB, deliveryID int64) error {
	now := time.Now().UTC()
	res := db.WithContext(ctx).Model(&Delivery{}).
		Where("id = ? AND state = ? AND leased_by = ''", deliveryID, string(DeliveryRetrying)).
		Updates(map[string]any{"next_attempt_at": now, "updated_at": now})
	if res.Error != nil {
		return fmt.Errorf("retry delivery %d now: %w", deliveryID, res.Error)
	}
	if res.RowsAffected == 0 {
		var d Delivery
		if err := db.WithContext(ctx).First(&d, "id = ?", deliveryID).Error; err != nil {
			return notFound(err, "delivery")
		}
		return Conflict("state", "this delivery is %s, not waiting to retry", d.State)
	}
	return nil
}
