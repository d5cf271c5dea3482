package models

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models/runcond"
)

// ScopeType is what an automation watches.
type ScopeType string

// Scopes (DESIGN.md §4): a registry (all its collections, also future
// ones), one registry collection, or a project with an optional collection filter.
const (
	ScopeProject            ScopeType = "project"
	ScopeRegistry           ScopeType = "registry"
	ScopeRegistryCollection ScopeType = "registry_collection"
)

// Event types (DESIGN.md §5).
const (
	EventCreateArtifact   = "CREATE_ARTIFACT"
	EventAddArtifactAlias = "ADD_ARTIFACT_ALIAS"
	EventLinkArtifact     = "LINK_ARTIFACT"
)

// Action types.
const (
	ActionWebhook = "webhook"
	ActionSlack   = "slack"
	ActionLaunch  = "launch"
)

// EventTypesFor lists the events an automation of scope s can watch.
func EventTypesFor(s ScopeType) []string {
	if s == ScopeProject {
		return append([]string{EventCreateArtifact, EventAddArtifactAlias}, runcond.Types()...)
	}
	return []string{EventLinkArtifact, EventAddArtifactAlias}
}

// Automation fires an action when a matching event happens.
type Automation struct {
	ID           int64     `gorm:"column:id;primaryKey"`
	Name         string    `gorm:"column:name"`
	Description  string    `gorm:"column:description"`
	Enabled      bool      `gorm:"column:enabled"`
	ScopeType    ScopeType `gorm:"column:scope_type"`
	ProjectID    *int64    `gorm:"column:project_id"`
	RegistryID   *int64    `gorm:"column:registry_id"`
	CollectionID *int64    `gorm:"column:collection_id"`
	EventType    string    `gorm:"column:event_type"`
	AliasRegex   string    `gorm:"column:alias_regex"`
	// EventConfig holds a run event's parameters (runcond.Config as JSON);
	// "{}" for artifact events.
	EventConfig  string `gorm:"column:event_config"`
	ActionType   string `gorm:"column:action_type"`
	TeamID       int64  `gorm:"column:team_id"`
	WebhookID    *int64 `gorm:"column:webhook_id"`
	Payload      string `gorm:"column:payload"`
	ActionConfig string `gorm:"column:action_config"`
	// RevisionID is the current AutomationRevision: what deliveries queued
	// now will send.
	RevisionID *int64    `gorm:"column:revision_id"`
	CreatedBy  int64     `gorm:"column:created_by"`
	CreatedAt  time.Time `gorm:"column:created_at"`
	UpdatedAt  time.Time `gorm:"column:updated_at"`
}

// TableName maps Automation to its table.
func (Automation) TableName() string { return "automations" }

// AliasPattern is an alias regex (RE2) that must match the whole alias:
// "prod" matches "prod" but not "production".
type AliasPattern struct{ re *regexp.Regexp }

// CompileAliasRegex compiles the user's expression on its own, never glued
// into a larger pattern: text such as `prod)|(?:zzz` cannot close an
// anchoring group someone else wrote, it is simply refused. Whole-alias
// matching is then a property of the match (see Match), not of the text.
func CompileAliasRegex(expr string) (*AliasPattern, error) {
	if expr == "" {
		return nil, Invalid("event.alias_regex", "is required for ADD_ARTIFACT_ALIAS: e.g. production or ^(prod|staging)$")
	}
	if len(expr) > 500 {
		return nil, Invalid("event.alias_regex", "must be at most 500 characters")
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, Invalid("event.alias_regex", "%s", regexProblem(expr, err))
	}
	// Leftmost-longest: if any match spans the whole alias it starts at 0,
	// so the leftmost match starts there and the longest one at 0 is it.
	re.Longest()
	return &AliasPattern{re: re}, nil
}

// Match reports whether the pattern matches all of alias.
func (p *AliasPattern) Match(alias string) bool {
	loc := p.re.FindStringIndex(alias)
	return loc != nil && loc[0] == 0 && loc[1] == len(alias)
}

// MatchTarget is what matching needs to know about an event.
type MatchTarget struct {
	Type         string
	ProjectID    *int64 // set for project events
	RegistryID   *int64 // set for registry events
	CollectionID int64
	Alias        string // the alias added, for ADD_ARTIFACT_ALIAS
}

// MatchAutomations returns the enabled automations that fire for ev, by
// the same condition EnqueueDeliveries queues with (which does it inside
// its INSERT instead of reading them out).
func MatchAutomations(ctx context.Context, tx *gorm.DB, ev MatchTarget) ([]Automation, error) {
	where, args, err := candidates(ev)
	if err != nil {
		return nil, err
	}
	var found []Automation
	if err := tx.WithContext(ctx).Where(where, args...).Order("id").Find(&found).Error; err != nil {
		return nil, fmt.Errorf("match automations: %w", err)
	}
	if ev.Type != EventAddArtifactAlias {
		return found, nil
	}
	matched := found[:0]
	for _, a := range found {
		if aliasMatches(a.AliasRegex, ev.Alias) {
			matched = append(matched, a)
		}
	}
	return matched, nil
}

// candidates is the condition on automations that selects the enabled
// ones of ev's scope and type; for ADD_ARTIFACT_ALIAS their alias regex is
// still to be checked. It reads only the candidates of the event's scope
// (partial indexes automations_project_match / automations_registry_match),
// so matching does not grow with other projects' and registries' automations.
func candidates(ev MatchTarget) (string, []any, error) {
	switch {
	case ev.ProjectID != nil:
		return "enabled AND event_type = ? AND project_id = ? AND scope_type = ? AND (collection_id IS NULL OR collection_id = ?)",
			[]any{ev.Type, *ev.ProjectID, ScopeProject, ev.CollectionID}, nil
	case ev.RegistryID != nil:
		return "enabled AND event_type = ? AND registry_id = ? AND (scope_type = ? OR (scope_type = ? AND collection_id = ?))",
			[]any{ev.Type, *ev.RegistryID, ScopeRegistry, ScopeRegistryCollection, ev.CollectionID}, nil
	}
	return "", nil, fmt.Errorf("match automations: event has no scope")
}

func aliasMatches(regex, alias string) bool {
	re, err := CompileAliasRegex(regex)
	return err == nil && re.Match(alias)
}

// DeliveryNotifyChannel is the PostgreSQL channel on which committed
// deliveries wake every worker process (see jobs.Notifier).
const DeliveryNotifyChannel = "automations_deliveries"

// EnqueueDeliveries writes one queued delivery per matching automation, in
// tx: the event's own transaction, so deliveries exist exactly when the
// event does. It returns how many were queued. Waking workers is the
// caller's job once tx has committed (a NOTIFY inside tx would serialize
// every committing transaction on PostgreSQL's notification lock).
func EnqueueDeliveries(ctx context.Context, tx *gorm.DB, eventID int64, ev MatchTarget) (int, error) {
	tx = tx.WithContext(ctx)
	where, args, err := candidates(ev)
	if err != nil {
		return 0, err
	}
	if ev.Type == EventAddArtifactAlias {
		// The alias regexes are RE2, checked here rather than in SQL.
		var found []struct {
			ID         int64  `gorm:"column:id"`
			AliasRegex string `gorm:"column:alias_regex"`
		}
		if err := tx.Model(&Automation{}).Select("id, alias_regex").Where(where, args...).Find(&found).Error; err != nil {
			return 0, fmt.Errorf("match automations: %w", err)
		}
		var ids []int64
		for _, a := range found {
			if aliasMatches(a.AliasRegex, ev.Alias) {
				ids = append(ids, a.ID)
			}
		}
		if len(ids) == 0 {
			return 0, nil
		}
		where, args = where+" AND id IN ?", append(args, ids)
	}
	return insertDeliveries(tx, eventID, where, args)
}

// EnqueueDeliveriesTo queues one delivery of event eventID for each of the
// automations ids, in tx (the event's transaction). Run events use it:
// their conditions, filters and cooldowns are decided per automation
// before the event is written (models/runs).
func EnqueueDeliveriesTo(ctx context.Context, tx *gorm.DB, eventID int64, ids []int64) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	return insertDeliveries(tx.WithContext(ctx), eventID, "enabled AND id IN ?", []any{ids})
}

// insertDeliveries queues a delivery of eventID for every automation that
// satisfies where.
func insertDeliveries(tx *gorm.DB, eventID int64, where string, args []any) (int, error) {
	// The database makes the rows from the matching automations in one
	// statement: no round trip to read them, no parameters per delivery.
	uid, id, at := "'dlv_' || lower(hex(randomblob(16)))", "?", "?"
	if Dialect(tx) == "postgres" {
		uid, id, at = "'dlv_' || replace(gen_random_uuid()::text, '-', '')", "CAST(? AS BIGINT)", "CAST(? AS TIMESTAMPTZ)"
	}
	now := time.Now().UTC()
	res := tx.Exec(`INSERT INTO deliveries (uid, event_id, automation_id, automation_name, action_type, team_id, webhook_id,
  revision_id, state, attempts, next_attempt_at, created_at, updated_at)
SELECT `+uid+`, `+id+`, id, name, action_type, team_id, webhook_id, revision_id, 'queued', 0, `+at+`, `+at+`, `+at+`
FROM automations WHERE `+where+` ORDER BY id`, append([]any{eventID, now, now, now}, args...)...)
	if res.Error != nil {
		return 0, fmt.Errorf("queue deliveries: %w", res.Error)
	}
	return int(res.RowsAffected), nil
}

// regexProblem says what is wrong with the user's regular expression in
// their own text: the problem and the part of it where it is, not Go's
// "error parsing regexp" wording.
func regexProblem(expr string, err error) string {
	var se *syntax.Error
	if !errors.As(err, &se) {
		return "is not a valid regular expression"
	}
	at := se.Expr
	if at == "" || at == expr {
		return fmt.Sprintf("is not a valid regular expression: %s in “%s”", se.Code, Excerpt(expr))
	}
	return fmt.Sprintf("is not a valid regular expression: %s at “%s” in “%s”", se.Code, Excerpt(at), Excerpt(expr))
}
