package models

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// NewArtifact is a version to log into a project collection.
type NewArtifact struct {
	Name     string          // the collection, created on first log
	Type     string          // dataset, model, job, …; must match an existing collection's
	Metadata json.RawMessage // a JSON object; empty means {}
	Digest   string          // manifest digest; computed when empty
	Aliases  []string        // aliases to give the new version (each fires ADD_ARTIFACT_ALIAS)
}

// LogArtifact creates the next version of a project collection (creating
// the collection on first use) with its aliases, and writes the
// CREATE_ARTIFACT event and one ADD_ARTIFACT_ALIAS event per alias, with
// their deliveries, in the same transaction. It returns the version
// (aliases filled) and its scope. t is p's team, as the caller loaded it.
func LogArtifact(ctx context.Context, db *gorm.DB, t *Team, p *Project, in NewArtifact, author *User) (*ArtifactVersion, *ArtifactScope, error) {
	if t.ID != p.TeamID {
		return nil, nil, fmt.Errorf("log artifact: project %s is not in team %s", p.Name, t.Name)
	}
	name, typ := strings.TrimSpace(in.Name), strings.TrimSpace(in.Type)
	if err := ValidateName("name", name); err != nil {
		return nil, nil, err
	}
	if err := ValidateName("type", typ); err != nil {
		return nil, nil, err
	}
	meta, err := normalizeMetadata(in.Metadata)
	if err != nil {
		return nil, nil, err
	}
	digest := strings.TrimSpace(in.Digest)
	if digest == "" {
		digest = manifestDigest(typ, name, meta)
	} else if !digestPattern.MatchString(digest) {
		return nil, nil, Invalid("digest", "must be 1 to 128 letters, digits or ':+/=._-' (e.g. a hex sha256)")
	}
	aliases, err := normalizeAliases("aliases", in.Aliases)
	if err != nil {
		return nil, nil, err
	}
	var v *ArtifactVersion
	var scope *ArtifactScope
	err = EventTransaction(ctx, db, func(tx *gorm.DB) error {
		v = &ArtifactVersion{Metadata: meta, Digest: digest, AuthorID: &author.ID}
		// Usually the collection exists: one statement numbers and
		// inserts the version (and takes the collection's lock).
		c, err := logToCollection(ctx, tx, p, name, typ, v)
		if err != nil {
			return err
		}
		if c == nil {
			// A new collection, or one of another type or case.
			if c, err = ensureCollection(tx, Collection{ProjectID: &p.ID, Name: name, Type: typ}, "name"); err != nil {
				return err
			}
			if c.Type != typ {
				return Invalid("type", "collection %s holds %s artifacts, not %s: log it under another name", name, c.Type, typ)
			}
			v.CollectionID = c.ID
			if err := nextVersion(ctx, tx, v); err != nil {
				return err
			}
		}
		scope = &ArtifactScope{Collection: c, Project: p, Team: t}
		for _, a := range aliases {
			if _, err := putAlias(tx, v, a); err != nil {
				return err
			}
		}
		if err := recordArtifactEvent(ctx, tx, EventCreateArtifact, scope, v, "", author, ""); err != nil {
			return err
		}
		for _, a := range aliases {
			if err := recordArtifactEvent(ctx, tx, EventAddArtifactAlias, scope, v, a, author, ""); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if len(aliases) > 1 {
		// Several aliases: listed in the database's order, as every page shows them.
		if v, err = VersionByID(ctx, db, v.ID); err != nil {
			return nil, nil, err
		}
		return v, scope, nil
	}
	// The version is the newest (it was numbered under the collection's
	// lock), so it is "latest", and it holds the alias it was logged with.
	v.Aliases = append([]string{AliasLatest}, aliases...)
	v.AuthorName = authorHandle(author)
	return v, scope, nil
}

// AddAlias gives alias to a version, moving it from another version of the
// same collection if one holds it, and writes an ADD_ARTIFACT_ALIAS event
// (project or registry scope; orgName names registry events) with its
// deliveries in the same transaction. added is false, and nothing is
// written, when the version already holds the alias.
func AddAlias(ctx context.Context, db *gorm.DB, versionID int64, alias string, author *User, orgName string) (added bool, err error) {
	alias = strings.TrimSpace(alias)
	if err := ValidateAlias("alias", alias); err != nil {
		return false, err
	}
	v, scope, err := versionWithScope(ctx, db, versionID)
	if err != nil {
		return false, err
	}
	return AddAliasTo(ctx, db, v, scope, alias, author, orgName)
}

// AddAliasTo is AddAlias for a version the caller loaded with its scope
// (VersionScope): versions and the places holding them never change.
func AddAliasTo(ctx context.Context, db *gorm.DB, v *ArtifactVersion, scope *ArtifactScope, alias string, author *User, orgName string) (added bool, err error) {
	alias = strings.TrimSpace(alias)
	if err := ValidateAlias("alias", alias); err != nil {
		return false, err
	}
	err = EventTransaction(ctx, db, func(tx *gorm.DB) error {
		if _, err := lockCollection(tx, v.CollectionID); err != nil {
			return err
		}
		if added, err = putAlias(tx, v, alias); err != nil || !added {
			return err
		}
		return recordArtifactEvent(ctx, tx, EventAddArtifactAlias, scope, v, alias, author, orgName)
	})
	return added, err
}

// RemoveAlias takes an alias off a version. Removing writes no event.
func RemoveAlias(ctx context.Context, db *gorm.DB, versionID int64, alias string) error {
	if IsAutomaticAlias(alias) {
		return Invalid("alias", "%q is set automatically and cannot be removed", alias)
	}
	v, err := VersionByID(ctx, db, versionID)
	if err != nil {
		return err
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := lockCollection(tx, v.CollectionID); err != nil {
			return err
		}
		res := tx.Where("version_id = ? AND alias = ?", v.ID, alias).Delete(&artifactAlias{})
		if res.Error != nil {
			return fmt.Errorf("remove alias %s: %w", alias, res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("alias %s of %s: %w", alias, v.Version(), ErrNotFound)
		}
		return nil
	})
}

// NewLink is where to link a project version in a registry.
type NewLink struct {
	Collection string   // registry collection; empty means the source collection's name
	Aliases    []string // aliases for the registry version (each fires ADD_ARTIFACT_ALIAS)
}

// Link is the outcome of LinkArtifact.
type Link struct {
	Version *ArtifactVersion // the registry version, aliases filled
	Scope   *ArtifactScope   // its registry collection
	Created bool             // false when the source was already linked there
}

// LinkArtifact links a project version into a registry collection (created
// with the source's type if needed): a new registry version pointing at
// the source, with a copy of its metadata and digest, a LINK_ARTIFACT event
// and an ADD_ARTIFACT_ALIAS event per alias, all in one transaction. A
// version already linked into that collection is not linked twice: its
// registry version just gets the aliases it lacks (firing their events).
func LinkArtifact(ctx context.Context, db *gorm.DB, sourceVersionID int64, reg *Registry, in NewLink, author *User, orgName string) (*Link, error) {
	src, srcScope, err := VersionScope(ctx, db, sourceVersionID)
	if err != nil {
		return nil, err
	}
	if srcScope.InRegistry() {
		return nil, Invalid("id", "%s is a registry version: link the project version it came from", srcScope.VersionString(orgName, src.Version()))
	}
	name := strings.TrimSpace(in.Collection)
	if name == "" {
		name = srcScope.Collection.Name
	}
	if err := ValidateName("collection", name); err != nil {
		return nil, err
	}
	aliases, err := normalizeAliases("aliases", in.Aliases)
	if err != nil {
		return nil, err
	}
	link := &Link{}
	err = EventTransaction(ctx, db, func(tx *gorm.DB) error {
		typ := srcScope.Collection.Type
		c, err := ensureCollection(tx, Collection{RegistryID: &reg.ID, Name: name, Type: typ}, "collection")
		if err != nil {
			return err
		}
		if c.Type != typ {
			return Invalid("collection", "registry collection %s holds %s artifacts, not %s", name, c.Type, typ)
		}
		link.Scope = &ArtifactScope{Collection: c, Registry: reg}
		var existing []ArtifactVersion
		if err := tx.Where("collection_id = ? AND source_version_id = ?", c.ID, src.ID).
			Limit(1).Find(&existing).Error; err != nil {
			return fmt.Errorf("find existing link: %w", err)
		}
		var v *ArtifactVersion
		if len(existing) == 1 {
			v = &existing[0]
		} else {
			v = &ArtifactVersion{
				CollectionID: c.ID, Metadata: src.Metadata, Digest: src.Digest,
				AuthorID: &author.ID, SourceVersionID: &src.ID,
			}
			if err := nextVersion(ctx, tx, v); err != nil {
				return err
			}
			link.Created = true
			if err := recordArtifactEvent(ctx, tx, EventLinkArtifact, link.Scope, v, "", author, orgName); err != nil {
				return err
			}
		}
		link.Version = v
		for _, a := range aliases {
			added, err := putAlias(tx, v, a)
			if err != nil {
				return err
			}
			if added {
				if err := recordArtifactEvent(ctx, tx, EventAddArtifactAlias, link.Scope, v, a, author, orgName); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if link.Version, err = VersionByID(ctx, db, link.Version.ID); err != nil {
		return nil, err
	}
	return link, nil
}

// recordArtifactEvent writes the event of type typ about version v in
// tx, the transaction of the change, with the snapshot of every payload
// variable, and queues the deliveries of the automations it matches in the
// same transaction. alias is the alias added (ADD_ARTIFACT_ALIAS only).
func recordArtifactEvent(ctx context.Context, tx *gorm.DB, typ string, s *ArtifactScope, v *ArtifactVersion, alias string, author *User, orgName string) error {
	ref := v.Version()
	if alias != "" {
		ref = alias
	}
	ev := &Event{
		Type: typ, CollectionID: s.Collection.ID, VersionID: v.ID, AuthorID: &author.ID,
		Vars: EventVars{
			EntityName:             s.EntityName(orgName),
			ProjectName:            s.ProjectName(),
			ArtifactCollectionName: s.Collection.Name,
			ArtifactVersion:        ArtifactVersionRef(v.ID),
			ArtifactVersionString:  s.VersionString(orgName, ref),
			ArtifactVersionIndex:   v.VersionIndex,
			ArtifactMetadata:       json.RawMessage(v.Metadata),
			EventAuthor:            authorHandle(author),
			EventType:              typ,
			Alias:                  alias,
		},
	}
	if s.InRegistry() {
		ev.ScopeKind, ev.RegistryID = ScopeKindRegistry, &s.Registry.ID
	} else {
		ev.ScopeKind, ev.ProjectID = ScopeKindProject, &s.Project.ID
	}
	return recordAndQueue(ctx, tx, ev)
}
