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

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
)

// SessionLimits are how long a session lives: IdleTimeout after its last
// request (SESSION_IDLE_TIMEOUT) and MaxAge after sign-in whatever happens
// (SESSION_MAX_AGE).
type SessionLimits struct {
	IdleTimeout time.Duration
	MaxAge      time.Duration
}

// Default session limits, used when a setting is zero.
const (
	DefaultSessionIdleTimeout = 72 * time.Hour
	DefaultSessionMaxAge      = 720 * time.Hour
)

// withDefaults fills zero limits with the defaults.
func (l SessionLimits) withDefaults() SessionLimits {
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = DefaultSessionIdleTimeout
	}
	if l.MaxAge <= 0 {
		l.MaxAge = DefaultSessionMaxAge
	}
	return l
}

// Live reports whether s is still valid at now under limits. The absolute
// end is the earlier of the row's expires_at and created_at+MaxAge, so
// lowering SESSION_MAX_AGE also shortens sessions that already exist.
func (s *Session) Live(now time.Time, limits SessionLimits) bool {
	l := limits.withDefaults()
	end := s.ExpiresAt
	if byAge := s.CreatedAt.Add(l.MaxAge); byAge.Before(end) {
		end = byAge
	}
	return now.Before(end) && now.Before(s.LastSeenAt.Add(l.IdleTimeout))
}

// maxUserAgent caps what a browser may make us store.
const maxUserAgent = 512

// HashToken is what the sessions table stores for a cookie's token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CreateSession starts a session for userID and returns the random token
// for the cookie. Only the token's hash is stored.
func CreateSession(ctx context.Context, db *gorm.DB, userID int64, ip, userAgent string, now time.Time, limits SessionLimits) (string, *Session, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", nil, fmt.Errorf("session token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	if len(userAgent) > maxUserAgent {
		userAgent = userAgent[:maxUserAgent]
	}
	now = now.UTC()
	s := &Session{
		TokenHash:  HashToken(token),
		UserID:     userID,
		CreatedAt:  now,
		LastSeenAt: now,
		ExpiresAt:  now.Add(limits.withDefaults().MaxAge),
		IP:         ip,
		UserAgent:  userAgent,
	}
	if err := db.WithContext(ctx).Create(s).Error; err != nil {
		return "", nil, fmt.Errorf("create session for user %d: %w", userID, err)
	}
	return token, s, nil
}

// touchEvery is how often a session's last_seen_at is written: at most
// once a minute, so browsing does not turn every page view into a write.
func touchEvery(limits SessionLimits) time.Duration {
	// A very short idle timeout (tests, strict sites) still needs fresh
	// last_seen_at values, or live sessions would expire between writes.
	if half := limits.withDefaults().IdleTimeout / 2; half < time.Minute {
		return half
	}
	return time.Minute
}

// LookupSession returns the live session whose cookie token is token, and
// records that it was seen at now. An unknown token or one past its idle
// timeout or lifetime is models.ErrNotFound; an expired row is deleted.
func LookupSession(ctx context.Context, db *gorm.DB, token string, now time.Time, limits SessionLimits) (*Session, error) {
	if token == "" {
		return nil, fmt.Errorf("session: %w", models.ErrNotFound)
	}
	var s Session
	err := db.WithContext(ctx).Where("token_hash = ?", HashToken(token)).Take(&s).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("session: %w", models.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("load session: %w", err)
	}
	if !s.Live(now, limits) {
		if err := DeleteSession(ctx, db, s.ID); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("session expired: %w", models.ErrNotFound)
	}
	if now.Sub(s.LastSeenAt) >= touchEvery(limits) {
		// Concurrent requests may both write; either time is right.
		s.LastSeenAt = now.UTC()
		if err := db.WithContext(ctx).Model(&Session{}).Where("id = ?", s.ID).
			Update("last_seen_at", s.LastSeenAt).Error; err != nil {
			return nil, fmt.Errorf("touch session: %w", err)
		}
	}
	return &s, nil
}

// DeleteSession ends one session (logout, expiry).
func DeleteSession(ctx context.Context, db *gorm.DB, id int64) error {
	if err := db.WithContext(ctx).Where("id = ?", id).Delete(&Session{}).Error; err != nil {
		return fmt.Errorf("delete session %d: %w", id, err)
	}
	return nil
}

// RevokeSession ends one of userID's sessions; another user's session id
// is models.ErrNotFound, so no one can end sessions they do not own.
func RevokeSession(ctx context.Context, db *gorm.DB, userID, id int64) error {
	res := db.WithContext(ctx).Where("id = ? AND user_id = ?", id, userID).Delete(&Session{})
	if res.Error != nil {
		return fmt.Errorf("revoke session %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("session %d: %w", id, models.ErrNotFound)
	}
	return nil
}

// DeleteOtherSessions signs userID out everywhere but the session keepID.
func DeleteOtherSessions(ctx context.Context, db *gorm.DB, userID, keepID int64) error {
	if err := db.WithContext(ctx).Where("user_id = ? AND id <> ?", userID, keepID).Delete(&Session{}).Error; err != nil {
		return fmt.Errorf("delete other sessions of user %d: %w", userID, err)
	}
	return nil
}

// UserSessions lists userID's live sessions, most recently seen first.
// Expired rows are deleted on the way, so the table does not grow with
// sessions nobody logged out of.
func UserSessions(ctx context.Context, db *gorm.DB, userID int64, now time.Time, limits SessionLimits) ([]Session, error) {
	var all []Session
	if err := db.WithContext(ctx).Where("user_id = ?", userID).
		Order("last_seen_at DESC, id DESC").Find(&all).Error; err != nil {
		return nil, fmt.Errorf("list sessions of user %d: %w", userID, err)
	}
	live := all[:0]
	var dead []int64
	for _, s := range all {
		if s.Live(now, limits) {
			live = append(live, s)
		} else {
			dead = append(dead, s.ID)
		}
	}
	if len(dead) > 0 {
		if err := db.WithContext(ctx).Where("id IN ?", dead).Delete(&Session{}).Error; err != nil {
			return nil, fmt.Errorf("delete expired sessions: %w", err)
		}
	}
	return live, nil
}

// ResetPassword sets userID's password and ends all of their sessions in
// one transaction: a cookie saved before the reset signs no one in after.
// `automations admin reset-password` uses it.
func ResetPassword(ctx context.Context, db *gorm.DB, userID int64, password string) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := models.SetPassword(ctx, tx, userID, password); err != nil {
			return err
		}
		return DeleteUserSessions(ctx, tx, userID)
	})
}

// ChangePassword is a signed-in user's password change: it sets the
// password, ends every session of the user (the current one included, so
// no copy of its cookie outlives the change) and starts a new session for
// the browser that made the change, all in one transaction.
func ChangePassword(ctx context.Context, db *gorm.DB, userID int64, password, ip, userAgent string, now time.Time, limits SessionLimits) (string, error) {
	var token string
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := models.SetPassword(ctx, tx, userID, password); err != nil {
			return err
		}
		if err := DeleteUserSessions(ctx, tx, userID); err != nil {
			return err
		}
		var err error
		token, _, err = CreateSession(ctx, tx, userID, ip, userAgent, now, limits)
		return err
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// DeleteSessionByToken ends the session a cookie's token names (logout);
// an unknown token is not an error.
func DeleteSessionByToken(ctx context.Context, db *gorm.DB, token string) error {
	if err := db.WithContext(ctx).Where("token_hash = ?", HashToken(token)).Delete(&Session{}).Error; err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
