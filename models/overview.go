package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// TroubledAutomation is an automation whose deliveries need attention: its
// newest delivery failed, or some are retrying or held.
type TroubledAutomation struct {
	ID        int64     `gorm:"column:id"`
	Name      string    `gorm:"column:name"`
	ScopeType ScopeType `gorm:"column:scope_type"`
	// TeamName/ProjectName name a project automation's project,
	// RegistryName a registry automation's registry.
	TeamName     string `gorm:"column:team_name"`
	ProjectName  string `gorm:"column:project_name"`
	RegistryName string `gorm:"column:registry_name"`
	LastState    string `gorm:"column:last_state"`
	// Failed counts failures since the last success.
	Failed   int `gorm:"column:failed"`
	Retrying int `gorm:"column:retrying"`
	Held     int `gorm:"column:held"`
	// LastID is the newest delivery; LastAt when it was queued.
	LastID *int64     `gorm:"column:last_id"`
	LastAt *time.Time `gorm:"-"`
}

// visibleAutomations narrows q (over "automations AS a") to what u may
// view: automations of projects of u's teams and of u's registries; a site
// admin sees all.
func visibleAutomations(q *gorm.DB, u *User) *gorm.DB {
	if u.SiteAdmin {
		return q
	}
	return q.Where(`(a.project_id IN (SELECT p.id FROM projects p JOIN team_members m ON m.team_id = p.team_id WHERE m.user_id = ?)
		OR a.registry_id IN (SELECT registry_id FROM registry_members WHERE user_id = ?))`, u.ID, u.ID)
}

// TroubledAutomations lists, across everything u may view, every
// automation whose newest delivery failed or that has deliveries retrying
// or held, the most recently active first. The list is not cut: each row
// is something to fix.
func TroubledAutomations(ctx context.Context, db *gorm.DB, u *User) ([]TroubledAutomation, error) {
	inner := db.WithContext(ctx).Table("automations AS a").Select(`a.id, a.name, a.scope_type,
		COALESCE(t.name, '') AS team_name, COALESCE(p.name, '') AS project_name, COALESCE(r.name, '') AS registry_name,
		COALESCE((SELECT d.state FROM deliveries d WHERE d.automation_id = a.id ORDER BY d.id DESC LIMIT 1), '') AS last_state,
		(SELECT MAX(d.id) FROM deliveries d WHERE d.automation_id = a.id) AS last_id,
		(SELECT COUNT(*) FROM deliveries d WHERE d.automation_id = a.id AND d.state = 'failed'
			AND d.id > COALESCE((SELECT MAX(s.id) FROM deliveries s WHERE s.automation_id = a.id AND s.state = 'succeeded'), 0)) AS failed,
		(SELECT COUNT(*) FROM deliveries d WHERE d.automation_id = a.id AND d.state = 'retrying') AS retrying,
		(SELECT COUNT(*) FROM deliveries d WHERE d.automation_id = a.id AND d.state = 'held') AS held`).
		Joins("LEFT JOIN projects p ON p.id = a.project_id").
		Joins("LEFT JOIN teams t ON t.id = p.team_id").
		Joins("LEFT JOIN registries r ON r.id = a.registry_id")
	inner = visibleAutomations(inner, u)
	var out []TroubledAutomation
	err := db.WithContext(ctx).Table("(?) AS x", inner).
		Where("x.last_state = 'failed' OR x.retrying > 0 OR x.held > 0").
		Order("x.last_id DESC, x.id DESC").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("troubled automations: %w", err)
	}
	// The times are read from the table itself: SQLite gives a
	// subquery's time as text.
	var ids []int64
	for _, t := range out {
		if t.LastID != nil {
			ids = append(ids, *t.LastID)
		}
	}
	if len(ids) > 0 {
		var ds []Delivery
		if err := db.WithContext(ctx).Select("id, created_at").Where("id IN ?", ids).Find(&ds).Error; err != nil {
			return nil, fmt.Errorf("troubled automations: %w", err)
		}
		at := map[int64]time.Time{}
		for _, d := range ds {
			at[d.ID] = d.CreatedAt
		}
		for i, t := range out {
			if t.LastID != nil {
				if v, ok := at[*t.LastID]; ok {
					out[i].LastAt = &v
				}
			}
		}
	}
	return out, nil
}

// RecentEvent is an event of the overview, with where it happened.
type RecentEvent struct {
	HistoryEvent
	CreatedAt time.Time
}

// RecentEvents lists the newest limit events of the projects and
// registries u may view, newest first.
func RecentEvents(ctx context.Context, db *gorm.DB, u *User, limit int) ([]RecentEvent, error) {
	q := db.WithContext(ctx).Table("events AS e").Select("e.*")
	if !u.SiteAdmin {
		q = q.Where(`(e.project_id IN (SELECT p.id FROM projects p JOIN team_members m ON m.team_id = p.team_id WHERE m.user_id = ?)
			OR e.registry_id IN (SELECT registry_id FROM registry_members WHERE user_id = ?))`, u.ID, u.ID)
	}
	var evs []Event
	if err := q.Order("e.id DESC").Limit(limit).Scan(&evs).Error; err != nil {
		return nil, fmt.Errorf("recent events: %w", err)
	}
	ds := make([]Delivery, len(evs))
	for i, ev := range evs {
		ds[i].EventID = ev.ID
	}
	refs, err := historyEvents(ctx, db, ds)
	if err != nil {
		return nil, err
	}
	out := make([]RecentEvent, len(evs))
	for i, ev := range evs {
		out[i] = RecentEvent{HistoryEvent: refs[i], CreatedAt: ev.CreatedAt}
	}
	return out, nil
}
