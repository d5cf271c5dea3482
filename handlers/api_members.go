package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
)

type memberJSON struct {
	Email string      `json:"email"`
	Name  string      `json:"name"`
	Role  models.Role `json:"role"`
}

// memberAddedJSON answers an add; InviteURL is set when the email had no
// account yet (or one still waiting for its password).
type memberAddedJSON struct {
	memberJSON
	InviteURL string `json:"invite_url,omitempty"`
}

type memberBody struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

func membersJSON(ms []models.Member) []memberJSON {
	out := make([]memberJSON, len(ms))
	for i, m := range ms {
		out[i] = memberJSON{Email: m.Email, Name: m.Name, Role: m.Role}
	}
	return out
}

func (h *Handler) apiMembersList(c echo.Context, s memberScope) error {
	ms, err := s.list(c.Request().Context(), h.db, s.id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"members": membersJSON(ms)})
}

func (h *Handler) apiMemberAdd(c echo.Context, s memberScope) error {
	var body memberBody
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	role, err := models.ParseRole("role", body.Role)
	if err != nil {
		return err
	}
	added, err := h.addMember(c, s, body.Email, role)
	if err != nil {
		return err
	}
	m := added.Member
	out := memberAddedJSON{memberJSON: memberJSON{Email: m.Email, Name: m.Name, Role: m.Role}}
	if added.Invite != nil {
		out.InviteURL, _ = h.deliverInvite(c, added.Invite, s.where)
	}
	return c.JSON(http.StatusCreated, out)
}

// apiMemberChange is PATCH (role) or DELETE of .../members/:email.
func (h *Handler) apiMemberChange(c echo.Context, s memberScope, remove bool) error {
	ctx := c.Request().Context()
	// The body is checked first, then the email: no account with that
	// email and an account that is not a member get one answer, so an
	// admin cannot probe which emails have accounts.
	var role models.Role
	if !remove {
		var body struct {
			Role string `json:"role"`
		}
		if err := bindJSON(c, &body); err != nil {
			return err
		}
		var err error
		if role, err = models.ParseRole("role", body.Role); err != nil {
			return err
		}
	}
	noMember := newError(http.StatusNotFound, "email", "no member with that email")
	u, err := models.UserByEmail(ctx, h.db, c.Param("email"))
	if errors.Is(err, models.ErrNotFound) {
		return noMember
	}
	if err != nil {
		return err
	}
	if remove {
		err = h.removeMember(c, s, u.ID)
	} else {
		err = h.setMemberRole(c, s, u.ID, role)
	}
	if errors.Is(err, models.ErrNotFound) {
		return noMember
	}
	if err != nil {
		return err
	}
	if remove {
		return c.NoContent(http.StatusNoContent)
	}
	return c.JSON(http.StatusOK, memberJSON{Email: u.Email, Name: u.Name, Role: role})
}

// APITeamMembers is GET /api/v1/teams/:team/members.
func (h *Handler) APITeamMembers(c echo.Context) error { return h.apiMembersList(c, h.teamScope(c)) }

// APITeamMemberAdd is POST /api/v1/teams/:team/members.
func (h *Handler) APITeamMemberAdd(c echo.Context) error { return h.apiMemberAdd(c, h.teamScope(c)) }

// APITeamMemberUpdate is PATCH /api/v1/teams/:team/members/:email.
func (h *Handler) APITeamMemberUpdate(c echo.Context) error {
	return h.apiMemberChange(c, h.teamScope(c), false)
}

// APITeamMemberRemove is DELETE /api/v1/teams/:team/members/:email.
func (h *Handler) APITeamMemberRemove(c echo.Context) error {
	return h.apiMemberChange(c, h.teamScope(c), true)
}

// APIRegistryMembers is GET /api/v1/registries/:registry/members.
func (h *Handler) APIRegistryMembers(c echo.Context) error {
	return h.apiMembersList(c, h.registryScope(c))
}

// APIRegistryMemberAdd is POST /api/v1/registries/:registry/members.
func (h *Handler) APIRegistryMemberAdd(c echo.Context) error {
	return h.apiMemberAdd(c, h.registryScope(c))
}

// APIRegistryMemberUpdate is PATCH /api/v1/registries/:registry/members/:email.
func (h *Handler) APIRegistryMemberUpdate(c echo.Context) error {
	return h.apiMemberChange(c, h.registryScope(c), false)
}

// APIRegistryMemberRemove is DELETE /api/v1/registries/:registry/members/:email.
func (h *Handler) APIRegistryMemberRemove(c echo.Context) error {
	return h.apiMemberChange(c, h.registryScope(c), true)
}
