package web

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/automations-dev/automations/handlers"
)

// Switch is an on/off setting that is on unless set to false; its zero
// value is on.
type Switch struct{ off bool }

// SwitchedOff is a Switch set to false.
var SwitchedOff = Switch{off: true}

// On reports whether the setting is on.
func (s Switch) On() bool { return !s.off }

// UnmarshalText reads true/false (and 1/0, as strconv.ParseBool); empty is on.
func (s *Switch) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*s = Switch{}
		return nil
	}
	on, err := strconv.ParseBool(string(b))
	if err != nil {
		return fmt.Errorf("want true or false, not %q", b)
	}
	*s = Switch{off: !on}
	return nil
}

// OIDCConfigured reports whether single sign-on is on: OIDC_ISSUER_URL,
// OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are all set.
func (c Config) OIDCConfigured() bool {
	return c.OIDCIssuerURL != "" && c.OIDCClientID != "" && c.OIDCClientSecret != ""
}

// checkSignIn refuses settings that would lock everyone out or half-enable
// single sign-on: a server must start with at least one way to sign in.
func (c Config) checkSignIn() error {
	var missing []string
	for _, s := range []struct{ name, value string }{
		{"OIDC_ISSUER_URL", c.OIDCIssuerURL},
		{"OIDC_CLIENT_ID", c.OIDCClientID},
		{"OIDC_CLIENT_SECRET", c.OIDCClientSecret},
	} {
		if s.value == "" {
			missing = append(missing, s.name)
		}
	}
	if len(missing) > 0 && len(missing) < 3 {
		return fmt.Errorf("single sign-on needs OIDC_ISSUER_URL, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET together; missing %s", strings.Join(missing, ", "))
	}
	if !c.PasswordLogin.On() && !c.OIDCConfigured() {
		return errors.New("PASSWORD_LOGIN=false needs single sign-on: set OIDC_ISSUER_URL, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET, or leave password sign-in on")
	}
	return nil
}

// oidcDeps is the handlers' single sign-on client configuration; the zero
// value (single sign-on off) when OIDC is not configured.
func oidcDeps(c Config, keys Keys) handlers.OIDCConfig {
	if !c.OIDCConfigured() {
		return handlers.OIDCConfig{}
	}
	var domains []string
	for _, d := range c.OIDCAllowedDomains {
		if d = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@")); d != "" {
			domains = append(domains, d)
		}
	}
	return handlers.OIDCConfig{
		IssuerURL:      c.OIDCIssuerURL,
		ClientID:       c.OIDCClientID,
		ClientSecret:   c.OIDCClientSecret,
		RedirectURL:    c.BaseURL + "/auth/oidc/callback",
		AllowedDomains: domains,
		CookieKey:      keys.Session,
		SecureCookie:   c.SecureCookies(),
	}
}
