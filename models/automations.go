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
	RevisionID *int64 `gorm:"column:revision_id"`
	// DedupeWindow (seconds, 0: off) lets at most one delivery per
	// artifact version (or run) through within the window (§16).
	DedupeWindow int64 `gorm:"column:dedupe_window"`
	// RequireApproval parks deliveries as awaiting_approval until a scope
	// admin approves; ApprovalTimeout (seconds) rejects them after.
	RequireApproval bool  `gorm:"column:require_approval"`
	ApprovalTimeout int64 `gorm:"column:approval_timeout"`
	CreatedBy       int64 `gorm:"column:created_by"`
	// aliasRE is AliasRegex compiled, set by Explain on first use.
	aliasRE   *AliasPattern
	CreatedAt time.Time `gorm:"column:created_at"`
	UpdatedAt time.Time `gorm:"column:updated_at"`
}

// TableName maps Automation to its table.
func (Automation) TableName() string { return "automations" }

// AliasPattern is an alias regex (RE2) that must match the whole alias:
// "prod" matches "prod" but not "production".
type AliasPattern struct {
	re   *regexp.Regexp
	expr string // the text it was compiled from
}

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
	// Subject is what dedupe counts once: "version:<id>" for artifact
	// events ("run:<id>" for run events); empty turns dedupe off.
	Subject string
}

// MatchAutomations returns the enabled automations that fire for ev (the
// columns matching and queueing need): the candidates of ev's scope read
// through the scope indexes, each then decided by Explain, the one rule
// that live events, dry runs and the lineage page share.
func MatchAutomations(ctx context.Context, tx *gorm.DB, ev MatchTarget) ([]Automation, error) {
	where, args, err := candidates(ev)
	if err != nil {
		return nil, err
	}
	// Only what Explain and the options need (not the payload), scanned
	// by hand: this runs in every event's transaction.
	rows, err := tx.WithContext(ctx).Raw("SELECT id, enabled, scope_type, project_id, registry_id, collection_id, event_type, "+
		"alias_regex, dedupe_window, require_approval, approval_timeout FROM automations WHERE "+where+" ORDER BY id", args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("match automations: %w", err)
	}
	defer rows.Close()
	var matched []Automation
	for rows.Next() {
		var a Automation
		if err := rows.Scan(&a.ID, &a.Enabled, &a.ScopeType, &a.ProjectID, &a.RegistryID, &a.CollectionID, &a.EventType,
			&a.AliasRegex, &a.DedupeWindow, &a.RequireApproval, &a.ApprovalTimeout); err != nil {
			return nil, fmt.Errorf("match automations: %w", err)
		}
		if _, ok := a.Explain(ev); ok {
			matched = append(matched, a)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("match automations: %w", err)
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

// EnqueueDeliveries writes one delivery per matching automation, in tx:
// the event's own transaction, so deliveries exist exactly when the event
// does. Most are queued; an automation's options make one skipped (dedupe)
// or awaiting_approval instead (see enqueueMatched). It returns how many
// deliveries were written. Waking workers is the caller's job once tx has
// committed (a NOTIFY inside tx would serialize every committing
// transaction on PostgreSQL's notification lock).
func EnqueueDeliveries(ctx context.Context, tx *gorm.DB, eventID int64, ev MatchTarget) (int, error) {
	matched, err := MatchAutomations(ctx, tx, ev)
	if err != nil || len(matched) == 0 {
		return 0, err
	}
	return enqueueMatched(ctx, tx, eventID, ev, matched)
}

// EnqueueDeliveriesTo writes deliveries of event eventID for automations
// ids, in tx (the event's transaction), with their dedupe and approval
// options as for EnqueueDeliveries. Run events use it: their conditions,
// filters and cooldowns are decided per automation before the event is
// written (models/runs); ev names the event's scope, type and subject.
func EnqueueDeliveriesTo(ctx context.Context, tx *gorm.DB, eventID int64, ev MatchTarget, ids []int64) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	var matched []Automation
	err := tx.WithContext(ctx).Select("id, dedupe_window, require_approval, approval_timeout").
		Where("enabled AND id IN ?", ids).Order("id").Find(&matched).Error
	if err != nil {
		return 0, fmt.Errorf("read automations to queue: %w", err)
	}
	return enqueueMatched(ctx, tx, eventID, ev, matched)
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
