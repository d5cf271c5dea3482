package handlers

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gorilla/securecookie"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"
)

// OIDCConfig is the OpenID Connect client behind "Sign in with SSO"
// (OIDC_* settings). An empty IssuerURL turns single sign-on off.
type OIDCConfig struct {
	IssuerURL    string
	ClientID     string
	ClientSecret string
	// RedirectURL is BASE_URL/auth/oidc/callback, registered at the provider.
	RedirectURL string
	// AllowedDomains (lower case) are the email domains whose unknown
	// users are created on their first sign-in.
	AllowedDomains []string
	// CookieKey (SECRET_KEY) signs and encrypts the sign-in flow cookie.
	CookieKey    []byte
	SecureCookie bool
}

const (
	// oidcFlowCookie carries one sign-in's state, nonce, PKCE verifier and
	// next page from /auth/oidc/login to the callback, encrypted and signed;
	// the callback clears it whatever the outcome, so each is used once.
	oidcFlowCookie = "automations_oidc"
	oidcFlowPath   = "/auth/oidc/"
	oidcFlowTTL    = 10 * time.Minute
	// oidcTimeout bounds each call to the provider (discovery, token
	// exchange, signing keys).
	oidcTimeout = 15 * time.Second
)

// oidcClient talks to the identity provider. Its provider is discovered on
// first use, not at start, so a provider that is down does not stop
// `serve`; a failed discovery is tried again on the next sign-in.
type oidcClient struct {
	cfg   OIDCConfig
	codec *securecookie.SecureCookie
	http  *http.Client

	mu       sync.Mutex // guards discovery: concurrent first sign-ins wait for one
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
}

// oidcFlow is what the flow cookie holds.
type oidcFlow struct {
	State    string `json:"state"`
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
	Next     string `json:"next"`
}

func newOIDCClient(cfg OIDCConfig) *oidcClient {
	if cfg.IssuerURL == "" {
		return nil
	}
	// Keys of their own, derived from SECRET_KEY, so a flow cookie can never
	// be read as a session cookie or the other way round.
	codec := securecookie.New(deriveKey(cfg.CookieKey, "oidc-flow-hash"), deriveKey(cfg.CookieKey, "oidc-flow-block"))
	codec.MaxAge(int(oidcFlowTTL.Seconds()))
	codec.SetSerializer(securecookie.JSONEncoder{})
	return &oidcClient{cfg: cfg, codec: codec, http: &http.Client{Timeout: oidcTimeout}}
}

func deriveKey(secret []byte, label string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// discover returns the OAuth 2.0 client for the provider's endpoints and
// the verifier of its ID tokens, fetching the discovery document once.
func (o *oidcClient) discover(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider == nil {
		ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, o.http), oidcTimeout)
		defer cancel()
		p, err := oidc.NewProvider(ctx, o.cfg.IssuerURL)
		if err != nil {
			return nil, nil, &Error{Status: http.StatusBadGateway, Cause: fmt.Errorf("discover OIDC provider %s: %w", o.cfg.IssuerURL, err),
				Message: "Single sign-on is unavailable: the identity provider could not be reached. Try again later."}
		}
		o.provider = p
		o.verifier = p.Verifier(&oidc.Config{ClientID: o.cfg.ClientID})
	}
	return &oauth2.Config{
		ClientID:     o.cfg.ClientID,
		ClientSecret: o.cfg.ClientSecret,
		Endpoint:     o.provider.Endpoint(),
		RedirectURL:  o.cfg.RedirectURL,
		Scopes:       []string{oidc.ScopeOpenID, "email", "profile"},
	}, o.verifier, nil
}

// setFlow stores a sign-in's flow in its cookie.
func (o *oidcClient) setFlow(c echo.Context, f oidcFlow) error {
	v, err := o.codec.Encode(oidcFlowCookie, f)
	if err != nil {
		return fmt.Errorf("encode sign-in flow: %w", err)
	}
	c.SetCookie(o.cookie(v, int(oidcFlowTTL.Seconds())))
	return nil
}

// takeFlow reads the flow cookie and clears it in the answer, so a
// callback URL works once; false when there is none or it is forged or old.
func (o *oidcClient) takeFlow(c echo.Context) (oidcFlow, bool) {
	var f oidcFlow
	ck, err := c.Cookie(oidcFlowCookie)
	if err != nil {
		return f, false
	}
	c.SetCookie(o.cookie("", -1))
	return f, o.codec.Decode(oidcFlowCookie, ck.Value, &f) == nil && f.State != ""
}

// cookie is the flow cookie: Lax so the provider's redirect back (a
// top-level GET from another site) carries it, scoped to the SSO routes.
func (o *oidcClient) cookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: oidcFlowCookie, Value: value, Path: oidcFlowPath, MaxAge: maxAge,
		HttpOnly: true, Secure: o.cfg.SecureCookie, SameSite: http.SameSiteLaxMode}
}

// oidcIdentity is who the provider says signed in.
type oidcIdentity struct {
	Email string
	Name  string
}

// errSSOUnverified is an answer from the provider that does not hold up:
// a bad signature, audience, issuer, expiry or nonce.
var errSSOUnverified = &Error{Status: http.StatusBadRequest,
	Message: "Sign-in failed: the identity provider's answer could not be verified. Try again."}

// identify exchanges the code (with the flow's PKCE verifier) for tokens
// and verifies the ID token, its nonce and a verified email.
func (o *oidcClient) identify(ctx context.Context, code string, flow oidcFlow) (oidcIdentity, error) {
	conf, verifier, err := o.discover(ctx)
	if err != nil {
		return oidcIdentity{}, err
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, o.http), oidcTimeout)
	defer cancel()
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(flow.Verifier))
	if err != nil {
		var refused *oauth2.RetrieveError
		if errors.As(err, &refused) {
			return oidcIdentity{}, &Error{Status: http.StatusBadRequest, Cause: err,
				Message: "Sign-in failed: the identity provider did not accept the sign-in code (it may have been used already). Try again."}
		}
		return oidcIdentity{}, &Error{Status: http.StatusBadGateway, Cause: err,
			Message: "Sign-in failed: the identity provider could not be reached. Try again later."}
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return oidcIdentity{}, &Error{Status: http.StatusBadGateway, Cause: errors.New("token response has no id_token"),
			Message: "Sign-in failed: the identity provider sent no ID token."}
	}
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		return oidcIdentity{}, &Error{Status: errSSOUnverified.Status, Message: errSSOUnverified.Message, Cause: err}
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(flow.Nonce)) != 1 {
		return oidcIdentity{}, &Error{Status: errSSOUnverified.Status, Message: errSSOUnverified.Message, Cause: errors.New("ID token nonce does not match")}
	}
	var claims struct {
		Email string `json:"email"`
		// Some providers send "true" as a string.
		EmailVerified any    `json:"email_verified"`
		Name          string `json:"name"`
	}
	if err := idt.Claims(&claims); err != nil {
		return oidcIdentity{}, &Error{Status: errSSOUnverified.Status, Message: errSSOUnverified.Message, Cause: err}
	}
	if claims.Email == "" {
		return oidcIdentity{}, &Error{Status: http.StatusForbidden,
			Message: "Sign-in failed: the identity provider did not share your email address, which this site signs you in by."}
	}
	if v := claims.EmailVerified; v != true && v != "true" {
		return oidcIdentity{}, &Error{Status: http.StatusForbidden,
			Message: "Sign-in failed: your identity provider has not verified the email address " + claims.Email + ". Verify it there and try again."}
	}
	return oidcIdentity{Email: claims.Email, Name: claims.Name}, nil
}
