package models

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Collection is an artifact collection: the versions of one named artifact
// in a project, or a registered model (dataset, …) in a registry. Exactly
// one of ProjectID and RegistryID is set.
type Collection struct {
	ID         int64     `gorm:"column:id;primaryKey"`
	ProjectID  *int64    `gorm:"column:project_id"`
	RegistryID *int64    `gorm:"column:registry_id"`
	Name       string    `gorm:"column:name"`
	Type       string    `gorm:"column:type"`
	CreatedAt  time.Time `gorm:"column:created_at"`
}

// TableName maps Collection to its table.
func (Collection) TableName() string { return "artifact_collections" }

// ArtifactVersion is version vN of a collection. A registry version points
// at the project version it was linked from (SourceVersionID) and carries a
// copy of its metadata and digest; versions never change after creation.
type ArtifactVersion struct {
	ID              int64     `gorm:"column:id;primaryKey"`
	CollectionID    int64     `gorm:"column:collection_id"`
	VersionIndex    int       `gorm:"column:version_index"`
	Metadata        string    `gorm:"column:metadata"`
	Digest          string    `gorm:"column:digest"`
	AuthorID        *int64    `gorm:"column:author_id"`
	SourceVersionID *int64    `gorm:"column:source_version_id"`
	CreatedAt       time.Time `gorm:"column:created_at"`
	// Aliases are the version's aliases, "latest" first when it is the
	// newest version; filled by the loaders of this file.
	Aliases []string `gorm:"-"`
	// AuthorName is the author's username (or email), filled by the loaders.
	AuthorName string `gorm:"-"`
}

// TableName maps ArtifactVersion to its table.
func (ArtifactVersion) TableName() string { return "artifact_versions" }

// Version is the version's name, "v0", "v1", ….
func (v *ArtifactVersion) Version() string { return "v" + strconv.Itoa(v.VersionIndex) }

// artifactAlias is one stored alias. "latest" and "vN" are never stored:
// they are resolved from the version numbers, so they cannot go stale.
type artifactAlias struct {
	ID           int64     `gorm:"column:id;primaryKey"`
	CollectionID int64     `gorm:"column:collection_id"`
	VersionID    int64     `gorm:"column:version_id"`
	Alias        string    `gorm:"column:alias"`
	CreatedAt    time.Time `gorm:"column:created_at"`
}

func (artifactAlias) TableName() string { return "artifact_aliases" }

// AliasLatest is the alias kept on the newest version of every collection.
const AliasLatest = "latest"

// AliasRule says which aliases are accepted, for error messages and hints.
const AliasRule = "use letters, digits, '-', '_' and '.', at most 128 characters"

// MaxAliases is how many aliases one request may add.
const MaxAliases = 20

// MaxMetadataBytes caps a version's metadata (compact JSON).
const MaxMetadataBytes = 256 << 10

var (
	aliasPattern      = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)
	versionRefPattern = regexp.MustCompile(`^v[0-9]+$`)
	digestPattern     = regexp.MustCompile(`^[A-Za-z0-9:+/=._-]{1,128}$`)
)

// IsAutomaticAlias reports whether alias is one the system keeps by itself
// ("latest", "v0", "v1", …) and users may not add or remove.
func IsAutomaticAlias(alias string) bool {
	return alias == AliasLatest || versionRefPattern.MatchString(alias)
}

// ValidateAlias checks an alias a user adds.
func ValidateAlias(field, alias string) error {
	if alias == "" {
		return Invalid(field, "is required")
	}
	if !aliasPattern.MatchString(alias) {
		return Invalid(field, "%q is not a valid alias: %s", Excerpt(alias), AliasRule)
	}
	if IsAutomaticAlias(alias) {
		return Invalid(field, "%q is set automatically (latest is the newest version, vN is version N); choose another alias", Excerpt(alias))
	}
	return nil
}

// normalizeAliases trims, validates and de-duplicates aliases given by a user.
func normalizeAliases(field string, aliases []string) ([]string, error) {
	if len(aliases) > MaxAliases {
		return nil, Invalid(field, "at most %d aliases at a time", MaxAliases)
	}
	out := make([]string, 0, len(aliases))
	seen := map[string]bool{}
	for _, a := range aliases {
		a = strings.TrimSpace(a)
		if err := ValidateAlias(field, a); err != nil {
			return nil, err
		}
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out, nil
}

// normalizeMetadata checks that raw is a JSON object (absent or null means
// {}) and returns it compacted.
func normalizeMetadata(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "{}", nil
	}
	var obj map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &obj) != nil {
		return "", Invalid("metadata", "must be a JSON object, e.g. {\"accuracy\": 0.93}")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return "", Invalid("metadata", "must be a JSON object, e.g. {\"accuracy\": 0.93}")
	}
	if buf.Len() > MaxMetadataBytes {
		return "", Invalid("metadata", "must be at most %d bytes of JSON", MaxMetadataBytes)
	}
	return buf.String(), nil
}

// manifestDigest stands in for the digest of a manifest when the client
// sends none: the sha256 of the artifact's type, name and metadata, so the
// same content always gets the same digest.
func manifestDigest(typ, name, metadata string) string {
	h := sha256.New()
	for _, part := range []string{typ, name, metadata} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// authorHandle is ${event_author}: the username, or the email without one.
func authorHandle(u *User) string {
	if u.Username != "" {
		return u.Username
	}
	return u.Email
}

// ArtifactScope is where a collection lives: a project of a team, or a
// registry. Handlers use it to check roles; events use it for names.
type ArtifactScope struct {
	Collection *Collection
	Project    *Project  // project collections
	Team       *Team     // the project's team
	Registry   *Registry // registry collections
}

// InRegistry reports whether the collection is a registry collection.
func (s *ArtifactScope) InRegistry() bool { return s.Registry != nil }

// EntityName is ${entity_name}: the team, or the instance's organization
// name for registry collections (DESIGN.md §6).
func (s *ArtifactScope) EntityName(orgName string) string {
	if s.Registry != nil {
		return orgName
	}
	return s.Team.Name
}

// ProjectName is ${project_name}: the project, or wandb-registry-<registry>.
func (s *ArtifactScope) ProjectName() string {
	if s.Registry != nil {
		return s.Registry.ProjectName()
	}
	return s.Project.Name
}

// VersionString is <entity>/<project>/<collection>:<ref>.
func (s *ArtifactScope) VersionString(orgName, ref string) string {
	return s.EntityName(orgName) + "/" + s.ProjectName() + "/" + s.Collection.Name + ":" + ref
}

// CollectionScope loads the project and team, or the registry, of c.
func CollectionScope(ctx context.Context, db *gorm.DB, c *Collection) (*ArtifactScope, error) {
	s := &ArtifactScope{Collection: c}
	db = db.WithContext(ctx)
	if c.RegistryID != nil {
		var r Registry
		if err := db.First(&r, "id = ?", *c.RegistryID).Error; err != nil {
			return nil, notFound(err, "registry of collection "+c.Name)
		}
		s.Registry = &r
		return s, nil
	}
	if c.ProjectID == nil {
		return nil, fmt.Errorf("collection %d has neither project nor registry", c.ID)
	}
	var p Project
	if err := db.First(&p, "id = ?", *c.ProjectID).Error; err != nil {
		return nil, notFound(err, "project of collection "+c.Name)
	}
	var t Team
	if err := db.First(&t, "id = ?", p.TeamID).Error; err != nil {
		return nil, notFound(err, "team of project "+p.Name)
	}
	s.Project, s.Team = &p, &t
	return s, nil
}

// VersionScope loads a version (aliases filled) with its collection and
// the collection's project and team or registry, so a caller can check
// roles on whatever holds it.
func VersionScope(ctx context.Context, db *gorm.DB, versionID int64) (*ArtifactVersion, *ArtifactScope, error) {
	v, s, err := versionWithScope(ctx, db, versionID)
	if err != nil {
		return nil, nil, err
	}
	vs := []ArtifactVersion{*v}
	if err := fillVersions(ctx, db, v.CollectionID, vs); err != nil {
		return nil, nil, err
	}
	return &vs[0], s, nil
}

// versionWithScope is VersionScope without the aliases and author: the
// version, its collection and where that lives, read in one query.
func versionWithScope(ctx context.Context, db *gorm.DB, versionID int64) (*ArtifactVersion, *ArtifactScope, error) {
	var rows []struct {
		ArtifactVersion
		C Collection `gorm:"embedded;embeddedPrefix:c_"`
		P Project    `gorm:"embedded;embeddedPrefix:p_"`
		T Team       `gorm:"embedded;embeddedPrefix:t_"`
		R Registry   `gorm:"embedded;embeddedPrefix:r_"`
	}
	err := db.WithContext(ctx).Table("artifact_versions AS v").
		Select(`v.*, c.id AS c_id, c.project_id AS c_project_id, c.registry_id AS c_registry_id, c.name AS c_name,
  c.type AS c_type, c.created_at AS c_created_at, p.id AS p_id, p.team_id AS p_team_id, p.name AS p_name,
  p.created_by AS p_created_by, p.created_at AS p_created_at, t.id AS t_id, t.name AS t_name, t.created_at AS t_created_at,
  r.id AS r_id, r.name AS r_name, r.description AS r_description, r.created_at AS r_created_at`).
		Joins("JOIN artifact_collections c ON c.id = v.collection_id").
		Joins("LEFT JOIN projects p ON p.id = c.project_id").
		Joins("LEFT JOIN teams t ON t.id = p.team_id").
		Joins("LEFT JOIN registries r ON r.id = c.registry_id").
		Where("v.id = ?", versionID).Limit(1).Scan(&rows).Error
	if err != nil {
		return nil, nil, fmt.Errorf("artifact version %d: %w", versionID, err)
	}
	if len(rows) == 0 {
		return nil, nil, fmt.Errorf("artifact version %d: %w", versionID, ErrNotFound)
	}
	row := rows[0]
	s := &ArtifactScope{Collection: &row.C}
	switch {
	case row.C.RegistryID != nil && row.R.ID != 0:
		s.Registry = &row.R
	case row.C.ProjectID != nil && row.P.ID != 0 && row.T.ID != 0:
		s.Project, s.Team = &row.P, &row.T
	default:
		return nil, nil, fmt.Errorf("collection %d of version %d has neither project nor registry", row.C.ID, versionID)
	}
	return &row.ArtifactVersion, s, nil
}

// CollectionByID loads a collection.
func CollectionByID(ctx context.Context, db *gorm.DB, id int64) (*Collection, error) {
	var c Collection
	if err := db.WithContext(ctx).First(&c, "id = ?", id).Error; err != nil {
		return nil, notFound(err, fmt.Sprintf("collection %d", id))
	}
	return &c, nil
}

// CollectionInProject loads a project's collection by name.
func CollectionInProject(ctx context.Context, db *gorm.DB, projectID int64, name string) (*Collection, error) {
	var c Collection
	if err := db.WithContext(ctx).First(&c, "project_id = ? AND name = ?", projectID, name).Error; err != nil {
		return nil, notFound(err, "collection "+name)
	}
	return &c, nil
}

// CollectionInRegistry loads a registry's collection by name.
func CollectionInRegistry(ctx context.Context, db *gorm.DB, registryID int64, name string) (*Collection, error) {
	var c Collection
	if err := db.WithContext(ctx).First(&c, "registry_id = ? AND name = ?", registryID, name).Error; err != nil {
		return nil, notFound(err, "collection "+name)
	}
	return &c, nil
}

// CollectionSummary is a collection with its number of versions.
type CollectionSummary struct {
	Collection
	Versions int `gorm:"column:versions"`
}

// CollectionsOfProject lists a project's collections by name.
func CollectionsOfProject(ctx context.Context, db *gorm.DB, projectID int64) ([]CollectionSummary, error) {
	return collectionsWhere(ctx, db, "c.project_id = ?", projectID)
}

// CollectionsOfRegistry lists a registry's collections by name.
func CollectionsOfRegistry(ctx context.Context, db *gorm.DB, registryID int64) ([]CollectionSummary, error) {
	return collectionsWhere(ctx, db, "c.registry_id = ?", registryID)
}

func collectionsWhere(ctx context.Context, db *gorm.DB, cond string, id int64) ([]CollectionSummary, error) {
	var out []CollectionSummary
	err := db.WithContext(ctx).Table("artifact_collections AS c").
		Select("c.id, c.project_id, c.registry_id, c.name, c.type, c.created_at, COUNT(v.id) AS versions").
		Joins("LEFT JOIN artifact_versions v ON v.collection_id = c.id").
		Where(cond, id).
		Group("c.id, c.project_id, c.registry_id, c.name, c.type, c.created_at").
		Order("c.name").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list collections: %w", err)
	}
	return out, nil
}

// VersionsOf lists a collection's versions, newest first, aliases filled.
func VersionsOf(ctx context.Context, db *gorm.DB, collectionID int64) ([]ArtifactVersion, error) {
	var out []ArtifactVersion
	if err := db.WithContext(ctx).Where("collection_id = ?", collectionID).
		Order("version_index DESC").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list versions: %w", err)
	}
	if err := fillVersions(ctx, db, collectionID, out); err != nil {
		return nil, err
	}
	return out, nil
}

// VersionByID loads a version with its aliases.
func VersionByID(ctx context.Context, db *gorm.DB, id int64) (*ArtifactVersion, error) {
	var v ArtifactVersion
	if err := db.WithContext(ctx).First(&v, "id = ?", id).Error; err != nil {
		return nil, notFound(err, fmt.Sprintf("artifact version %d", id))
	}
	vs := []ArtifactVersion{v}
	if err := fillVersions(ctx, db, v.CollectionID, vs); err != nil {
		return nil, err
	}
	return &vs[0], nil
}

// ResolveVersion finds the version of a collection that ref names: "vN",
// "latest" (the newest version) or an alias a user added.
func ResolveVersion(ctx context.Context, db *gorm.DB, collectionID int64, ref string) (*ArtifactVersion, error) {
	q := db.WithContext(ctx).Where("collection_id = ?", collectionID)
	switch {
	case ref == AliasLatest:
		q = q.Order("version_index DESC")
	case versionRefPattern.MatchString(ref):
		idx, err := strconv.Atoi(ref[1:])
		if err != nil {
			return nil, fmt.Errorf("version %s: %w", ref, ErrNotFound)
		}
		q = q.Where("version_index = ?", idx)
	default:
		q = q.Where("id = (SELECT version_id FROM artifact_aliases WHERE collection_id = ? AND alias = ?)", collectionID, ref)
	}
	var v ArtifactVersion
	if err := q.First(&v).Error; err != nil {
		return nil, notFound(err, "version "+ref)
	}
	vs := []ArtifactVersion{v}
	if err := fillVersions(ctx, db, collectionID, vs); err != nil {
		return nil, err
	}
	return &vs[0], nil
}

// fillVersions sets Aliases and AuthorName on versions of one collection.
func fillVersions(ctx context.Context, db *gorm.DB, collectionID int64, vs []ArtifactVersion) error {
	if len(vs) == 0 {
		return nil
	}
	db = db.WithContext(ctx)
	var newest []int
	if err := db.Model(&ArtifactVersion{}).Where("collection_id = ?", collectionID).
		Order("version_index DESC").Limit(1).Pluck("version_index", &newest).Error; err != nil {
		return fmt.Errorf("find latest version: %w", err)
	}
	var authorIDs []int64
	seen := map[int64]bool{}
	for _, v := range vs {
		if v.AuthorID != nil && !seen[*v.AuthorID] {
			seen[*v.AuthorID] = true
			authorIDs = append(authorIDs, *v.AuthorID)
		}
	}
	aliases := db.Where("collection_id = ?", collectionID)
	if len(vs) == 1 {
		aliases = aliases.Where("version_id = ?", vs[0].ID)
	}
	var rows []artifactAlias
	if err := aliases.Order("alias").Find(&rows).Error; err != nil {
		return fmt.Errorf("load aliases: %w", err)
	}
	byVersion := map[int64][]string{}
	for _, r := range rows {
		byVersion[r.VersionID] = append(byVersion[r.VersionID], r.Alias)
	}
	authors := map[int64]string{}
	if len(authorIDs) > 0 {
		var us []User
		if err := db.Select("id, username, email").Where("id IN ?", authorIDs).Find(&us).Error; err != nil {
			return fmt.Errorf("load authors: %w", err)
		}
		for i := range us {
			authors[us[i].ID] = authorHandle(&us[i])
		}
	}
	for i := range vs {
		v := &vs[i]
		v.Aliases = nil
		if len(newest) == 1 && v.VersionIndex == newest[0] {
			v.Aliases = append(v.Aliases, AliasLatest)
		}
		v.Aliases = append(v.Aliases, byVersion[v.ID]...)
		if v.AuthorID != nil {
			v.AuthorName = authors[*v.AuthorID]
		}
	}
	return nil
}

// LinkedVersion is a registry version linked from a project version.
type LinkedVersion struct {
	VersionID      int64  `gorm:"column:version_id"`
	VersionIndex   int    `gorm:"column:version_index"`
	RegistryName   string `gorm:"column:registry_name"`
	CollectionName string `gorm:"column:collection_name"`
}

// Version is the registry version's name, "vN".
func (l LinkedVersion) Version() string { return "v" + strconv.Itoa(l.VersionIndex) }

// LinksOf lists the registry versions linked from a version.
func LinksOf(ctx context.Context, db *gorm.DB, versionID int64) ([]LinkedVersion, error) {
	var out []LinkedVersion
	err := db.WithContext(ctx).Table("artifact_versions AS v").
		Select("v.id AS version_id, v.version_index, r.name AS registry_name, c.name AS collection_name").
		Joins("JOIN artifact_collections c ON c.id = v.collection_id").
		Joins("JOIN registries r ON r.id = c.registry_id").
		Where("v.source_version_id = ?", versionID).
		Order("r.name, c.name, v.version_index").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	return out, nil
}

// ensureCollection returns the collection named tmpl.Name in tmpl's project
// or registry, creating it with tmpl.Type if there is none, and holds its
// row lock for the rest of tx. Safe when two transactions create the same
// collection at once: the unique key makes the second insert do nothing
// (on PostgreSQL it first waits for the first transaction to commit), and
// the re-select FOR UPDATE then finds the committed row and queues behind
// its lock. On SQLite the immediate transaction already serializes writers.
// A name that differs from an existing collection's only in case is a
// conflict on field (names are unique regardless of case, §13).
func ensureCollection(tx *gorm.DB, tmpl Collection, field string) (*Collection, error) {
	find := func() ([]Collection, error) {
		q := forUpdate(tx).Where("name = ?", tmpl.Name)
		if tmpl.ProjectID != nil {
			q = q.Where("project_id = ?", *tmpl.ProjectID)
		} else {
			q = q.Where("registry_id = ?", *tmpl.RegistryID)
		}
		var found []Collection
		if err := q.Limit(1).Find(&found).Error; err != nil {
			return nil, fmt.Errorf("lock collection %s: %w", tmpl.Name, err)
		}
		return found, nil
	}
	// Usually it exists: one statement finds and locks it.
	found, err := find()
	if err != nil || len(found) == 1 {
		return first(found), err
	}
	c := tmpl
	c.CreatedAt = time.Now().UTC()
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&c).Error; err != nil {
		return nil, fmt.Errorf("create collection %s: %w", tmpl.Name, err)
	}
	// Created now or by a concurrent transaction that won the insert.
	if found, err = find(); err != nil {
		return nil, err
	}
	if len(found) == 0 {
		// The insert hit the case-insensitive unique index.
		return nil, Conflict(field, "a collection named %s already exists here in another case (names are unique regardless of case)", tmpl.Name)
	}
	return &found[0], nil
}

func first(cs []Collection) *Collection {
	if len(cs) == 0 {
		return nil
	}
	return &cs[0]
}

// lockCollection takes the row lock every change to a collection's versions
// and aliases holds: numbering and alias moves in one collection serialize.
func lockCollection(tx *gorm.DB, id int64) (*Collection, error) {
	var c Collection
	if err := forUpdate(tx).First(&c, "id = ?", id).Error; err != nil {
		return nil, notFound(err, fmt.Sprintf("collection %d", id))
	}
	return &c, nil
}

// nextVersion inserts v as the next version of its collection, which the
// caller has locked (ensureCollection): see insertNextVersion.
func nextVersion(ctx context.Context, tx *gorm.DB, v *ArtifactVersion) error {
	c, err := insertNextVersion(ctx, tx, v, `id = $6`, v.CollectionID)
	if err != nil {
		return err
	}
	if c == nil {
		return fmt.Errorf("create version: collection %d: %w", v.CollectionID, ErrNotFound)
	}
	return nil
}

// putAlias gives alias to version v, taking it from whichever version of
// the collection held it. The caller holds the collection's lock, so two
// concurrent moves run one after the other and leave one holder (the
// unique (collection_id, alias) key backs this up). added is false when v
// already held it.
func putAlias(tx *gorm.DB, v *ArtifactVersion, alias string) (added bool, err error) {
	var holder []int64
	if err := tx.Model(&artifactAlias{}).Where("collection_id = ? AND alias = ?", v.CollectionID, alias).
		Pluck("version_id", &holder).Error; err != nil {
		return false, fmt.Errorf("find alias %s: %w", alias, err)
	}
	if len(holder) == 1 && holder[0] == v.ID {
		return false, nil
	}
	if len(holder) > 0 {
		if err := tx.Where("collection_id = ? AND alias = ?", v.CollectionID, alias).
			Delete(&artifactAlias{}).Error; err != nil {
			return false, fmt.Errorf("move alias %s: %w", alias, err)
		}
	}
	row := artifactAlias{CollectionID: v.CollectionID, VersionID: v.ID, Alias: alias, CreatedAt: time.Now().UTC()}
	if err := tx.Create(&row).Error; err != nil {
		return false, fmt.Errorf("add alias %s: %w", alias, err)
	}
	return true, nil
}
