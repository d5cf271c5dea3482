package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Logging an artifact event is the hot path of intake (issue 17): a
// version, its event and one delivery per matching automation, written
// in one transaction. On PostgreSQL that transaction takes four round
// trips: BEGIN, the version (numbered and inserted in one statement), the
// event with its deliveries (one statement), COMMIT.

// versionColumns are the parameters $1…$5 of the numbering statements.
const versionColumns = `(collection_id, version_index, metadata, digest, author_id, source_version_id, created_at)`

// insertNextVersion inserts v as the next version of the collection that
// match selects (parameters from $6, args), numbered from the collection's
// counter, sets v's ID, CollectionID and VersionIndex, and returns the
// collection; nil, having written nothing, when match selects none.
//
// Safe under concurrency without a lock taken beforehand: the UPDATE of
// the counter takes the collection's row lock, waits for a concurrent
// writer's transaction and then reads its committed counter (PostgreSQL
// re-reads an updated row under READ COMMITTED; SQLite has one writer at
// a time). The lock is held to the end of the transaction, so alias moves
// (lockCollection) serialize with it, and a rollback returns the number.
// The unique (collection_id, version_index) key backs this up.
func insertNextVersion(ctx context.Context, tx *gorm.DB, v *ArtifactVersion, match string, args ...any) (*Collection, error) {
	v.CreatedAt = time.Now().UTC().Truncate(time.Microsecond) // as stored
	params := append([]any{v.Metadata, v.Digest, v.AuthorID, v.SourceVersionID, v.CreatedAt}, args...)
	bump := `UPDATE artifact_collections SET next_version = next_version + 1 WHERE ` + match +
		` RETURNING id, project_id, registry_id, name, type, created_at, next_version - 1 AS idx`
	var c Collection
	collection := []any{&c.ID, &c.ProjectID, &c.RegistryID, &c.Name, &c.Type, &c.CreatedAt, &v.VersionIndex}
	if Dialect(tx) == "postgres" {
		// One round trip: the counter and the row in one statement.
		err := rawPool(tx).QueryRowContext(ctx, `WITH c AS (`+bump+`),
v AS (INSERT INTO artifact_versions `+versionColumns+`
  SELECT c.id, c.idx, CAST($1 AS TEXT), CAST($2 AS TEXT), CAST($3 AS BIGINT), CAST($4 AS BIGINT), CAST($5 AS TIMESTAMPTZ) FROM c
  RETURNING id)
SELECT c.id, c.project_id, c.registry_id, c.name, c.type, c.created_at, c.idx, v.id FROM c, v`, params...).
			Scan(append(collection, &v.ID)...)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("create version: %w", err)
		}
		v.CollectionID = c.ID
		return &c, nil
	}
	// SQLite writes no rows in a WITH clause; it runs in-process, so two
	// statements cost no round trip.
	err := rawPool(tx).QueryRowContext(ctx, bump, params...).Scan(collection...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("number version: %w", err)
	}
	v.CollectionID = c.ID
	err = rawPool(tx).QueryRowContext(ctx, `INSERT INTO artifact_versions `+versionColumns+` VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		v.CollectionID, v.VersionIndex, v.Metadata, v.Digest, v.AuthorID, v.SourceVersionID, v.CreatedAt).Scan(&v.ID)
	if err != nil {
		return nil, fmt.Errorf("create version: %w", err)
	}
	return &c, nil
}

// logToCollection inserts v as the next version of project p's collection
// name when it exists and holds typ artifacts, in one statement, and
// returns the collection; nil when there is none such (the caller then
// creates it, or reports the conflict, through ensureCollection).
func logToCollection(ctx context.Context, tx *gorm.DB, p *Project, name, typ string, v *ArtifactVersion) (*Collection, error) {
	return insertNextVersion(ctx, tx, v, `project_id = $6 AND name = $7 AND type = $8`, p.ID, name, typ)
}

// recordAndQueue writes ev (RecordEvent's columns) in tx, the transaction
// of the change it describes, with the deliveries of the automations it
// matches (EnqueueDeliveries' rules). For an event without an alias and
// whose matches all queue plainly (no dedupe window, no approval), the
// event and its deliveries are one statement on PostgreSQL and the
// deliveries are made by the database from the automations' rows: the
// candidates' condition (see candidates) is then exactly Explain's rule
// (scope, collection, event type, enabled), so no row is read back to
// decide. Otherwise the matches are read and decided one by one as before.
func recordAndQueue(ctx context.Context, tx *gorm.DB, ev *Event) error {
	if err := ev.snapshot(); err != nil {
		return err
	}
	target := ev.MatchTarget()
	where, whereArgs, err := candidates(target)
	if err != nil {
		return err
	}
	eventArgs := []any{ev.Type, ev.ScopeKind, ev.ProjectID, ev.RegistryID, ev.CollectionID, ev.VersionID, ev.AuthorID,
		ev.Payload, ev.Alias, ev.CreatedAt}
	const insertEvent = `INSERT INTO events (type, scope_kind, project_id, registry_id, collection_id, version_id, author_id, payload, alias, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`
	// Automations whose match is not a plain queued delivery.
	special := "require_approval"
	if target.Subject != "" {
		special = "(dedupe_window > 0 OR require_approval)"
	}
	cand := `cand AS (SELECT id, name, action_type, team_id, webhook_id, revision_id, ` + special + ` AS special
  FROM automations WHERE ` + numberParams(where, len(eventArgs)+1) + `)`
	plain := `cand WHERE NOT EXISTS (SELECT 1 FROM cand WHERE special) ORDER BY id`
	args := append(slices.Clip(eventArgs), whereArgs...)
	pool := rawPool(tx)
	// perMatch: the matches are to be read and decided one by one.
	var perMatch bool
	// With an in-process runner that has room, the deliveries go leased
	// to it (insertQueuedOrLeased, after reading the matches): that spares
	// every delivery a claim, which costs more than the reading.
	batch := batchOf(tx)
	switch {
	case ev.Vars.Alias != "" || batch != nil && batch.handoff.HasRoom():
		// The alias regex is Go's: decided in Go after reading the candidates.
		if err := pool.QueryRowContext(ctx, insertEvent+` RETURNING id`, eventArgs...).Scan(&ev.ID); err != nil {
			return fmt.Errorf("record %s event: %w", ev.Type, err)
		}
		perMatch = true
	case Dialect(tx) == "postgres":
		// A WITH clause's INSERT runs whether or not anything reads it.
		uid, _, _ := deliveryUIDExpr(tx)
		var queued int
		err = pool.QueryRowContext(ctx, `WITH `+cand+`,
e AS (`+insertEvent+` RETURNING id AS event_id),
d AS (`+queuedInsertSQL(uid, "e.event_id", "CAST($10 AS TIMESTAMPTZ)", "e, "+plain)+` RETURNING 1)
SELECT e.event_id, EXISTS (SELECT 1 FROM cand WHERE special), (SELECT count(*) FROM d) FROM e`, args...).Scan(&ev.ID, &perMatch, &queued)
		if err != nil {
			return fmt.Errorf("record %s event: %w", ev.Type, err)
		}
		if batch != nil {
			batch.queued += queued // woken after the commit
		}
	default:
		// SQLite: the same in up to three statements (no writes in WITH).
		if err := pool.QueryRowContext(ctx, insertEvent+` RETURNING id`, eventArgs...).Scan(&ev.ID); err != nil {
			return fmt.Errorf("record %s event: %w", ev.Type, err)
		}
		uid, _, _ := deliveryUIDExpr(tx)
		args[0] = ev.ID // $1 is the event in this statement
		res, err := pool.ExecContext(ctx, `WITH `+cand+` `+queuedInsertSQL(uid, "$1", "$10", plain), args...)
		if err != nil {
			return fmt.Errorf("queue deliveries of %s event: %w", ev.Type, err)
		}
		queued, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("queue deliveries of %s event: %w", ev.Type, err)
		}
		if batch != nil {
			batch.queued += int(queued) // woken after the commit
		}
		if queued == 0 {
			err := pool.QueryRowContext(ctx, `WITH `+cand+` SELECT EXISTS (SELECT 1 FROM cand WHERE special)`, args...).Scan(&perMatch)
			if err != nil {
				return fmt.Errorf("queue deliveries of %s event: %w", ev.Type, err)
			}
		}
	}
	countEvent(tx, ev.Type)
	if !perMatch {
		return nil
	}
	if _, err := EnqueueDeliveries(ctx, tx, ev.ID, target); err != nil {
		return fmt.Errorf("queue deliveries of %s event: %w", ev.Type, err)
	}
	return nil
}

// numberParams rewrites the ? parameters of a statement or condition
// built for gorm as $from, $from+1, … for a raw PostgreSQL statement.
// (The statements here hold no question marks in literals.)
func numberParams(cond string, from int) string {
	var b strings.Builder
	for i := 0; i < len(cond); i++ {
		if cond[i] == '?' {
			b.WriteString("$" + strconv.Itoa(from))
			from++
			continue
		}
		b.WriteByte(cond[i])
	}
	return b.String()
}
