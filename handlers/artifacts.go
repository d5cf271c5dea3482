package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/views"
)

// versionPage is the subject of a version page, in a project or registry.
type versionPage struct {
	scope   *models.ArtifactScope
	version *models.ArtifactVersion
	collURL string // the collection's page
	url     string // this version's page, by vN
}

func noCollection(name string, err error) error {
	if errors.Is(err, models.ErrNotFound) {
		return &Error{Status: http.StatusNotFound, Message: "There is no artifact collection named " + name + " here.", Cause: err}
	}
	return err
}

func noVersion(ref string, err error) error {
	if errors.Is(err, models.ErrNotFound) {
		return &Error{Status: http.StatusNotFound, Message: "This collection has no version or alias " + ref + ".", Cause: err}
	}
	return err
}

// projectVersionPage resolves :collection and :version (vN, latest or an
// alias) in the route's project.
func (h *Handler) projectVersionPage(c echo.Context) (*versionPage, error) {
	ctx := c.Request().Context()
	t, p := currentTeam(c), currentProject(c)
	coll, err := models.CollectionInProject(ctx, h.db, p.ID, c.Param("collection"))
	if err != nil {
		return nil, noCollection(c.Param("collection"), err)
	}
	v, err := models.ResolveVersion(ctx, h.db, coll.ID, c.Param("version"))
	if err != nil {
		return nil, noVersion(c.Param("version"), err)
	}
	collURL := views.ProjectCollectionURL(t.Name, p.Name, coll.Name)
	return &versionPage{
		scope:   &models.ArtifactScope{Collection: coll, Project: p, Team: t},
		version: v, collURL: collURL, url: views.VersionURL(collURL, v.Version()),
	}, nil
}

// registryVersionPage is projectVersionPage in the route's registry.
func (h *Handler) registryVersionPage(c echo.Context) (*versionPage, error) {
	ctx := c.Request().Context()
	r := currentRegistry(c)
	coll, err := models.CollectionInRegistry(ctx, h.db, r.ID, c.Param("collection"))
	if err != nil {
		return nil, noCollection(c.Param("collection"), err)
	}
	v, err := models.ResolveVersion(ctx, h.db, coll.ID, c.Param("version"))
	if err != nil {
		return nil, noVersion(c.Param("version"), err)
	}
	collURL := views.RegistryCollectionURL(r.Name, coll.Name)
	return &versionPage{
		scope:   &models.ArtifactScope{Collection: coll, Registry: r},
		version: v, collURL: collURL, url: views.VersionURL(collURL, v.Version()),
	}, nil
}

// linkForm is the Link to registry form as first shown: the registry
// collection defaults to the source collection's name.
func linkForm(vp *versionPage) views.Form {
	f := views.NewForm()
	f.Values["collection"] = vp.scope.Collection.Name
	return f
}

func (h *Handler) renderVersionPage(c echo.Context, status int, vp *versionPage, aliasForm, linkForm views.Form) error {
	ctx := c.Request().Context()
	u := CurrentUser(c)
	v, coll := vp.version, vp.scope.Collection
	props := views.VersionProps{
		Collection: coll, Version: v, VersionString: vp.scope.VersionString(h.orgName, v.Version()),
		URL: vp.url, CanWrite: models.CanWrite(u, currentRole(c)), AliasForm: aliasForm, LinkForm: linkForm,
	}
	evs, err := models.EventsOfVersion(ctx, h.db, v.ID, 20)
	if err != nil {
		return err
	}
	for i := range evs {
		props.Events = append(props.Events, previewEvent(&evs[i]))
	}
	trail := []views.Link{{Label: coll.Name, Href: vp.collURL}, {Label: v.Version()}}
	if vp.scope.InRegistry() {
		if v.SourceVersionID != nil {
			src, srcScope, err := models.VersionScope(ctx, h.db, *v.SourceVersionID)
			if err != nil && !errors.Is(err, models.ErrNotFound) {
				return err
			}
			if err == nil {
				props.Source = &views.SourceRef{
					VersionString: srcScope.VersionString(h.orgName, src.Version()),
					URL:           views.VersionURL(views.ProjectCollectionURL(srcScope.Team.Name, srcScope.Project.Name, srcScope.Collection.Name), src.Version()),
				}
			}
		}
		shell := views.RegistryShellProps{Registry: vp.scope.Registry, Trail: trail}
		return h.Render(c, status, views.RegistryVersionPage(shell, props))
	}
	links, err := models.LinksOf(ctx, h.db, v.ID)
	if err != nil {
		return err
	}
	props.Links = links
	regs, err := models.RegistriesOf(ctx, h.db, u)
	if err != nil {
		return err
	}
	for _, r := range regs {
		if models.CanWrite(u, r.Role) {
			props.LinkRegistries = append(props.LinkRegistries, r.Name)
		}
	}
	shell, err := h.ProjectShell(c, coll.Name, trail...)
	if err != nil {
		return err
	}
	return h.Render(c, status, views.ProjectVersionPage(shell, props))
}

// CollectionPage is GET /projects/:team/:project/artifacts/:collection.
func (h *Handler) CollectionPage(c echo.Context) error {
	ctx := c.Request().Context()
	t, p := currentTeam(c), currentProject(c)
	coll, err := models.CollectionInProject(ctx, h.db, p.ID, c.Param("collection"))
	if err != nil {
		return noCollection(c.Param("collection"), err)
	}
	nav := listNav(c, views.ProjectCollectionURL(t.Name, p.Name, coll.Name))
	vs, more, err := models.VersionsPage(ctx, h.db, coll.ID, nav.Query, pageOf(nav))
	if err != nil {
		return err
	}
	nav.More = more
	shell, err := h.ProjectShell(c, coll.Name, views.Link{Label: coll.Name})
	if err != nil {
		return err
	}
	props := views.CollectionProps{Collection: coll, Versions: vs, URL: views.ProjectCollectionURL(t.Name, p.Name, coll.Name), Nav: nav}
	return h.Render(c, http.StatusOK, views.ProjectCollectionPage(shell, props))
}

// VersionPage is GET /projects/:team/:project/artifacts/:collection/:version.
func (h *Handler) VersionPage(c echo.Context) error {
	vp, err := h.projectVersionPage(c)
	if err != nil {
		return err
	}
	return h.renderVersionPage(c, http.StatusOK, vp, views.NewForm(), linkForm(vp))
}

// VersionAliasAdd is POST .../artifacts/:collection/:version/aliases (team members).
func (h *Handler) VersionAliasAdd(c echo.Context) error {
	vp, err := h.projectVersionPage(c)
	if err != nil {
		return err
	}
	return h.aliasAddForm(c, vp)
}

// VersionAliasRemove is POST .../artifacts/:collection/:version/aliases/:alias/remove.
func (h *Handler) VersionAliasRemove(c echo.Context) error {
	vp, err := h.projectVersionPage(c)
	if err != nil {
		return err
	}
	return h.aliasRemoveForm(c, vp)
}

// aliasAddForm handles the Add alias form of a project or registry version.
func (h *Handler) aliasAddForm(c echo.Context, vp *versionPage) error {
	alias := strings.TrimSpace(c.FormValue("alias"))
	added, err := models.AddAlias(c.Request().Context(), h.db, vp.version.ID, alias, CurrentUser(c), h.orgName)
	if errs, status, ok := fieldErrors(err); ok {
		form := views.Form{Values: map[string]string{"alias": alias}, Errors: errs}
		return h.renderVersionPage(c, status, vp, form, linkForm(vp))
	}
	if err != nil {
		return err
	}
	if added {
		h.flash(c, "success", "Alias "+alias+" added to "+vp.version.Version()+".")
	} else {
		h.flash(c, "success", vp.version.Version()+" already has alias "+alias+".")
	}
	return redirect(c, vp.url)
}

// aliasRemoveForm handles an alias's Remove button; problems come back as
// a flash on the version page.
func (h *Handler) aliasRemoveForm(c echo.Context, vp *versionPage) error {
	alias := c.Param("alias")
	err := models.RemoveAlias(c.Request().Context(), h.db, vp.version.ID, alias)
	if h.flashRefusal(c, err) {
		return redirect(c, vp.url)
	}
	if errors.Is(err, models.ErrNotFound) {
		h.flash(c, "error", vp.version.Version()+" has no alias "+alias+".")
		return redirect(c, vp.url)
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", "Alias "+alias+" removed from "+vp.version.Version()+".")
	return redirect(c, vp.url)
}

// VersionLink is POST .../artifacts/:collection/:version/links: the Link to
// registry form. Anyone who can see the version may submit it; the
// registry must be one where the user is a member or admin.
func (h *Handler) VersionLink(c echo.Context) error {
	vp, err := h.projectVersionPage(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	u := CurrentUser(c)
	regName := strings.TrimSpace(c.FormValue("registry"))
	collection := strings.TrimSpace(c.FormValue("collection"))
	aliasText := c.FormValue("aliases")
	form := views.Form{Values: map[string]string{"registry": regName, "collection": collection, "aliases": aliasText}}
	var link *models.Link
	reg, err := h.registryForWrite(ctx, u, "registry", regName)
	if err == nil {
		link, err = models.LinkArtifact(ctx, h.db, vp.version.ID, reg, models.NewLink{Collection: collection, Aliases: splitAliases(aliasText)}, u, h.orgName)
	}
	if errs, status, ok := formErrors(err); ok {
		form.Errors = errs
		return h.renderVersionPage(c, status, vp, views.NewForm(), form)
	}
	if err != nil {
		return err
	}
	ref := reg.Name + "/" + link.Scope.Collection.Name + ":" + link.Version.Version()
	if link.Created {
		h.flash(c, "success", "Linked to "+ref+".")
	} else {
		h.flash(c, "success", "Already linked as "+ref+".")
	}
	return redirect(c, views.VersionURL(views.RegistryCollectionURL(reg.Name, link.Scope.Collection.Name), link.Version.Version()))
}

// splitAliases reads a form's alias list: names separated by commas or spaces.
func splitAliases(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
}

// formErrors is fieldErrors that also puts an Error about a field (a
// registry that is not found) beside that field; 403s stay errors.
func formErrors(err error) (map[string]string, int, bool) {
	var he *Error
	if errors.As(err, &he) && he.Field != "" && he.Status != http.StatusForbidden {
		return map[string]string{he.Field: he.Message}, he.Status, true
	}
	return fieldErrors(err)
}
