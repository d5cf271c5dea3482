package handlers

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/people"
)

// userJSON is a person as the users API shows it; InviteURL is set on the
// answer that issued a fresh invitation.
type userJSON struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	State     string    `json:"state"`
	SiteAdmin bool      `json:"site_admin"`
	CreatedAt time.Time `json:"created_at"`
	InviteURL string    `json:"invite_url,omitempty"`
}

func toUserJSON(u *models.User) userJSON {
	return userJSON{ID: u.ID, Email: u.Email, Name: u.Name, State: string(u.State), SiteAdmin: u.SiteAdmin, CreatedAt: u.CreatedAt}
}

// APIUsersList is GET /api/v1/users (site admins): people, not service accounts.
func (h *Handler) APIUsersList(c echo.Context) error {
	users, err := models.ListPeople(c.Request().Context(), h.db)
	if err != nil {
		return err
	}
	out := make([]userJSON, len(users))
	for i := range users {
		out[i] = toUserJSON(&users[i])
	}
	return c.JSON(http.StatusOK, map[string]any{"users": out})
}

// APIUserCreate is POST /api/v1/users {email, name, password?}: without a
// password the account is invited and the answer carries invite_url.
func (h *Handler) APIUserCreate(c echo.Context) error {
	var body struct {
		Email    string `json:"email"`
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	u, invite, err := people.CreatePerson(c.Request().Context(), h.db, CurrentUser(c),
		people.NewPerson{Email: body.Email, Name: body.Name, Password: body.Password})
	if err != nil {
		return err
	}
	out := toUserJSON(u)
	if invite != nil {
		out.InviteURL, _ = h.deliverInvite(c, invite, inviteWhere)
	}
	return c.JSON(http.StatusCreated, out)
}

// APIUserUpdate is PATCH /api/v1/users/:email {active, site_admin, name},
// any subset.
func (h *Handler) APIUserUpdate(c echo.Context) error {
	var body struct {
		Active    *bool   `json:"active"`
		SiteAdmin *bool   `json:"site_admin"`
		Name      *string `json:"name"`
	}
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	return h.apiUserChange(c, models.UserChange{Active: body.Active, SiteAdmin: body.SiteAdmin, Name: body.Name}, http.StatusOK)
}

// APIUserDeactivate is DELETE /api/v1/users/:email: the account is
// deactivated, not deleted, so history keeps its name.
func (h *Handler) APIUserDeactivate(c echo.Context) error {
	no := false
	return h.apiUserChange(c, models.UserChange{Active: &no}, http.StatusNoContent)
}

func (h *Handler) apiUserChange(c echo.Context, change models.UserChange, status int) error {
	ctx := c.Request().Context()
	target, err := models.PersonByEmail(ctx, h.db, c.Param("email"))
	if errors.Is(err, models.ErrNotFound) {
		return newError(http.StatusNotFound, "email", "no user with that email")
	}
	if err != nil {
		return err
	}
	u, invite, err := people.ChangePerson(ctx, h.db, CurrentUser(c), target.ID, change)
	if err != nil {
		return err
	}
	if status == http.StatusNoContent {
		return c.NoContent(status)
	}
	out := toUserJSON(u)
	if invite != nil {
		out.InviteURL, _ = h.deliverInvite(c, invite, inviteWhere)
	}
	return c.JSON(status, out)
}
