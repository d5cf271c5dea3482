package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

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

// Login checks the credentials, throttled per email and per client
// address, and starts a fresh session.
func (h *Handler) Login(c echo.Context) error {
	if !h.passwordLogin {
		return errPasswordLoginOff
	}
	email := models.NormalizeEmail(c.FormValue("email"))
	next := c.FormValue("next")
	form := views.Form{Values: map[string]string{"email": email}, Errors: map[string]string{}}
	// The attempt is counted before the password is checked, so parallel
	// guesses cannot all pass before the first failure is recorded.
	ip := c.RealIP()
	if ok, wait := h.limiter.Reserve(email, ip); !ok {
		tooMany(c, wait)
		return h.Render(c, http.StatusTooManyRequests, views.LoginPage(h.signInChoices(views.LoginProps{Form: form, Error: tooManyMessage(wait), Next: next})))
	}
	u, err := models.Authenticate(c.Request().Context(), h.db, email, c.FormValue("password"))
	if errors.Is(err, models.ErrBadCredentials) {
		return h.Render(c, http.StatusUnauthorized, views.LoginPage(h.signInChoices(views.LoginProps{
			Form: form, Error: "Email or password is incorrect.", Next: next,
		})))
	}
	if err != nil {
		return err
	}
	h.limiter.Succeeded(email, ip)
	if err := h.startSession(c, u.ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, safeNext(next))
}

// tooMany sets Retry-After in whole seconds, rounded up.
func tooMany(c echo.Context, wait time.Duration) {
	c.Response().Header().Set("Retry-After", fmt.Sprint(int((wait+time.Second-1)/time.Second)))
}

func tooManyMessage(wait time.Duration) string {
	if wait < time.Minute {
		return fmt.Sprintf("Too many failed sign-in attempts. Try again in %d seconds.", int((wait+time.Second-1)/time.Second))
	}
	return fmt.Sprintf("Too many failed sign-in attempts. Try again in %d minutes.", int((wait+time.Minute-1)/time.Minute))
}

// Logout ends the session: its row is deleted, so a copy of the cookie
// signs no one in afterwards.
func (h *Handler) Logout(c echo.Context) error {
	if err := h.endSession(c); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/login")
}

// safeNext keeps post-login redirects on this site. Only a path on this
// origin passes: anything a browser could read as another host (`//h`,
// `/\h`, a scheme, tabs and newlines it strips before parsing) goes home.
// The check runs on the raw text and on the parsed, percent-decoded path.
func safeNext(next string) string {
	if !isLocalPath(next) {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	if !isLocalPath(u.Path) {
		return "/"
	}
	return next
}

// isLocalPath: starts with one slash, then no second slash or backslash,
// and no backslash or control character anywhere.
func isLocalPath(p string) bool {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return false
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f || r == '\\' || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}
