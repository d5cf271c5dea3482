package models

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Mismatch rules: which part of an automation kept it from firing for an
// event (the lineage page shows them; DESIGN.md §16).
const (
	MismatchScope      = "scope"
	MismatchEventType  = "event type"
	MismatchCollection = "collection filter"
	MismatchAlias      = "alias regex"
	MismatchDisabled   = "disabled"
)

// Mismatch says why an automation does not fire for an event.
type Mismatch struct {
	Rule   string // one of the Mismatch* rules
	Detail string // for people: what the automation wants instead
}

// Explain decides whether a fires for the event t, and if not, why. It is
// the one matching rule: live events (MatchAutomations, after an index
// prefilter on scope, type and enabled), dry runs and the lineage page
// all call it. Disabled is checked last, so a disabled automation that
// would otherwise match says so.
//
// Run events (DESIGN.md §14) plug in here: a case on their event types
// checking states, the run-name regex and the user, after the scope check
// (project scope only), with Subject "run:<id>" for dedupe.
func (a *Automation) Explain(t MatchTarget) (Mismatch, bool) {
	if m, ok := a.explainScope(t); !ok {
		return m, false
	}
	if a.EventType != t.Type {
		return Mismatch{MismatchEventType, "watches " + a.EventType + ", not " + t.Type}, false
	}
	if t.Type == EventAddArtifactAlias && !a.aliasMatches(t.Alias) {
		return Mismatch{MismatchAlias, fmt.Sprintf("alias %q does not match %s", t.Alias, a.AliasRegex)}, false
	}
	if !a.Enabled {
		return Mismatch{MismatchDisabled, "the automation is disabled"}, false
	}
	return Mismatch{}, true
}

// aliasMatches checks the alias regex, compiled once per Automation value
// (a dry run decides thousands of events with one).
func (a *Automation) aliasMatches(alias string) bool {
	if a.aliasRE == nil || a.aliasRE.expr != a.AliasRegex {
		re, err := CompileAliasRegex(a.AliasRegex)
		if err != nil {
			return false
		}
		re.expr, a.aliasRE = a.AliasRegex, re
	}
	return a.aliasRE.Match(alias)
}

func (a *Automation) explainScope(t MatchTarget) (Mismatch, bool) {
	switch a.ScopeType {
	case ScopeProject:
		if t.ProjectID == nil || a.ProjectID == nil || *t.ProjectID != *a.ProjectID {
			return Mismatch{MismatchScope, "watches another project"}, false
		}
		if a.CollectionID != nil && *a.CollectionID != t.CollectionID {
			return Mismatch{MismatchCollection, "narrowed to another collection"}, false
		}
	case ScopeRegistry, ScopeRegistryCollection:
		if t.RegistryID == nil || a.RegistryID == nil || *t.RegistryID != *a.RegistryID {
			return Mismatch{MismatchScope, "watches another registry"}, false
		}
		if a.ScopeType == ScopeRegistryCollection && (a.CollectionID == nil || *a.CollectionID != t.CollectionID) {
			return Mismatch{MismatchCollection, "watches another collection of the registry"}, false
		}
	default:
		return Mismatch{MismatchScope, "unknown scope " + string(a.ScopeType)}, false
	}
	return Mismatch{}, true
}

// ParkedUntil is the next attempt time of a delivery awaiting approval:
// never due, so no claim takes it; approving makes it due now.
var ParkedUntil = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// enqueueMatched writes the deliveries of the automations that matched ev.
// An automation with a dedupe window first claims (automation, subject)
// in delivery_dedupe; when a recent delivery holds it, the match is
// recorded as skipped with the reason. An automation that requires
// approval gets a delivery awaiting_approval, parked until decided.
// Everything else is queued in one statement, or, in an EventTransaction
// with a local runner, leased to it (insertQueuedOrLeased).
func enqueueMatched(ctx context.Context, tx *gorm.DB, eventID int64, ev MatchTarget, matched []Automation) (int, error) {
	batch := batchOf(tx) // before WithContext replaces the transaction's context
	tx = tx.WithContext(ctx)
	now := time.Now().UTC()
	var queued []int64
	written := 0
	for i := range matched {
		a := &matched[i]
		var claimedDedupe bool
		if a.DedupeWindow > 0 && ev.Subject != "" {
			ok, holder, err := claimDedupe(tx, a.ID, ev.Subject, now, time.Duration(a.DedupeWindow)*time.Second)
			if err != nil {
				return written, err
			}
			if !ok {
				reason := fmt.Sprintf("dedupe: at most once per %s within %s", subjectLabel(ev.Subject), FormatWindow(a.DedupeWindow))
				if holder != "" {
					reason += "; delivery " + holder + " already covers it"
				}
				if _, err := insertDeliveries(tx, eventID, []int64{a.ID}, DeliverySkipped, now, now, nil, reason); err != nil {
					return written, err
				}
				written++
				continue
			}
			claimedDedupe = true
		}
		if !a.RequireApproval && !claimedDedupe {
			queued = append(queued, a.ID)
			continue
		}
		state, next, expires := DeliveryQueued, now, (*time.Time)(nil)
		if a.RequireApproval {
			exp := now.Add(time.Duration(a.ApprovalTimeout) * time.Second)
			state, next, expires = DeliveryAwaitingApproval, ParkedUntil, &exp
		}
		ids, err := insertDeliveries(tx, eventID, []int64{a.ID}, state, next, now, expires, "")
		if err != nil {
			return written, err
		}
		written += len(ids)
		if batch != nil && state == DeliveryQueued {
			batch.queued += len(ids)
		}
		if claimedDedupe && len(ids) == 1 {
			if err := tx.Exec("UPDATE delivery_dedupe SET delivery_id = ? WHERE automation_id = ? AND subject = ?", ids[0], a.ID, ev.Subject).Error; err != nil {
				return written, fmt.Errorf("dedupe: %w", err)
			}
		}
	}
	if len(queued) > 0 {
		var n int
		var err error
		if batch != nil {
			n, err = insertQueuedOrLeased(tx, batch, eventID, ev, queued, now)
		} else {
			n, err = insertQueued(tx, eventID, ev, queued, now)
		}
		if err != nil {
			return written, err
		}
		written += n
	}
	return written, nil
}

// insertQueued is the common case: queued deliveries for automations ids
// (matched for ev) made by the database from their rows in one statement
// of fixed text (no parameters per delivery).
func insertQueued(tx *gorm.DB, eventID int64, ev MatchTarget, ids []int64, now time.Time) (int, error) {
	uid, id, at := deliveryUIDExpr(tx)
	in, list := idList(tx, ids)
	// The candidates' condition again, so the rows are found through the
	// scope index; the id list is what Explain accepted among them.
	where, args, err := candidates(ev)
	if err != nil {
		return 0, err
	}
	res := tx.Exec(queuedInsertSQL(uid, id, at, "automations WHERE "+where+" AND "+in+" ORDER BY id"),
		append(append([]any{eventID, now, now, now}, args...), list)...)
	if res.Error != nil {
		return 0, fmt.Errorf("queue deliveries: %w", res.Error)
	}
	return int(res.RowsAffected), nil
}

// queuedInsertSQL is the INSERT … SELECT of queued deliveries of event
// (an SQL expression) at time at (an expression, used three times), one
// per automation row that from (a FROM clause with its conditions and
// order) gives with the columns id, name, action_type, team_id,
// webhook_id and revision_id. insertQueued and recordAndQueue share it.
func queuedInsertSQL(uid, event, at, from string) string {
	return `INSERT INTO deliveries (uid, event_id, automation_id, automation_name, action_type, team_id, webhook_id,
  revision_id, state, attempts, next_attempt_at, created_at, updated_at)
SELECT ` + uid + `, ` + event + `, id, name, action_type, team_id, webhook_id, revision_id, 'queued', 0, ` + at + `, ` + at + `, ` + at + `
FROM ` + from
}

// insertDeliveries writes deliveries in state for automations ids and
// returns their row ids. Skipped ones are finished at once.
func insertDeliveries(tx *gorm.DB, eventID int64, ids []int64, state DeliveryState, next, now time.Time, expires *time.Time, reason string) ([]int64, error) {
	var completed *time.Time
	if state == DeliverySkipped || state == DeliveryRejected {
		completed = &now
	}
	uid, id, at := deliveryUIDExpr(tx)
	var out []int64
	err := tx.Raw(`INSERT INTO deliveries (uid, event_id, automation_id, automation_name, action_type, team_id, webhook_id,
  revision_id, state, attempts, next_attempt_at, created_at, updated_at, completed_at, expires_at, reason)
SELECT `+uid+`, `+id+`, id, name, action_type, team_id, webhook_id, revision_id, ?, 0, `+at+`, `+at+`, `+at+`, `+at+`, `+at+`, ?
FROM automations WHERE id IN ? ORDER BY id RETURNING id`,
		eventID, string(state), next, now, now, completed, expires, reason, ids).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("write %s deliveries: %w", state, err)
	}
	return out, nil
}

// idList is "id is one of ids" as one parameter, so the statement's text
// is the same whatever the number of automations (PostgreSQL plans it
// once per connection instead of once per distinct list length).
// (SQLite prepares cheaply: the list is expanded there.)
func idList(tx *gorm.DB, ids []int64) (cond string, arg any) {
	if Dialect(tx) != "postgres" {
		return "id IN ?", ids
	}
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return "id = ANY(CAST(? AS BIGINT[]))", "{" + strings.Join(parts, ",") + "}"
}

// deliveryUIDExpr is the SQL making a delivery's public id, and the casts
// PostgreSQL needs for an id and a time parameter in a SELECT list.
//
// The id is dlv_ and 32 hex digits: the statement's time in milliseconds
// (12 digits), then 20 random ones (74 random bits from a v4 UUID on
// PostgreSQL, 80 on SQLite). Led by the time, new ids go to the right
// edge of the unique index on uid, as the other indexes of deliveries do,
// instead of to a random leaf page each: a fully random id cost each
// inserted row a page of its own to find, dirty and write (on PostgreSQL
// its first change after a checkpoint logs the whole page; on SQLite a
// commit writes each dirty page to the WAL). The time is a scalar
// subquery, worked out once per statement rather than once per row.
func deliveryUIDExpr(tx *gorm.DB) (uid, id, at string) {
	if Dialect(tx) == "postgres" {
		return "(SELECT 'dlv_' || lpad(to_hex(CAST(extract(epoch FROM statement_timestamp()) * 1000 AS BIGINT)), 12, '0')) || " +
				"right(replace(gen_random_uuid()::text, '-', ''), 20)",
			"CAST(? AS BIGINT)", "CAST(? AS TIMESTAMPTZ)"
	}
	return "(SELECT 'dlv_' || printf('%012x', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))) || lower(hex(randomblob(10)))", "?", "?"
}

// claimDedupe takes (automation, subject) for window unless a delivery
// took it less than window ago; holder is that delivery's public id.
// Safe under concurrency: the primary key makes a second upsert of the
// same pair wait for the first transaction and then see its row, whose
// window has not passed, so it updates nothing and reports not claimed.
func claimDedupe(tx *gorm.DB, automationID int64, subject string, now time.Time, window time.Duration) (ok bool, holder string, err error) {
	var got []int64
	err = tx.Raw(`INSERT INTO delivery_dedupe (automation_id, subject, expires_at) VALUES (?, ?, ?)
ON CONFLICT (automation_id, subject) DO UPDATE SET expires_at = excluded.expires_at, delivery_id = NULL
WHERE delivery_dedupe.expires_at <= ?
RETURNING automation_id`, automationID, subject, now.Add(window), now).Scan(&got).Error
	if err != nil {
		return false, "", fmt.Errorf("dedupe: %w", err)
	}
	if len(got) == 1 {
		return true, "", nil
	}
	var uids []string
	if err := tx.Raw(`SELECT d.uid FROM delivery_dedupe x JOIN deliveries d ON d.id = x.delivery_id
WHERE x.automation_id = ? AND x.subject = ?`, automationID, subject).Scan(&uids).Error; err != nil {
		return false, "", fmt.Errorf("dedupe: %w", err)
	}
	if len(uids) == 1 {
		holder = uids[0]
	}
	return false, holder, nil
}

func subjectLabel(subject string) string {
	kind, _, _ := strings.Cut(subject, ":")
	if kind == "version" {
		return "artifact version"
	}
	return kind
}

// FormatWindow writes a window of seconds as people read it: 24h, 30m, 90s.
func FormatWindow(seconds int64) string {
	d := time.Duration(seconds) * time.Second
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%ds", seconds)
}
