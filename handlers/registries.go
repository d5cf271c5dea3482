package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/views"
)

// RegistriesList is GET /registries.
func (h *Handler) RegistriesList(c echo.Context) error {
	return h.renderRegistries(c, http.StatusOK, views.NewForm())
}

func (h *Handler) renderRegistries(c echo.Context, status int, form views.Form) error {
	u := CurrentUser(c)
	regs, err := models.RegistriesOf(c.Request().Context(), h.db, u)
	if err != nil {
		return err
	}
	return h.Render(c, status, views.RegistriesPage(views.RegistriesProps{Registries: regs, CanCreate: u.SiteAdmin, Form: form}))
}

// RegistryCreate is POST /registries (site admins).
func (h *Handler) RegistryCreate(c echo.Context) error {
	u := CurrentUser(c)
	if !u.SiteAdmin {
		return Forbidden()
	}
	name := strings.TrimSpace(c.FormValue("name"))
	desc := strings.TrimSpace(c.FormValue("description"))
	r, err := models.CreateRegistry(c.Request().Context(), h.db, name, desc, u)
	if errs, status, ok := fieldErrors(err); ok {
		return h.renderRegistries(c, status, views.Form{Values: map[string]string{"name": name, "description": desc}, Errors: errs})
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", "Registry "+r.Name+" created.")
	return redirect(c, "/registries/"+r.Name)
}

// RegistryMembers is GET /registries/:registry/members.
func (h *Handler) RegistryMembers(c echo.Context) error {
	return h.renderRegistryMembers(c, http.StatusOK, views.NewForm())
}

func (h *Handler) renderRegistryMembers(c echo.Context, status int, form views.Form) error {
	r, role := currentRegistry(c), currentRole(c)
	members, err := models.RegistryMembers(c.Request().Context(), h.db, r.ID)
	if err != nil {
		return err
	}
	return h.Render(c, status, views.RegistryMembersPage(views.RegistryProps{
		Registry: r, Role: role, CanAdmin: models.CanAdmin(CurrentUser(c), role), Members: members, Form: form,
	}))
}
