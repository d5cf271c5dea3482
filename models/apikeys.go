package models

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// APIKey is a user's key for the JSON API. Only a SHA-256 hash of the key is
// stored: keys are 200 random bits, so a fast hash is enough.
type APIKey struct {
	ID         int64      `gorm:"column:id;primaryKey"`
	UserID     int64      `gorm:"column:user_id"`
	Name       string     `gorm:"column:name"`
	Prefix     string     `gorm:"column:prefix"`
	KeyHash    string     `gorm:"column:key_hash"`
	CreatedAt  time.Time  `gorm:"column:created_at"`
	LastUsedAt *time.Time `gorm:"column:last_used_at"`
	RevokedAt  *time.Time `gorm:"column:revoked_at"`
}

// TableName maps APIKey to its table.
func (APIKey) TableName() string { return "api_keys" }

const apiKeyPrefix = "ak_"

func hashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// CreateAPIKey mints a key for a user and returns the key itself, which is
// never stored and cannot be shown again.
func CreateAPIKey(ctx context.Context, db *gorm.DB, userID int64, name string) (string, *APIKey, error) {
	name = strings.TrimSpace(name)
	if len(name) > 100 {
		return "", nil, Invalid("name", "must be at most 100 characters")
	}
	raw := make([]byte, 25)
	if _, err := rand.Read(raw); err != nil {
		return "", nil, fmt.Errorf("generate api key: %w", err)
	}
	key := apiKeyPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw))
	k := &APIKey{UserID: userID, Name: name, Prefix: key[:10], KeyHash: hashAPIKey(key)}
	if err := db.WithContext(ctx).Create(k).Error; err != nil {
		return "", nil, fmt.Errorf("create api key: %w", err)
	}
	return key, k, nil
}

// UserByAPIKey finds the user owning a key that is not revoked.
func UserByAPIKey(ctx context.Context, db *gorm.DB, key string) (*User, error) {
	if !strings.HasPrefix(key, apiKeyPrefix) {
		return nil, fmt.Errorf("api key: %w", ErrNotFound)
	}
	// The key and its user in one query: every API request runs it.
	var rows []struct {
		User
		KeyID      int64      `gorm:"column:key_id"`
		LastUsedAt *time.Time `gorm:"column:key_last_used_at"`
	}
	err := db.WithContext(ctx).Table("api_keys AS k").
		Select("u.*, k.id AS key_id, k.last_used_at AS key_last_used_at").
		Joins("JOIN users u ON u.id = k.user_id").
		Where("k.key_hash = ? AND k.revoked_at IS NULL AND u.state = ?", hashAPIKey(key), UserActive).Limit(1).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("api key: %w", err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("api key: %w", ErrNotFound)
	}
	k := rows[0]
	now := time.Now().UTC()
	// last_used_at is informational; at most one write a minute per key.
	if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) > time.Minute {
		db.WithContext(ctx).Model(&APIKey{}).Where("id = ?", k.KeyID).Update("last_used_at", now)
	}
	return &k.User, nil
}

// APIKeysOf lists a user's keys, newest first.
func APIKeysOf(ctx context.Context, db *gorm.DB, userID int64) ([]APIKey, error) {
	var keys []APIKey
	err := db.WithContext(ctx).Where("user_id = ?", userID).Order("id DESC").Find(&keys).Error
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return keys, nil
}

// RevokeAPIKey revokes one of a user's own keys.
func RevokeAPIKey(ctx context.Context, db *gorm.DB, userID, keyID int64) error {
	res := db.WithContext(ctx).Model(&APIKey{}).
		Where("id = ? AND user_id = ? AND revoked_at IS NULL", keyID, userID).
		Update("revoked_at", time.Now().UTC())
	if res.Error != nil {
		return fmt.Errorf("revoke api key: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("api key %d: %w", keyID, ErrNotFound)
	}
	return nil
}
