package models

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// MaxUserNameLength caps a person's display name.
const MaxUserNameLength = 200

// ListPeople lists every user who is a person (service accounts belong to
// their team's settings, not to Admin → Users), by email.
func ListPeople(ctx context.Context, db *gorm.DB) ([]User, error) {
	var out []User
	if err := db.WithContext(ctx).Where("service_team_id IS NULL").Order("email").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// PersonByEmail loads a person (not a service account) by email.
func PersonByEmail(ctx context.Context, db *gorm.DB, email string) (*User, error) {
	u, err := UserByEmail(ctx, db, email)
	if err != nil {
		return nil, err
	}
	if u.IsServiceAccount() {
		return nil, fmt.Errorf("user %s is a service account: %w", email, ErrNotFound)
	}
	return u, nil
}

// PersonByID loads a person (not a service account) by id.
func PersonByID(ctx context.Context, db *gorm.DB, id int64) (*User, error) {
	u, err := UserByID(ctx, db, id)
	if err != nil {
		return nil, err
	}
	if u.IsServiceAccount() {
		return nil, fmt.Errorf("user %d is a service account: %w", id, ErrNotFound)
	}
	return u, nil
}

// ValidateUserName checks a display name: valid UTF-8 without NUL bytes,
// at most MaxUserNameLength characters.
func ValidateUserName(name string) error {
	if !utf8.ValidString(name) || strings.ContainsRune(name, 0) {
		return Invalid("name", "must be text without NUL bytes")
	}
	if utf8.RuneCountInString(name) > MaxUserNameLength {
		return Invalid("name", "must be at most %d characters", MaxUserNameLength)
	}
	return nil
}

func validateEmail(raw string) (string, error) {
	email := NormalizeEmail(raw)
	if !utf8.ValidString(raw) || strings.ContainsRune(raw, 0) {
		return "", Invalid("email", "must be text without NUL bytes")
	}
	if _, err := mail.ParseAddress(email); err != nil || !strings.Contains(email, "@") {
		return "", Invalid("email", "%q is not an email address", raw)
	}
	return email, nil
}

// CreateInvitedUser stores an account without a password in state invited,
// named after the email's local part when name is empty. It signs in only
// after its invitation is accepted (people.AcceptInvitation).
func CreateInvitedUser(ctx context.Context, db *gorm.DB, email, name string) (*User, error) {
	email, err := validateEmail(email)
	if err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	if err := ValidateUserName(name); err != nil {
		return nil, err
	}
	local := strings.SplitN(email, "@", 2)[0]
	if name == "" {
		name = local
	}
	u := &User{
		Email:    email,
		Name:     name,
		Username: strings.Trim(usernameStrip.ReplaceAllString(local, "-"), "-"),
		State:    UserInvited,
	}
	if err := db.WithContext(ctx).Create(u).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return nil, Conflict("email", "a user with email %s already exists", email)
		}
		return nil, fmt.Errorf("create invited user: %w", err)
	}
	return u, nil
}

// UserChange is a site admin's edit of an account; nil fields stay as they are.
type UserChange struct {
	Active    *bool
	SiteAdmin *bool
	Name      *string
}

// ChangeUser applies c to the person with userID and returns the account
// before and after. Deactivating sets state deactivated; activating sets
// active, or invited when the account has no password yet (it then needs a
// fresh invitation). No change may leave the site without an active site
// admin. Callers pass a transaction: the guard locks the site admins' rows
// (FOR UPDATE on Postgres; SQLite's immediate transaction holds the write
// lock), so two admins demoting each other at once cannot both pass.
func ChangeUser(ctx context.Context, tx *gorm.DB, userID int64, c UserChange) (before, after User, err error) {
	tx = tx.WithContext(ctx)
	var admins []User
	if err := forUpdate(tx).Where("(site_admin = ? AND state = ? AND service_team_id IS NULL) OR id = ?", true, UserActive, userID).
		Order("id").Find(&admins).Error; err != nil {
		return before, after, fmt.Errorf("lock site admins: %w", err)
	}
	found, activeAdmins := false, 0
	for _, a := range admins {
		if a.ID == userID {
			before, found = a, true
		}
		if a.SiteAdmin && a.Active() && !a.IsServiceAccount() {
			activeAdmins++
		}
	}
	if !found || before.IsServiceAccount() {
		return before, after, fmt.Errorf("user %d: %w", userID, ErrNotFound)
	}
	after = before
	if c.Name != nil {
		name := strings.TrimSpace(*c.Name)
		if err := ValidateUserName(name); err != nil {
			return before, after, err
		}
		after.Name = name
	}
	if c.SiteAdmin != nil {
		after.SiteAdmin = *c.SiteAdmin
	}
	if c.Active != nil {
		switch {
		case !*c.Active:
			after.State = UserDeactivated
		case before.State == UserDeactivated && before.PasswordHash == "":
			after.State = UserInvited
		case before.State == UserDeactivated:
			after.State = UserActive
		}
	}
	wasCounted := before.SiteAdmin && before.Active()
	stillCounted := after.SiteAdmin && after.Active()
	if wasCounted && !stillCounted && activeAdmins <= 1 {
		return before, after, Conflict("site_admin", "%s is the last active site admin; make someone else a site admin first", before.Email)
	}
	after.UpdatedAt = time.Now().UTC()
	err = tx.Model(&User{}).Where("id = ?", userID).Updates(map[string]any{
		"name": after.Name, "site_admin": after.SiteAdmin, "state": string(after.State), "updated_at": after.UpdatedAt,
	}).Error
	if err != nil {
		return before, after, fmt.Errorf("change user %d: %w", userID, err)
	}
	return before, after, nil
}
