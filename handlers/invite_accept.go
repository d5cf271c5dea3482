package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models/people"
	"github.com/automations-dev/automations/views"
)

// inviteInvalid is the one answer for unknown, used, expired and replaced
// links alike, so a link says nothing about why it stopped working.
func (h *Handler) inviteInvalid(c echo.Context) error {
	return h.Render(c, http.StatusGone, views.ErrorPage(http.StatusGone, "Invitation link not valid",
		"This invitation link has been used, has expired or was replaced by a newer one. Ask the person who invited you for a new link."))
}

// InvitePage is GET /invite/:token (no sign-in): the Set your password form.
func (h *Handler) InvitePage(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	token := c.Param("token")
	u, err := people.InvitedUser(c.Request().Context(), h.db, token)
	if errors.Is(err, people.ErrInvitationInvalid) {
		return h.inviteInvalid(c)
	}
	if err != nil {
		return err
	}
	return h.Render(c, http.StatusOK, views.InviteAcceptPage(views.InviteAcceptProps{Email: u.Email, Token: token, Form: views.NewForm()}))
}

// InviteAccept is POST /invite/:token: it sets the password, uses up the
// link, activates the account and signs the person in.
func (h *Handler) InviteAccept(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	ctx := c.Request().Context()
	token := c.Param("token")
	u, err := people.InvitedUser(ctx, h.db, token)
	if errors.Is(err, people.ErrInvitationInvalid) {
		return h.inviteInvalid(c)
	}
	if err != nil {
		return err
	}
	password := c.FormValue("password")
	form := views.NewForm()
	if password != c.FormValue("confirm") {
		form.Errors["confirm"] = "does not match the password"
		return h.Render(c, http.StatusUnprocessableEntity, views.InviteAcceptPage(views.InviteAcceptProps{Email: u.Email, Token: token, Form: form}))
	}
	accepted, err := people.AcceptInvitation(ctx, h.db, token, password)
	if errors.Is(err, people.ErrInvitationInvalid) {
		return h.inviteInvalid(c)
	}
	if errs, status, ok := fieldErrors(err); ok {
		form.Errors = errs
		return h.Render(c, status, views.InviteAcceptPage(views.InviteAcceptProps{Email: u.Email, Token: token, Form: form}))
	}
	if err != nil {
		return err
	}
	if err := h.startSession(c, accepted.ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/")
}
