package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
)

type versionJSON struct {
	ID            int64           `json:"id"`
	Version       string          `json:"version"`
	VersionIndex  int             `json:"version_index"`
	VersionString string          `json:"version_string"`
	Collection    string          `json:"collection"`
	Type          string          `json:"type"`
	Entity        string          `json:"entity"`
	Project       string          `json:"project"`
	Registry      string          `json:"registry,omitempty"`
	Aliases       []string        `json:"aliases"`
	Metadata      json.RawMessage `json:"metadata"`
	Digest        string          `json:"digest"`
	Author        string          `json:"author"`
	CreatedAt     time.Time       `json:"created_at"`
	SourceID      *int64          `json:"source_id,omitempty"`
}

func (h *Handler) versionJSON(v *models.ArtifactVersion, s *models.ArtifactScope) versionJSON {
	out := versionJSON{
		ID: v.ID, Version: v.Version(), VersionIndex: v.VersionIndex,
		VersionString: s.VersionString(h.orgName, v.Version()),
		Collection:    s.Collection.Name, Type: s.Collection.Type,
		Entity: s.EntityName(h.orgName), Project: s.ProjectName(),
		Aliases:  append([]string{}, v.Aliases...),
		Metadata: json.RawMessage(v.Metadata), Digest: v.Digest, Author: v.AuthorName,
		CreatedAt: v.CreatedAt, SourceID: v.SourceVersionID,
	}
	if s.InRegistry() {
		out.Registry = s.Registry.Name
	}
	return out
}

type collectionJSON struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Type     string `json:"type"`
	Versions int    `json:"versions"`
}

func collectionsJSON(cs []models.CollectionSummary) []collectionJSON {
	out := make([]collectionJSON, len(cs))
	for i, c := range cs {
		out[i] = collectionJSON{ID: c.ID, Name: c.Name, Type: c.Type, Versions: c.Versions}
	}
	return out
}

// APIArtifactLog is POST /api/v1/projects/:team/:project/artifacts: log the
// next version of a collection (team members). Fires CREATE_ARTIFACT.
func (h *Handler) APIArtifactLog(c echo.Context) error {
	var body struct {
		Name     string          `json:"name"`
		Type     string          `json:"type"`
		Metadata json.RawMessage `json:"metadata"`
		Aliases  []string        `json:"aliases"`
		Digest   string          `json:"digest"`
	}
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	v, scope, err := models.LogArtifact(c.Request().Context(), h.db, currentTeam(c), currentProject(c), models.NewArtifact{
		Name: body.Name, Type: body.Type, Metadata: body.Metadata, Digest: body.Digest, Aliases: body.Aliases,
	}, CurrentUser(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, h.versionJSON(v, scope))
}

// APICollectionsList is GET /api/v1/projects/:team/:project/artifacts.
func (h *Handler) APICollectionsList(c echo.Context) error {
	cs, err := models.CollectionsOfProject(c.Request().Context(), h.db, currentProject(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"collections": collectionsJSON(cs)})
}

// APIVersionsList is GET /api/v1/projects/:team/:project/artifacts/:collection/versions.
func (h *Handler) APIVersionsList(c echo.Context) error {
	ctx := c.Request().Context()
	p := currentProject(c)
	coll, err := models.CollectionInProject(ctx, h.db, p.ID, c.Param("collection"))
	if err != nil {
		return collectionNotFound(err)
	}
	scope := &models.ArtifactScope{Collection: coll, Project: p, Team: currentTeam(c)}
	return h.versionsJSON(c, scope)
}

func (h *Handler) versionsJSON(c echo.Context, scope *models.ArtifactScope) error {
	vs, err := models.VersionsOf(c.Request().Context(), h.db, scope.Collection.ID)
	if err != nil {
		return err
	}
	out := make([]versionJSON, len(vs))
	for i := range vs {
		out[i] = h.versionJSON(&vs[i], scope)
	}
	return c.JSON(http.StatusOK, map[string]any{"versions": out})
}

func collectionNotFound(err error) error {
	if errors.Is(err, models.ErrNotFound) {
		return &Error{Status: http.StatusNotFound, Field: "collection", Message: "no such collection", Cause: err}
	}
	return err
}

// APIArtifactGet is GET /api/v1/artifacts/:id: a version with its aliases,
// metadata and the registry versions linked from it.
func (h *Handler) APIArtifactGet(c echo.Context) error {
	v, scope := currentVersion(c)
	links, err := models.LinksOf(c.Request().Context(), h.db, v.ID)
	if err != nil {
		return err
	}
	type linkJSON struct {
		ID         int64  `json:"id"`
		Registry   string `json:"registry"`
		Collection string `json:"collection"`
		Version    string `json:"version"`
	}
	out := struct {
		versionJSON
		Links []linkJSON `json:"links"`
	}{versionJSON: h.versionJSON(v, scope), Links: []linkJSON{}}
	for _, l := range links {
		out.Links = append(out.Links, linkJSON{ID: l.VersionID, Registry: l.RegistryName, Collection: l.CollectionName, Version: l.Version()})
	}
	return c.JSON(http.StatusOK, out)
}

// APIAliasAdd is POST /api/v1/artifacts/:id/aliases: 201 when the alias was
// added (or moved here), 200 when the version already held it. Fires
// ADD_ARTIFACT_ALIAS in the version's project or registry.
func (h *Handler) APIAliasAdd(c echo.Context) error {
	var body struct {
		Alias string `json:"alias"`
	}
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	v, scope := currentVersion(c)
	ctx := c.Request().Context()
	added, err := models.AddAliasTo(ctx, h.db, v, scope, body.Alias, CurrentUser(c), h.orgName)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if added {
		status = http.StatusCreated
	}
	if v, err = models.VersionByID(ctx, h.db, v.ID); err != nil {
		return err
	}
	return c.JSON(status, h.versionJSON(v, scope))
}

// APIAliasRemove is DELETE /api/v1/artifacts/:id/aliases/:alias.
func (h *Handler) APIAliasRemove(c echo.Context) error {
	v, _ := currentVersion(c)
	err := models.RemoveAlias(c.Request().Context(), h.db, v.ID, c.Param("alias"))
	if errors.Is(err, models.ErrNotFound) {
		return &Error{Status: http.StatusNotFound, Field: "alias", Message: "this version has no alias " + c.Param("alias"), Cause: err}
	}
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// APIArtifactLink is POST /api/v1/artifacts/:id/links: link a project
// version into a registry collection. Needs read access to the version
// (checked by the route) and member access to the registry. 201 with the
// new registry version; 200 with the existing one when already linked.
func (h *Handler) APIArtifactLink(c echo.Context) error {
	var body struct {
		Registry   string   `json:"registry"`
		Collection string   `json:"collection"`
		Aliases    []string `json:"aliases"`
	}
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	ctx := c.Request().Context()
	u := CurrentUser(c)
	reg, err := h.registryForWrite(ctx, u, "registry", body.Registry)
	if err != nil {
		return err
	}
	v, _ := currentVersion(c)
	link, err := models.LinkArtifact(ctx, h.db, v.ID, reg, models.NewLink{Collection: body.Collection, Aliases: body.Aliases}, u, h.orgName)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if link.Created {
		status = http.StatusCreated
	}
	return c.JSON(status, h.versionJSON(link.Version, link.Scope))
}

// registryForWrite loads the registry named name for u to change: one that
// does not exist or u cannot see is 404 on field, one where u is only a
// viewer is 403.
func (h *Handler) registryForWrite(ctx context.Context, u *models.User, field, name string) (*models.Registry, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, models.Invalid(field, "is required: the name of a registry you are a member of")
	}
	missing := &Error{Status: http.StatusNotFound, Field: field, Message: "no registry named " + name + " that you are a member of"}
	reg, err := models.RegistryByName(ctx, h.db, name)
	if errors.Is(err, models.ErrNotFound) {
		return nil, missing
	}
	if err != nil {
		return nil, err
	}
	role, err := models.RegistryRole(ctx, h.db, reg.ID, u.ID)
	if err != nil {
		return nil, err
	}
	if !models.CanView(u, role) {
		return nil, missing
	}
	if !models.CanWrite(u, role) {
		return nil, &Error{Status: http.StatusForbidden, Field: field, Message: "you are a viewer of registry " + name + ": linking needs the member or admin role"}
	}
	return reg, nil
}

// APIRegistryCollections is GET /api/v1/registries/:registry/collections.
func (h *Handler) APIRegistryCollections(c echo.Context) error {
	cs, err := models.CollectionsOfRegistry(c.Request().Context(), h.db, currentRegistry(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"collections": collectionsJSON(cs)})
}

// APIRegistryVersions is GET /api/v1/registries/:registry/collections/:collection/versions.
func (h *Handler) APIRegistryVersions(c echo.Context) error {
	r := currentRegistry(c)
	coll, err := models.CollectionInRegistry(c.Request().Context(), h.db, r.ID, c.Param("collection"))
	if err != nil {
		return collectionNotFound(err)
	}
	return h.versionsJSON(c, &models.ArtifactScope{Collection: coll, Registry: r})
}
