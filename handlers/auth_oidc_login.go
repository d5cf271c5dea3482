package handlers

import (
	"crypto/rand"
	"net/http"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/automations-dev/automations/views"
)

// errSSOOff answers the SSO routes when single sign-on is not configured.
var errSSOOff = &Error{Status: http.StatusNotFound, Message: "Single sign-on is not configured on this site."}

// OIDCLogin is GET /auth/oidc/login?next=…: it starts a single sign-on
// (authorization code flow with PKCE) with a fresh state, nonce and
// verifier kept in the flow cookie, and sends the browser to the provider.
func (h *Handler) OIDCLogin(c echo.Context) error {
	if h.oidc == nil {
		return errSSOOff
	}
	next := safeNext(c.QueryParam("next"))
	if CurrentUser(c) != nil {
		return c.Redirect(http.StatusSeeOther, next)
	}
	conf, _, err := h.oidc.discover(c.Request().Context())
	if err != nil {
		return err
	}
	flow := oidcFlow{State: rand.Text(), Nonce: rand.Text(), Verifier: oauth2.GenerateVerifier(), Next: next}
	if err := h.oidc.setFlow(c, flow); err != nil {
		return err
	}
	to := conf.AuthCodeURL(flow.State, oidc.Nonce(flow.Nonce), oauth2.S256ChallengeOption(flow.Verifier))
	return c.Redirect(http.StatusSeeOther, to)
}

// errPasswordLoginOff answers POST /login under PASSWORD_LOGIN=false,
// before anything in the form is looked at.
var errPasswordLoginOff = &Error{Status: http.StatusForbidden, Message: "Password sign-in is turned off; use single sign-on."}

// signInChoices tells the login page which ways in this site offers.
func (h *Handler) signInChoices(p views.LoginProps) views.LoginProps {
	p.SSO = h.oidc != nil
	p.PasswordOff = !h.passwordLogin
	return p
}
