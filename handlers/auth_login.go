package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/views"
)

// LoginPage shows the sign-in form.
func (h *Handler) LoginPage(c echo.Context) error {
	if CurrentUser(c) != nil {
		return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
	}
	return h.Render(c, http.StatusOK, views.LoginPage(h.signInChoices(views.LoginProps{Form: views.NewForm(), Next: c.QueryParam("next")})))
}

// Login checks the credentials, rate-limited per email and per client
// address, and starts a fresh session.
func (h *Handler) Login(c echo.Context) error {
	if !h.passwordLogin {
		return errPasswordLoginOff
	}
	email := models.NormalizeEmail(c.FormValue("email"))
	next := c.FormValue("next")
	form := views.Form{Values: map[string]string{"email": email}, Errors: map[string]string{}}
	keys := []string{"email:" + email, "ip:" + c.RealIP()}
	for _, k := range keys {
		if ok, wait := h.limiter.Allow(k); !ok {
			c.Response().Header().Set("Retry-After", fmt.Sprint(wait))
			msg := fmt.Sprintf("Too many failed sign-in attempts. Try again in %d minutes.", (wait+59)/60)
			return h.Render(c, http.StatusTooManyRequests, views.LoginPage(h.signInChoices(views.LoginProps{Form: form, Error: msg, Next: next})))
		}
	}
	u, err := models.Authenticate(c.Request().Context(), h.db, email, c.FormValue("password"))
	if errors.Is(err, models.ErrBadCredentials) {
		for _, k := range keys {
			h.limiter.Fail(k)
		}
		return h.Render(c, http.StatusUnauthorized, views.LoginPage(h.signInChoices(views.LoginProps{
			Form: form, Error: "Email or password is incorrect.", Next: next,
		})))
	}
	if err != nil {
		return err
	}
	h.limiter.Reset("email:" + email)
	if err := h.startSession(c, u.ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, safeNext(next))
}

// Logout ends the session.
func (h *Handler) Logout(c echo.Context) error {
	if err := h.endSession(c); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/login")
}

// safeNext keeps post-login redirects on this site: a local path only.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}
