package models

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// SSOOutcome says what a single sign-on did to the account it signed in.
type SSOOutcome string

// Single sign-on outcomes (DESIGN.md §13).
const (
	SSOSignedIn  SSOOutcome = "signed_in" // an active account, unchanged
	SSOActivated SSOOutcome = "activated" // an invited account, now active
	SSOCreated   SSOOutcome = "created"   // a new ordinary account
)

// Reasons single sign-on refuses a verified email.
var (
	ErrSSODeactivated      = errors.New("the account is deactivated")
	ErrSSOServiceAccount   = errors.New("the account is a service account")
	ErrSSODomainNotAllowed = errors.New("the email's domain may not create accounts")
)

// SSOUser is the account an identity provider's verified email signs in
// as: an active account as it is; an invited one, activated (the provider
// vouches for the person, so no password is needed); an unknown email, a
// new ordinary account only when its domain is in allowedDomains (lower
// case). Deactivated accounts and service accounts are refused. Callers
// pass a transaction and record the change in it; a gorm.ErrDuplicatedKey
// means a concurrent sign-in created the account first, and a retry finds it.
func SSOUser(ctx context.Context, db *gorm.DB, email, name string, allowedDomains []string) (*User, SSOOutcome, error) {
	email = NormalizeEmail(email)
	u, err := UserByEmail(ctx, db, email)
	if errors.Is(err, ErrNotFound) {
		if !EmailDomainAllowed(email, allowedDomains) {
			return nil, "", ErrSSODomainNotAllowed
		}
		u, err = createSSOUser(ctx, db, email, name)
		return u, SSOCreated, err
	}
	if err != nil {
		return nil, "", err
	}
	if u.IsServiceAccount() {
		return nil, "", ErrSSOServiceAccount
	}
	switch u.State {
	case UserActive:
		return u, SSOSignedIn, nil
	case UserInvited:
		// Only an account still invited is activated, so a deactivation
		// that lands first is not undone.
		res := db.WithContext(ctx).Model(&User{}).Where("id = ? AND state = ?", u.ID, UserInvited).
			Updates(map[string]any{"state": UserActive, "updated_at": time.Now().UTC()})
		if res.Error != nil {
			return nil, "", fmt.Errorf("activate user %d: %w", u.ID, res.Error)
		}
		if res.RowsAffected == 0 {
			return ssoUserAgain(ctx, db, u.ID)
		}
		u.State = UserActive
		return u, SSOActivated, nil
	}
	return nil, "", ErrSSODeactivated
}

// ssoUserAgain rereads an account whose state changed under a sign-in.
func ssoUserAgain(ctx context.Context, db *gorm.DB, id int64) (*User, SSOOutcome, error) {
	u, err := UserByID(ctx, db, id)
	if err != nil {
		return nil, "", err
	}
	if !u.Active() {
		return nil, "", ErrSSODeactivated
	}
	return u, SSOSignedIn, nil
}

// EmailDomainAllowed reports whether email's domain is one of domains
// (lower case, exact match: a subdomain must be listed itself).
func EmailDomainAllowed(email string, domains []string) bool {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return false
	}
	return slices.Contains(domains, strings.ToLower(email[at+1:]))
}

// createSSOUser stores an active ordinary account without a password: it
// signs in through the identity provider (an empty hash matches no password).
func createSSOUser(ctx context.Context, db *gorm.DB, email, name string) (*User, error) {
	if _, err := mail.ParseAddress(email); err != nil {
		return nil, Invalid("email", "%q is not an email address", Excerpt(email))
	}
	u := &User{
		Email:    email,
		Name:     strings.TrimSpace(name),
		Username: strings.Trim(usernameStrip.ReplaceAllString(strings.SplitN(email, "@", 2)[0], "-"), "-"),
		State:    UserActive,
	}
	if err := db.WithContext(ctx).Create(u).Error; err != nil {
		return nil, fmt.Errorf("create user %s: %w", email, err)
	}
	return u, nil
}
