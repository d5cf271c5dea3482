package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/audit"
	"github.com/automations-dev/automations/models/people"
	"github.com/automations-dev/automations/views"
)

// memberScope is a team or a registry as far as its members screens and API
// care: both have admin/member/viewer members with the same rules.
type memberScope struct {
	id      int64
	pageURL string
	// scope says where people.AddMember adds (and invites); where names it
	// in invitation mails.
	scope   people.MemberScope
	where   string
	list    func(context.Context, *gorm.DB, int64) ([]models.Member, error)
	setRole func(context.Context, *gorm.DB, int64, int64, models.Role) error
	remove  func(context.Context, *gorm.DB, int64, int64) error
	role    func(context.Context, *gorm.DB, int64, int64) (models.Role, error)
	log     audit.Entry // whose audit log records the changes
	// page re-renders the screen with the add-member form's errors.
	page func(c echo.Context, status int, form views.Form) error
}

func (h *Handler) teamScope(c echo.Context) memberScope {
	t := currentTeam(c)
	return memberScope{
		id: t.ID, pageURL: "/teams/" + t.Name,
		scope: people.Team(t.ID), where: fmt.Sprintf("the team %q", t.Name),
		list:    models.TeamMembers,
		setRole: models.SetTeamRole, remove: models.RemoveTeamMember,
		role: models.TeamRole, log: teamLog(t),
		page: h.renderTeamSettings,
	}
}

func (h *Handler) registryScope(c echo.Context) memberScope {
	r := currentRegistry(c)
	return memberScope{
		id: r.ID, pageURL: "/registries/" + r.Name + "/members",
		scope: people.Registry(r.ID), where: fmt.Sprintf("the registry %q", r.Name),
		list:    models.RegistryMembers,
		setRole: models.SetRegistryRole, remove: models.RemoveRegistryMember,
		role: models.RegistryRole, log: registryLog(r),
		page: h.renderRegistryMembers,
	}
}

// addMemberForm handles the Add member form of a team or registry.
func (h *Handler) addMemberForm(c echo.Context, s memberScope) error {
	email := strings.TrimSpace(c.FormValue("email"))
	role := c.FormValue("role")
	form := views.Form{Values: map[string]string{"email": email, "role": role}, Errors: map[string]string{}}
	r, err := models.ParseRole("role", role)
	var added *people.AddedMember
	if err == nil {
		added, err = h.addMember(c, s, email, r)
	}
	if errs, status, ok := fieldErrors(err); ok {
		form.Errors = errs
		return s.page(c, status, form)
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", "Added "+added.Member.Email+" as "+role+".")
	if added.Invite != nil {
		link, mailed := h.deliverInvite(c, added.Invite, s.where)
		h.flashInvite(c, added.Member.Email, link, mailed)
	}
	return redirect(c, s.pageURL)
}

// memberChangeForm handles Change role and Remove; failures (the last
// admin) come back as a flash on the same page.
func (h *Handler) memberChangeForm(c echo.Context, s memberScope, remove bool) error {
	// Whatever the id names (nobody, or someone not in this scope), the
	// answer is the same.
	noMember := newError(http.StatusNotFound, "", "No such member.")
	userID, err := strconv.ParseInt(c.Param("user"), 10, 64)
	if err != nil {
		return noMember
	}
	if remove {
		err = h.removeMember(c, s, userID)
	} else {
		var r models.Role
		if r, err = models.ParseRole("role", c.FormValue("role")); err == nil {
			err = h.setMemberRole(c, s, userID, r)
		}
	}
	if errors.Is(err, models.ErrNotFound) {
		return noMember
	}
	if h.flashRefusal(c, err) {
		return redirect(c, s.pageURL)
	}
	if err != nil {
		return err
	}
	if remove {
		h.flash(c, "success", "Member removed.")
	} else {
		h.flash(c, "success", "Role changed.")
	}
	return redirect(c, s.pageURL)
}

// TeamMemberAdd is POST /teams/:team/members.
func (h *Handler) TeamMemberAdd(c echo.Context) error { return h.addMemberForm(c, h.teamScope(c)) }

// TeamMemberRole is POST /teams/:team/members/:user/role.
func (h *Handler) TeamMemberRole(c echo.Context) error {
	return h.memberChangeForm(c, h.teamScope(c), false)
}

// TeamMemberRemove is POST /teams/:team/members/:user/remove.
func (h *Handler) TeamMemberRemove(c echo.Context) error {
	return h.memberChangeForm(c, h.teamScope(c), true)
}

// RegistryMemberAdd is POST /registries/:registry/members.
func (h *Handler) RegistryMemberAdd(c echo.Context) error {
	return h.addMemberForm(c, h.registryScope(c))
}

// RegistryMemberRole is POST /registries/:registry/members/:user/role.
func (h *Handler) RegistryMemberRole(c echo.Context) error {
	return h.memberChangeForm(c, h.registryScope(c), false)
}

// RegistryMemberRemove is POST /registries/:registry/members/:user/remove.
func (h *Handler) RegistryMemberRemove(c echo.Context) error {
	return h.memberChangeForm(c, h.registryScope(c), true)
}
