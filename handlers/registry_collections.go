package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/views"
)

// RegistryPage is GET /registries/:registry: the registry's collections.
func (h *Handler) RegistryPage(c echo.Context) error {
	r := currentRegistry(c)
	cs, err := models.CollectionsOfRegistry(c.Request().Context(), h.db, r.ID)
	if err != nil {
		return err
	}
	canAdmin := routeScope(c).CanAdmin(CurrentUser(c))
	return h.Render(c, http.StatusOK, views.RegistryPage(views.RegistryShellProps{Registry: r}, cs, canAdmin))
}

// RegistryEvents is GET /registries/:registry/events.
func (h *Handler) RegistryEvents(c echo.Context) error {
	r := currentRegistry(c)
	nav := listNav(c, views.RegistryURL(r.Name)+"/events")
	evs, more, err := models.EventsPage(c.Request().Context(), h.db, models.ScopeKindRegistry, r.ID, nav.Query, pageOf(nav))
	if err != nil {
		return err
	}
	nav.More = more
	rows := eventRows(evs, func(ev models.Event) string {
		return views.RegistryCollectionURL(r.Name, ev.Vars.ArtifactCollectionName)
	})
	shell := views.RegistryShellProps{Registry: r, Trail: []views.Link{{Label: "Events"}}}
	return h.Render(c, http.StatusOK, views.RegistryEventsPage(shell, views.EventsProps{Nav: nav, Events: rows}))
}

// RegistryCollectionPage is GET /registries/:registry/collections/:collection.
func (h *Handler) RegistryCollectionPage(c echo.Context) error {
	ctx := c.Request().Context()
	r := currentRegistry(c)
	coll, err := models.CollectionInRegistry(ctx, h.db, r.ID, c.Param("collection"))
	if err != nil {
		return noCollection(c.Param("collection"), err)
	}
	nav := listNav(c, views.RegistryCollectionURL(r.Name, coll.Name))
	vs, more, err := models.VersionsPage(ctx, h.db, coll.ID, nav.Query, pageOf(nav))
	if err != nil {
		return err
	}
	nav.More = more
	shell := views.RegistryShellProps{Registry: r, Trail: []views.Link{{Label: coll.Name}}}
	props := views.CollectionProps{Collection: coll, Versions: vs, URL: views.RegistryCollectionURL(r.Name, coll.Name), Nav: nav}
	automations, err := h.collectionAutomations(c, r, coll)
	if err != nil {
		return err
	}
	return h.Render(c, http.StatusOK, views.RegistryCollectionPage(shell, props, automations))
}

// RegistryVersionPage is GET /registries/:registry/collections/:collection/:version.
func (h *Handler) RegistryVersionPage(c echo.Context) error {
	vp, err := h.registryVersionPage(c)
	if err != nil {
		return err
	}
	return h.renderVersionPage(c, http.StatusOK, vp, views.NewForm(), views.NewForm())
}

// RegistryVersionAliasAdd is POST .../collections/:collection/:version/aliases (registry members).
func (h *Handler) RegistryVersionAliasAdd(c echo.Context) error {
	vp, err := h.registryVersionPage(c)
	if err != nil {
		return err
	}
	return h.aliasAddForm(c, vp)
}

// RegistryVersionAliasRemove is POST .../collections/:collection/:version/aliases/:alias/remove.
func (h *Handler) RegistryVersionAliasRemove(c echo.Context) error {
	vp, err := h.registryVersionPage(c)
	if err != nil {
		return err
	}
	return h.aliasRemoveForm(c, vp)
}
