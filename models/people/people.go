// Package people owns the tables of DESIGN.md §13 that hang off users:
// server-side sessions, invitations and service accounts. The users table
// itself stays in models (every package reads it).
package people

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Session is one signed-in browser. The cookie carries a random token; only
// its SHA-256 (TokenHash) is stored, so a copy of the table signs no one in.
type Session struct {
	ID         int64     `gorm:"column:id;primaryKey"`
	TokenHash  string    `gorm:"column:token_hash"`
	UserID     int64     `gorm:"column:user_id"`
	CreatedAt  time.Time `gorm:"column:created_at"`
	LastSeenAt time.Time `gorm:"column:last_seen_at"`
	ExpiresAt  time.Time `gorm:"column:expires_at"`
	IP         string    `gorm:"column:ip"`
	UserAgent  string    `gorm:"column:user_agent"`
}

// TableName maps Session to its table.
func (Session) TableName() string { return "sessions" }

// Invitation is a single-use link to set a password, valid until ExpiresAt.
type Invitation struct {
	ID        int64      `gorm:"column:id;primaryKey"`
	TokenHash string     `gorm:"column:token_hash"`
	UserID    int64      `gorm:"column:user_id"`
	InvitedBy *int64     `gorm:"column:invited_by"`
	CreatedAt time.Time  `gorm:"column:created_at"`
	ExpiresAt time.Time  `gorm:"column:expires_at"`
	UsedAt    *time.Time `gorm:"column:used_at"`
}

// TableName maps Invitation to its table.
func (Invitation) TableName() string { return "invitations" }

// DeleteUserSessions signs a user out everywhere: password changes and
// resets, deactivation and "sign out everywhere" call it.
func DeleteUserSessions(ctx context.Context, db *gorm.DB, userID int64) error {
	if err := db.WithContext(ctx).Where("user_id = ?", userID).Delete(&Session{}).Error; err != nil {
		return fmt.Errorf("delete sessions of user %d: %w", userID, err)
	}
	return nil
}
