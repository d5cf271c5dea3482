package models

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models/secretbox"
)

// SecretNameRule says which secret names are accepted: the seeds' "letters,
// numbers, and _". A name that starts with a digit is written ${NAME} in
// payloads (a bare $1 stays text, as in "costs $5").
const SecretNameRule = "letters, numbers and _, at most 64 characters"

var secretNamePattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)

// MaxSecretValueBytes is the largest secret value accepted.
const MaxSecretValueBytes = 16 << 10

// Secret is a team secret as it is listed: who made and last changed it and
// when. It has no field for the value: nothing built from a Secret can show it.
type Secret struct {
	ID        int64     `gorm:"column:id"`
	TeamID    int64     `gorm:"column:team_id"`
	Name      string    `gorm:"column:name"`
	CreatedBy string    `gorm:"column:created_by_email"` // "" when that user is gone
	UpdatedBy string    `gorm:"column:updated_by_email"`
	CreatedAt time.Time `gorm:"column:created_at"`
	UpdatedAt time.Time `gorm:"column:updated_at"`
}

// secretRow is the team_secrets table; only this file touches Ciphertext.
type secretRow struct {
	ID         int64     `gorm:"column:id;primaryKey"`
	TeamID     int64     `gorm:"column:team_id"`
	Name       string    `gorm:"column:name"`
	Ciphertext []byte    `gorm:"column:ciphertext"`
	CreatedBy  *int64    `gorm:"column:created_by"`
	UpdatedBy  *int64    `gorm:"column:updated_by"`
	CreatedAt  time.Time `gorm:"column:created_at"`
	UpdatedAt  time.Time `gorm:"column:updated_at"`
}

func (secretRow) TableName() string { return "team_secrets" }

// ValidateSecretName checks a secret's name.
func ValidateSecretName(field, name string) error {
	if name == "" {
		return Invalid(field, "is required")
	}
	if !secretNamePattern.MatchString(name) {
		return Invalid(field, "%q is not a valid secret name: %s", shorten(name), SecretNameRule)
	}
	return nil
}

// validateSecretValue never repeats the value in its messages.
func validateSecretValue(value string) error {
	if strings.TrimSpace(value) == "" {
		return Invalid("value", "is required")
	}
	if len(value) > MaxSecretValueBytes {
		return Invalid("value", "must be at most %d bytes", MaxSecretValueBytes)
	}
	return nil
}

// CreateSecret seals value with box and stores it under name in the team.
// A name the team already uses is a conflict.
func CreateSecret(ctx context.Context, db *gorm.DB, box *secretbox.Box, teamID int64, name, value string, by *User) (*Secret, error) {
	name = strings.TrimSpace(name)
	if err := ValidateSecretName("name", name); err != nil {
		return nil, err
	}
	if err := validateSecretValue(value); err != nil {
		return nil, err
	}
	// Sealed before any transaction: a KMS round trip must not hold a lock.
	sealed, err := box.Seal(ctx, []byte(value))
	if err != nil {
		return nil, fmt.Errorf("create secret %s: %w", name, err)
	}
	now := time.Now().UTC()
	row := &secretRow{TeamID: teamID, Name: name, Ciphertext: sealed, CreatedBy: &by.ID, UpdatedBy: &by.ID, CreatedAt: now, UpdatedAt: now}
	if err := db.WithContext(ctx).Create(row).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return nil, Conflict("name", "a secret named %s already exists in this team; edit it to replace its value", name)
		}
		return nil, fmt.Errorf("create secret %s: %w", name, err)
	}
	return &Secret{ID: row.ID, TeamID: teamID, Name: name, CreatedBy: by.Email, UpdatedBy: by.Email, CreatedAt: now, UpdatedAt: now}, nil
}

// UpdateSecret replaces a secret's value (rotation). The old value is gone:
// webhooks using the secret send the new one from their next request on.
func UpdateSecret(ctx context.Context, db *gorm.DB, box *secretbox.Box, teamID int64, name, value string, by *User) error {
	if err := validateSecretValue(value); err != nil {
		return err
	}
	sealed, err := box.Seal(ctx, []byte(value))
	if err != nil {
		return fmt.Errorf("update secret %s: %w", name, err)
	}
	res := db.WithContext(ctx).Model(&secretRow{}).Where("team_id = ? AND name = ?", teamID, name).
		Updates(map[string]any{"ciphertext": sealed, "updated_by": by.ID, "updated_at": time.Now().UTC()})
	if res.Error != nil {
		return fmt.Errorf("update secret %s: %w", name, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("secret %s: %w", name, ErrNotFound)
	}
	return nil
}

// DeleteSecret removes a secret, refusing while a webhook of the team uses
// it (as access token, signing secret or grant) and naming those webhooks.
// The secret's row is locked first; CreateWebhook and UpdateWebhook lock the
// secrets they reference the same way, so a webhook cannot start using a
// secret that is being deleted.
func DeleteSecret(ctx context.Context, db *gorm.DB, teamID int64, name string) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var ids []int64
		if err := forUpdate(tx.Model(&secretRow{})).Where("team_id = ? AND name = ?", teamID, name).Pluck("id", &ids).Error; err != nil {
			return fmt.Errorf("delete secret %s: %w", name, err)
		}
		if len(ids) == 0 {
			return fmt.Errorf("secret %s: %w", name, ErrNotFound)
		}
		users, err := webhooksUsingSecret(tx, teamID, name)
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return Conflict("name", "secret %s is used by %s; change or delete %s first",
				name, listNames(users, "webhook", "webhooks"), pronoun(len(users)))
		}
		if err := tx.Delete(&secretRow{}, "id = ?", ids[0]).Error; err != nil {
			return fmt.Errorf("delete secret %s: %w", name, err)
		}
		return nil
	})
}

// webhooksUsingSecret describes each webhook of the team that uses the
// secret, e.g. "ci (access token)".
func webhooksUsingSecret(tx *gorm.DB, teamID int64, name string) ([]string, error) {
	hooks, err := webhooksOf(tx, teamID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, w := range hooks {
		var roles []string
		if w.AccessTokenSecret == name {
			roles = append(roles, "access token")
		}
		if w.SigningSecret == name {
			roles = append(roles, "signing secret")
		}
		for _, s := range w.Secrets {
			if s == name {
				roles = append(roles, "granted")
			}
		}
		if len(roles) > 0 {
			out = append(out, w.Name+" ("+strings.Join(roles, ", ")+")")
		}
	}
	return out, nil
}

// SecretsOf lists a team's secrets by name, never their values.
func SecretsOf(ctx context.Context, db *gorm.DB, teamID int64) ([]Secret, error) {
	var out []Secret
	if err := secretListings(db.WithContext(ctx), teamID).Order("s.name").Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("list secrets: %w", err)
	}
	return out, nil
}

// secretListings selects a team's secrets with who created and last changed them.
func secretListings(db *gorm.DB, teamID int64) *gorm.DB {
	return db.Table("team_secrets AS s").
		Select("s.id, s.team_id, s.name, s.created_at, s.updated_at, COALESCE(c.email, '') AS created_by_email, COALESCE(u.email, '') AS updated_by_email").
		Joins("LEFT JOIN users c ON c.id = s.created_by").
		Joins("LEFT JOIN users u ON u.id = s.updated_by").
		Where("s.team_id = ?", teamID)
}

// SecretByName loads one secret's listing.
func SecretByName(ctx context.Context, db *gorm.DB, teamID int64, name string) (*Secret, error) {
	var found []Secret
	if err := secretListings(db.WithContext(ctx), teamID).Where("s.name = ?", name).Limit(1).Scan(&found).Error; err != nil {
		return nil, fmt.Errorf("load secret %s: %w", name, err)
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("secret %s: %w", name, ErrNotFound)
	}
	return &found[0], nil
}

// unsealSecrets decrypts the named secrets of a team; a name with no secret
// is an error naming it.
func unsealSecrets(ctx context.Context, db *gorm.DB, box *secretbox.Box, teamID int64, names []string) (map[string]string, error) {
	out := make(map[string]string, len(names))
	if len(names) == 0 {
		return out, nil
	}
	var rows []secretRow
	if err := db.WithContext(ctx).Where("team_id = ? AND name IN ?", teamID, names).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load secrets: %w", err)
	}
	for _, r := range rows {
		plain, err := box.Unseal(ctx, r.Ciphertext)
		if err != nil {
			return nil, fmt.Errorf("unseal secret %s: %w", r.Name, err)
		}
		out[r.Name] = string(plain)
	}
	for _, n := range names {
		if _, ok := out[n]; !ok {
			return nil, fmt.Errorf("secret %s: %w", n, ErrNotFound)
		}
	}
	return out, nil
}

// listNames writes "webhook a" or "webhooks a, b and c".
func listNames(names []string, one, many string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return one + " " + names[0]
	}
	return many + " " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func pronoun(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// shorten keeps error messages short when someone pastes a long string
// into a name field.
func shorten(s string) string {
	if r := []rune(s); len(r) > 64 {
		return string(r[:64]) + "…"
	}
	return s
}
