package people

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/audit"
)

// InvitationTTL is how long an invitation link works.
const InvitationTTL = 7 * 24 * time.Hour

// ErrInvitationInvalid is an invitation token that is unknown, used,
// expired, replaced by a newer one, or whose account is no longer waiting
// for a password. Deliberately one error for all: the page says the same.
var ErrInvitationInvalid = errors.New("invitation link is not valid")

// Invite is a freshly issued invitation. Token is the secret part of the
// link; it is never stored and cannot be shown again.
type Invite struct {
	UserID    int64
	Email     string
	Token     string
	ExpiresAt time.Time
}

// URL is the link that accepts the invitation on the site at baseURL.
func (i *Invite) URL(baseURL string) string { return baseURL + "/invite/" + i.Token }

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// issueInvitation replaces the user's unused invitations with a new one:
// only the newest link works. Callers pass the transaction that made the
// user or membership, so a link exists exactly when they do.
func issueInvitation(ctx context.Context, tx *gorm.DB, u *models.User, invitedBy *models.User) (*Invite, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("generate invitation token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	now := time.Now().UTC()
	tx = tx.WithContext(ctx)
	if err := tx.Where("user_id = ? AND used_at IS NULL", u.ID).Delete(&Invitation{}).Error; err != nil {
		return nil, fmt.Errorf("retire old invitations of %s: %w", u.Email, err)
	}
	inv := &Invitation{TokenHash: hashToken(token), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(InvitationTTL)}
	if invitedBy != nil {
		inv.InvitedBy = &invitedBy.ID
	}
	if err := tx.Create(inv).Error; err != nil {
		return nil, fmt.Errorf("create invitation for %s: %w", u.Email, err)
	}
	return &Invite{UserID: u.ID, Email: u.Email, Token: token, ExpiresAt: inv.ExpiresAt}, nil
}

// retireInvitations stops every unused link of a user (on deactivation).
func retireInvitations(ctx context.Context, tx *gorm.DB, userID int64) error {
	if err := tx.WithContext(ctx).Where("user_id = ? AND used_at IS NULL", userID).Delete(&Invitation{}).Error; err != nil {
		return fmt.Errorf("retire invitations of user %d: %w", userID, err)
	}
	return nil
}

// InvitedUser returns the account a valid invitation token is for, or
// ErrInvitationInvalid. It changes nothing (the Set your password page).
func InvitedUser(ctx context.Context, db *gorm.DB, token string) (*models.User, error) {
	var u models.User
	err := db.WithContext(ctx).Table("invitations AS i").Select("u.*").
		Joins("JOIN users u ON u.id = i.user_id").
		Where("i.token_hash = ? AND i.used_at IS NULL AND i.expires_at > ? AND u.state = ? AND u.service_team_id IS NULL",
			hashToken(token), time.Now().UTC(), models.UserInvited).
		Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrInvitationInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("look up invitation: %w", err)
	}
	return &u, nil
}

// AcceptInvitation sets the invited account's password, makes it active and
// uses up the link, all or nothing. The link is claimed with one
// conditional UPDATE, so two requests racing with the same token cannot
// both succeed.
func AcceptInvitation(ctx context.Context, db *gorm.DB, token, password string) (*models.User, error) {
	if len(password) < models.MinPasswordLength || len(password) > 72 {
		return nil, models.Invalid("password", "must be %d to 72 characters", models.MinPasswordLength)
	}
	// Hashing is slow: do it before the transaction holds any lock.
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	var accepted *models.User
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := time.Now().UTC()
		var inv Invitation
		if err := tx.Where("token_hash = ?", hashToken(token)).Take(&inv).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return ErrInvitationInvalid
			}
			return fmt.Errorf("look up invitation: %w", err)
		}
		res := tx.Model(&Invitation{}).Where("id = ? AND used_at IS NULL AND expires_at > ?", inv.ID, now).
			Update("used_at", now)
		if res.Error != nil {
			return fmt.Errorf("use invitation: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrInvitationInvalid
		}
		res = tx.Model(&models.User{}).
			Where("id = ? AND state = ? AND service_team_id IS NULL", inv.UserID, models.UserInvited).
			Updates(map[string]any{"password_hash": string(hash), "state": string(models.UserActive), "updated_at": now})
		if res.Error != nil {
			return fmt.Errorf("activate invited user: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrInvitationInvalid // deactivated (or otherwise not waiting) since the link was issued
		}
		u, err := models.UserByID(ctx, tx, inv.UserID)
		if err != nil {
			return err
		}
		accepted = u
		return audit.Record(ctx, tx, audit.Entry{
			ActorID: &u.ID, ActorName: u.DisplayName(), Kind: "user.invite_accepted", Target: u.Email,
			After: audit.JSON(auditOf(u)),
		})
	})
	if err != nil {
		return nil, err
	}
	return accepted, nil
}
