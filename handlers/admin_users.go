package handlers

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/people"
	"github.com/automations-dev/automations/views"
)

// inviteWhere names what a site admin's invitation is to, in its mail.
const inviteWhere = "an account"

// AdminUsers is GET /admin/users (site admins; web checks).
func (h *Handler) AdminUsers(c echo.Context) error {
	return h.renderAdminUsers(c, http.StatusOK, views.NewForm())
}

func (h *Handler) renderAdminUsers(c echo.Context, status int, form views.Form) error {
	users, err := models.ListPeople(c.Request().Context(), h.db)
	if err != nil {
		return err
	}
	return h.Render(c, status, views.AdminUsersPage(views.AdminUsersProps{Users: users, Form: form}))
}

// AdminUserCreate is POST /admin/users: with a password the account is
// active at once; without one it is invited and the page shows the link.
func (h *Handler) AdminUserCreate(c echo.Context) error {
	in := people.NewPerson{
		Email:    strings.TrimSpace(c.FormValue("email")),
		Name:     strings.TrimSpace(c.FormValue("name")),
		Password: c.FormValue("password"),
	}
	// The password is never echoed back into the page.
	form := views.Form{Values: map[string]string{"email": in.Email, "name": in.Name}, Errors: map[string]string{}}
	u, invite, err := people.CreatePerson(c.Request().Context(), h.db, CurrentUser(c), in)
	if errs, status, ok := fieldErrors(err); ok {
		form.Errors = errs
		return h.renderAdminUsers(c, status, form)
	}
	if err != nil {
		return err
	}
	if invite == nil {
		h.flash(c, "success", "Created "+u.Email+". They can sign in with the password you set.")
		return redirect(c, "/admin/users")
	}
	link, mailed := h.deliverInvite(c, invite, inviteWhere)
	h.flashInvite(c, u.Email, link, mailed)
	return redirect(c, "/admin/users")
}

// AdminUserDeactivate is POST /admin/users/:id/deactivate.
func (h *Handler) AdminUserDeactivate(c echo.Context) error {
	no := false
	return h.adminUserChange(c, models.UserChange{Active: &no}, "Deactivated %s: their sessions and API keys stopped working.")
}

// AdminUserReactivate is POST /admin/users/:id/reactivate.
func (h *Handler) AdminUserReactivate(c echo.Context) error {
	yes := true
	return h.adminUserChange(c, models.UserChange{Active: &yes}, "Reactivated %s.")
}

// AdminUserMakeSiteAdmin is POST /admin/users/:id/make-site-admin.
func (h *Handler) AdminUserMakeSiteAdmin(c echo.Context) error {
	yes := true
	return h.adminUserChange(c, models.UserChange{SiteAdmin: &yes}, "%s is now a site admin.")
}

// AdminUserRemoveSiteAdmin is POST /admin/users/:id/remove-site-admin.
func (h *Handler) AdminUserRemoveSiteAdmin(c echo.Context) error {
	no := false
	return h.adminUserChange(c, models.UserChange{SiteAdmin: &no}, "%s is no longer a site admin.")
}

// adminUserChange applies one row action; a refusal (the last site admin)
// comes back as an error flash on the same page.
func (h *Handler) adminUserChange(c echo.Context, change models.UserChange, done string) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return newError(http.StatusNotFound, "", "No such user.")
	}
	u, invite, err := people.ChangePerson(c.Request().Context(), h.db, CurrentUser(c), id, change)
	if h.flashRefusal(c, err) {
		return redirect(c, "/admin/users")
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", strings.Replace(done, "%s", u.Email, 1))
	if invite != nil {
		link, mailed := h.deliverInvite(c, invite, inviteWhere)
		h.flashInvite(c, u.Email, link, mailed)
	}
	return redirect(c, "/admin/users")
}

// AdminUserReinvite is POST /admin/users/:id/invite: a fresh link for an
// invited user whose first one was lost; the older links stop working.
func (h *Handler) AdminUserReinvite(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return newError(http.StatusNotFound, "", "No such user.")
	}
	invite, err := people.Reinvite(c.Request().Context(), h.db, CurrentUser(c), id)
	if h.flashRefusal(c, err) {
		return redirect(c, "/admin/users")
	}
	if err != nil {
		return err
	}
	link, mailed := h.deliverInvite(c, invite, inviteWhere)
	h.flashInvite(c, invite.Email, link, mailed)
	return redirect(c, "/admin/users")
}
