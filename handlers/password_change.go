package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/people"
	"github.com/automations-dev/automations/views"
)

// PasswordChange is POST /settings/password. The current password is
// checked under the same throttling as sign-in (a stolen session must not
// become a way to guess it). On success every session of the user ends,
// this one included, and this browser gets a new one: no cookie saved
// before the change works after it.
func (h *Handler) PasswordChange(c echo.Context) error {
	u := CurrentUser(c)
	current := c.FormValue("current_password")
	next := c.FormValue("new_password")
	confirm := c.FormValue("confirm_password")

	// Passwords are never written back into the form.
	form := views.NewForm()
	switch {
	case len(next) < models.MinPasswordLength || len(next) > 72:
		form.Errors["new_password"] = fmt.Sprintf("must be %d to 72 characters", models.MinPasswordLength)
	case next != confirm:
		form.Errors["confirm_password"] = "does not match the new password"
	}
	if current == "" {
		form.Errors["current_password"] = "is required"
	}
	if form.HasErrors() {
		return h.renderUserSettings(c, http.StatusUnprocessableEntity, views.UserSettingsProps{PasswordForm: form})
	}

	ctx := c.Request().Context()
	ip := c.RealIP()
	if ok, wait := h.limiter.Reserve(u.Email, ip); !ok {
		tooMany(c, wait)
		form.Errors["current_password"] = tooManyMessage(wait)
		return h.renderUserSettings(c, http.StatusTooManyRequests, views.UserSettingsProps{PasswordForm: form})
	}
	_, err := models.Authenticate(ctx, h.db, u.Email, current)
	if errors.Is(err, models.ErrBadCredentials) {
		form.Errors["current_password"] = "is incorrect"
		return h.renderUserSettings(c, http.StatusUnprocessableEntity, views.UserSettingsProps{PasswordForm: form})
	}
	if err != nil {
		return err
	}
	h.limiter.Succeeded(u.Email, ip)

	token, err := people.ChangePassword(ctx, h.db, u.ID, next, ip, c.Request().UserAgent(), time.Now(), h.limits)
	if errs, status, ok := fieldErrors(err); ok {
		form.Errors["new_password"] = errs["password"]
		return h.renderUserSettings(c, status, views.UserSettingsProps{PasswordForm: form})
	}
	if err != nil {
		return err
	}
	if err := h.setSessionCookie(c, token); err != nil {
		return err
	}
	h.flash(c, "success", "Password changed. Every other browser is signed out.")
	return redirect(c, "/settings")
}
