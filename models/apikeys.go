package models

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"errors"
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
	a, err := APIKeyAccessFor(ctx, db, key, "", "")
	if err != nil {
		return nil, err
	}
	return a.User, nil
}

// APIKeyAccess is what one API request's key and path name: the key's
// active user and, when the path names a team (and a project in it), that
// team, the user's role there (RoleNone for non-members) and the project.
// Team is nil when no team has that name, Project when the team has no
// such project; the caller decides what the user may see.
type APIKeyAccess struct {
	User    *User
	Team    *Team
	Role    Role
	Project *Project
}

// apiKeyAccessSQL reads the key, its user, the named team with the user's
// membership and the named project in one statement: every API request
// runs it (one round trip instead of three). An empty team or project
// name matches no row, as names are never empty.
const apiKeyAccessSQL = `SELECT u.id, u.email, u.name, u.username, u.password_hash, u.site_admin, u.state,
  u.service_team_id, u.created_at, u.updated_at, k.id, k.last_used_at,
  t.id, t.name, t.created_at, m.role, p.id, p.team_id, p.name, p.created_by, p.created_at
FROM api_keys k
JOIN users u ON u.id = k.user_id
LEFT JOIN teams t ON t.name = $2
LEFT JOIN team_members m ON m.team_id = t.id AND m.user_id = u.id
LEFT JOIN projects p ON p.team_id = t.id AND p.name = $3
WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND u.state = 'active'
LIMIT 1`

// APIKeyAccessFor finds the active user owning a key that is not revoked,
// with the team and project the request names (see APIKeyAccess), in one
// query. A revoked key or a deactivated user is refused on the very next
// request in every process: nothing is cached.
func APIKeyAccessFor(ctx context.Context, db *gorm.DB, key, team, project string) (*APIKeyAccess, error) {
	if !strings.HasPrefix(key, apiKeyPrefix) {
		return nil, fmt.Errorf("api key: %w", ErrNotFound)
	}
	var (
		u          User
		keyID      int64
		lastUsed   sql.NullTime
		teamID     sql.NullInt64
		teamName   sql.NullString
		teamAt     sql.NullTime
		role       sql.NullString
		projectID  sql.NullInt64
		projTeam   sql.NullInt64
		projName   sql.NullString
		projBy     sql.NullInt64
		projectAt  sql.NullTime
		serviceTID sql.NullInt64
	)
	// Scanned by hand rather than by gorm's reflection: this is the
	// first statement of every API request.
	err := rawPool(db).QueryRowContext(ctx, apiKeyAccessSQL, hashAPIKey(key), team, project).Scan(
		&u.ID, &u.Email, &u.Name, &u.Username, &u.PasswordHash, &u.SiteAdmin, &u.State,
		&serviceTID, &u.CreatedAt, &u.UpdatedAt, &keyID, &lastUsed,
		&teamID, &teamName, &teamAt, &role, &projectID, &projTeam, &projName, &projBy, &projectAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("api key: %w", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("api key: %w", err)
	}
	if serviceTID.Valid {
		u.ServiceTeamID = &serviceTID.Int64
	}
	a := &APIKeyAccess{User: &u, Role: Role(role.String)}
	if teamID.Valid {
		a.Team = &Team{ID: teamID.Int64, Name: teamName.String, CreatedAt: teamAt.Time}
	}
	if projectID.Valid {
		a.Project = &Project{ID: projectID.Int64, TeamID: projTeam.Int64, Name: projName.String, CreatedAt: projectAt.Time}
		if projBy.Valid {
			a.Project.CreatedBy = &projBy.Int64
		}
	}
	now := time.Now().UTC()
	// last_used_at is informational; at most one write a minute per key.
	if !lastUsed.Valid || now.Sub(lastUsed.Time) > time.Minute {
		db.WithContext(ctx).Model(&APIKey{}).Where("id = ?", keyID).Update("last_used_at", now)
	}
	return a, nil
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
