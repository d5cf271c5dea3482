package models

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"
)

// User is a person who signs in.
type User struct {
	ID           int64     `gorm:"column:id;primaryKey"`
	Email        string    `gorm:"column:email"`
	Name         string    `gorm:"column:name"`
	Username     string    `gorm:"column:username"`
	PasswordHash string    `gorm:"column:password_hash"`
	SiteAdmin    bool      `gorm:"column:site_admin"`
	State        UserState `gorm:"column:state"`
	// ServiceTeamID is the owning team of a service account; nil for people.
	ServiceTeamID *int64    `gorm:"column:service_team_id"`
	CreatedAt     time.Time `gorm:"column:created_at"`
	UpdatedAt     time.Time `gorm:"column:updated_at"`
}

// UserState is where an account is in its life (DESIGN.md §13).
type UserState string

// User states: invited users have no password yet; deactivated users can
// neither sign in nor use their API keys, and their sessions are gone.
const (
	UserActive      UserState = "active"
	UserInvited     UserState = "invited"
	UserDeactivated UserState = "deactivated"
)

// Active reports whether the account may sign in and use its API keys.
func (u *User) Active() bool { return u.State == UserActive }

// IsServiceAccount reports whether the account belongs to a team, not a person.
func (u *User) IsServiceAccount() bool { return u.ServiceTeamID != nil }

// TableName maps User to its table.
func (User) TableName() string { return "users" }

// DisplayName is the name, or the email when no name was given.
func (u *User) DisplayName() string {
	if u.Name != "" {
		return u.Name
	}
	return u.Email
}

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 8

// NewUser describes a user to create.
type NewUser struct {
	Email     string
	Password  string
	Name      string
	SiteAdmin bool
}

// NormalizeEmail trims and lower-cases an email for storage and lookup.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

var usernameStrip = regexp.MustCompile(`[^a-z0-9_-]+`)

// CreateUser validates and stores a new user with a bcrypt password hash.
func CreateUser(ctx context.Context, db *gorm.DB, in NewUser) (*User, error) {
	email := NormalizeEmail(in.Email)
	if _, err := mail.ParseAddress(email); err != nil || !strings.Contains(email, "@") {
		return nil, Invalid("email", "%q is not an email address", Excerpt(in.Email))
	}
	if len(in.Password) < MinPasswordLength {
		return nil, Invalid("password", "must be at least %d characters", MinPasswordLength)
	}
	if len(in.Password) > 72 {
		return nil, Invalid("password", "must be at most 72 bytes")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(in.Password), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	username := usernameStrip.ReplaceAllString(strings.SplitN(email, "@", 2)[0], "-")
	u := &User{
		Email:        email,
		Name:         strings.TrimSpace(in.Name),
		Username:     strings.Trim(username, "-"),
		PasswordHash: string(hash),
		SiteAdmin:    in.SiteAdmin,
		State:        UserActive,
	}
	if err := db.WithContext(ctx).Create(u).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return nil, Conflict("email", "a user with email %s already exists", email)
		}
		return nil, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// UserByID loads a user.
func UserByID(ctx context.Context, db *gorm.DB, id int64) (*User, error) {
	var u User
	if err := db.WithContext(ctx).First(&u, "id = ?", id).Error; err != nil {
		return nil, notFound(err, "user")
	}
	return &u, nil
}

// UserByEmail loads a user by email, case-insensitively.
func UserByEmail(ctx context.Context, db *gorm.DB, email string) (*User, error) {
	var u User
	if err := db.WithContext(ctx).First(&u, "email = ?", NormalizeEmail(email)).Error; err != nil {
		return nil, notFound(err, "user "+email)
	}
	return &u, nil
}

// dummyHash keeps a failed lookup as slow as a wrong password, so timing
// does not tell which emails exist.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not-a-real-password"), bcrypt.DefaultCost)

// ErrBadCredentials is a sign-in with an unknown email or a wrong password;
// deliberately the same error for both.
var ErrBadCredentials = errors.New("email or password is incorrect")

// Authenticate checks an email and password.
func Authenticate(ctx context.Context, db *gorm.DB, email, password string) (*User, error) {
	u, err := UserByEmail(ctx, db, email)
	if errors.Is(err, ErrNotFound) {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil {
		return nil, ErrBadCredentials
	}
	// Checked after the hash so that timing does not tell which accounts
	// are deactivated; invited accounts have no password to match.
	if !u.Active() || u.IsServiceAccount() {
		return nil, ErrBadCredentials
	}
	return u, nil
}

// SetPassword replaces a user's password.
func SetPassword(ctx context.Context, db *gorm.DB, userID int64, password string) error {
	if len(password) < MinPasswordLength || len(password) > 72 {
		return Invalid("password", "must be %d to 72 characters", MinPasswordLength)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	res := db.WithContext(ctx).Model(&User{}).Where("id = ?", userID).
		Updates(map[string]any{"password_hash": string(hash), "updated_at": time.Now().UTC()})
	if res.Error != nil {
		return fmt.Errorf("set password: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("user %d: %w", userID, ErrNotFound)
	}
	return nil
}

// CountUsers counts all users (zero means the first admin is still to be created).
func CountUsers(ctx context.Context, db *gorm.DB) (int64, error) {
	var n int64
	err := db.WithContext(ctx).Model(&User{}).Count(&n).Error
	return n, err
}
