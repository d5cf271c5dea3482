package models

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"gorm.io/gorm"
)

// Page is one page of a list, newest first: Number counts from 1.
type Page struct {
	Number int
	Size   int
}

// DefaultPageSize is how many rows a screen's list shows at once.
const DefaultPageSize = 25

// NewPage is page number n (1 when n is below 1) of size rows.
func NewPage(n, size int) Page {
	if n < 1 {
		n = 1
	}
	if size < 1 {
		size = DefaultPageSize
	}
	return Page{Number: n, Size: size}
}

// offset is where the page starts.
func (p Page) offset() int { return (p.Number - 1) * p.Size }

// apply reads one row more than the page holds: its presence says there
// is an older page, without counting every row.
func (p Page) apply(q *gorm.DB) *gorm.DB { return q.Offset(p.offset()).Limit(p.Size + 1) }

// cut drops the extra row apply read and reports whether it was there.
func cut[T any](rows []T, p Page) ([]T, bool) {
	if len(rows) > p.Size {
		return rows[:p.Size], true
	}
	return rows, false
}

// likePattern is a case-insensitive LIKE pattern that finds q anywhere,
// with LIKE's own wildcards in q taken literally.
func likePattern(q string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + strings.ToLower(r.Replace(q)) + "%"
}

// likeClause is "lower(col) LIKE ?" with the escape character both
// databases need to be told about.
func likeClause(col string) string { return "lower(" + col + `) LIKE ? ESCAPE '\'` }

// EventsPage lists one page of a project's or registry's events, newest
// first; query, when set, keeps those whose type, artifact version string
// or author contains it (case-insensitive). more says an older page exists.
func EventsPage(ctx context.Context, db *gorm.DB, scopeKind string, scopeID int64, query string, p Page) (evs []Event, more bool, err error) {
	col := "project_id"
	if scopeKind == ScopeKindRegistry {
		col = "registry_id"
	}
	q := db.WithContext(ctx).Where(col+" = ?", scopeID)
	if query = strings.TrimSpace(query); query != "" {
		// The snapshot holds the version string, author and alias.
		q = q.Where("("+likeClause("type")+" OR "+likeClause("payload")+")", likePattern(query), likePattern(query))
	}
	if err := p.apply(q.Order("id DESC")).Find(&evs).Error; err != nil {
		return nil, false, fmt.Errorf("list events: %w", err)
	}
	evs, more = cut(evs, p)
	for i := range evs {
		if err := json.Unmarshal([]byte(evs[i].Payload), &evs[i].Vars); err != nil {
			return nil, false, fmt.Errorf("decode event %d: %w", evs[i].ID, err)
		}
	}
	return evs, more, nil
}

// VersionsPage lists one page of a collection's versions, newest first,
// aliases filled; query "vN" finds that version, anything else the
// versions with an alias containing it.
func VersionsPage(ctx context.Context, db *gorm.DB, collectionID int64, query string, p Page) (vs []ArtifactVersion, more bool, err error) {
	q := db.WithContext(ctx).Where("collection_id = ?", collectionID)
	switch query = strings.TrimSpace(query); {
	case query == "":
	case versionRefPattern.MatchString(strings.ToLower(query)):
		n, err := strconv.Atoi(query[1:])
		if err != nil {
			return nil, false, nil // too large to be a version
		}
		q = q.Where("version_index = ?", n)
	default:
		q = q.Where("id IN (SELECT version_id FROM artifact_aliases WHERE collection_id = ? AND "+likeClause("alias")+")",
			collectionID, likePattern(query))
	}
	if err := p.apply(q.Order("version_index DESC")).Find(&vs).Error; err != nil {
		return nil, false, fmt.Errorf("list versions: %w", err)
	}
	vs, more = cut(vs, p)
	if err := fillVersions(ctx, db, collectionID, vs); err != nil {
		return nil, false, err
	}
	return vs, more, nil
}

// AutomationsPage is ListAutomations one page at a time, by name; query
// keeps the automations whose name contains it (case-insensitive).
func AutomationsPage(ctx context.Context, db *gorm.DB, projectID, registryID, collectionID *int64, query string, p Page) ([]AutomationListing, bool, error) {
	q, err := automationListing(ctx, db, projectID, registryID, collectionID)
	if err != nil {
		return nil, false, err
	}
	if query = strings.TrimSpace(query); query != "" {
		q = q.Where(likeClause("a.name"), likePattern(query))
	}
	var out []AutomationListing
	if err := p.apply(q.Order("a.name, a.id")).Scan(&out).Error; err != nil {
		return nil, false, fmt.Errorf("list automations: %w", err)
	}
	out, more := cut(out, p)
	return out, more, nil
}
