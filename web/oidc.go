package web

import (
	"errors"
	"fmt"
	"strings"

	"github.com/automations-dev/automations/handlers"
)

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
	if !c.PasswordLogin && !c.OIDCConfigured() {
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
