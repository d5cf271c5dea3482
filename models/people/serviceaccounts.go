package people

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
)

// ServiceAccountNameRule says which service account names are accepted.
const ServiceAccountNameRule = "use letters, digits, '-' and '_', at most 64 characters"

var serviceAccountName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// serviceAccountDomain ends every service account's synthetic email. The
// .invalid top-level domain cannot receive mail (RFC 2606), and the empty
// password hash matches no password, so these accounts never sign in.
const serviceAccountDomain = ".service-account.invalid"

// ServiceAccount is a team-owned identity for CI (DESIGN.md §13): a users
// row with service_team_id set, so API keys, roles and event authors work
// for it unchanged. KeyPrefix and LastUsedAt come from its newest live key.
type ServiceAccount struct {
	ID         int64
	Name       string
	Role       models.Role
	CreatedAt  time.Time
	KeyPrefix  string
	LastUsedAt *time.Time
}

// ValidateServiceAccount checks a name and role before anything is stored.
// Viewers are refused: an account that can only read has no use for CI
// that a person's key would not cover.
func ValidateServiceAccount(name string, role models.Role) error {
	if name == "" {
		return models.Invalid("name", "is required")
	}
	if !serviceAccountName.MatchString(name) {
		return models.Invalid("name", "%q is not a valid service account name: %s", name, ServiceAccountNameRule)
	}
	if role != models.RoleMember && role != models.RoleAdmin {
		return models.Invalid("role", "%q is not a service account role: use member or admin", role)
	}
	return nil
}

// serviceEmail is the account's unique, unusable email. Team names are
// unique regardless of case and so are these, which makes a name unique
// within its team.
func serviceEmail(team *models.Team, name string) string {
	return models.NormalizeEmail(name + "@" + team.Name + serviceAccountDomain)
}

// CreateServiceAccount stores an active service account of team with role
// and mints its first API key, returned once and never stored.
func CreateServiceAccount(ctx context.Context, db *gorm.DB, team *models.Team, name string, role models.Role) (*ServiceAccount, string, error) {
	name = strings.TrimSpace(name)
	if err := ValidateServiceAccount(name, role); err != nil {
		return nil, "", err
	}
	var sa *ServiceAccount
	var key string
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := time.Now().UTC()
		teamID := team.ID
		u := &models.User{
			Email: serviceEmail(team, name), Name: name, Username: name,
			State: models.UserActive, ServiceTeamID: &teamID, CreatedAt: now, UpdatedAt: now,
		}
		if err := tx.Create(u).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return models.Conflict("name", "this team already has a service account named %s", name)
			}
			return fmt.Errorf("create service account: %w", err)
		}
		row := map[string]any{"team_id": team.ID, "user_id": u.ID, "role": string(role), "created_at": now}
		if err := tx.Table("team_members").Create(row).Error; err != nil {
			return fmt.Errorf("add service account to team: %w", err)
		}
		k, apiKey, err := models.CreateAPIKey(ctx, tx, u.ID, "service account "+name)
		if err != nil {
			return err
		}
		key = k
		sa = &ServiceAccount{ID: u.ID, Name: name, Role: role, CreatedAt: now, KeyPrefix: apiKey.Prefix}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return sa, key, nil
}

// ServiceAccountsOf lists a team's active service accounts by name.
func ServiceAccountsOf(ctx context.Context, db *gorm.DB, teamID int64) ([]ServiceAccount, error) {
	var rows []struct {
		ID        int64       `gorm:"column:id"`
		Name      string      `gorm:"column:name"`
		Role      models.Role `gorm:"column:role"`
		CreatedAt time.Time   `gorm:"column:created_at"`
	}
	err := db.WithContext(ctx).Table("users AS u").
		Select("u.id, u.name, m.role, u.created_at").
		Joins("JOIN team_members m ON m.user_id = u.id AND m.team_id = u.service_team_id").
		Where("u.service_team_id = ? AND u.state = ?", teamID, models.UserActive).
		Order("u.name").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list service accounts: %w", err)
	}
	out := make([]ServiceAccount, len(rows))
	ids := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = ServiceAccount{ID: r.ID, Name: r.Name, Role: r.Role, CreatedAt: r.CreatedAt}
		ids[i] = r.ID
	}
	if len(ids) == 0 {
		return out, nil
	}
	var keys []models.APIKey
	if err := db.WithContext(ctx).Where("user_id IN ? AND revoked_at IS NULL", ids).Order("id").Find(&keys).Error; err != nil {
		return nil, fmt.Errorf("list service account keys: %w", err)
	}
	newest := map[int64]models.APIKey{}
	for _, k := range keys {
		newest[k.UserID] = k // ordered by id: the last one wins
	}
	for i := range out {
		if k, ok := newest[out[i].ID]; ok {
			out[i].KeyPrefix, out[i].LastUsedAt = k.Prefix, k.LastUsedAt
		}
	}
	return out, nil
}

// ServiceAccountByName loads an active service account of a team.
func ServiceAccountByName(ctx context.Context, db *gorm.DB, teamID int64, name string) (*ServiceAccount, error) {
	list, err := ServiceAccountsOf(ctx, db, teamID)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if strings.EqualFold(list[i].Name, name) {
			return &list[i], nil
		}
	}
	return nil, fmt.Errorf("service account %s: %w", name, models.ErrNotFound)
}

// DeactivateServiceAccount retires a service account: its keys are revoked
// and its role removed, while the users row stays so that events and the
// audit log keep its name. The email is freed so the name can be reused.
func DeactivateServiceAccount(ctx context.Context, db *gorm.DB, team *models.Team, name string) (*ServiceAccount, error) {
	var sa *ServiceAccount
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		found, err := ServiceAccountByName(ctx, tx, team.ID, name)
		if err != nil {
			return err
		}
		sa = found
		now := time.Now().UTC()
		retired := models.NormalizeEmail("deleted-" + strconv.FormatInt(sa.ID, 10) + "-" + serviceEmail(team, sa.Name))
		res := tx.Model(&models.User{}).Where("id = ? AND state = ?", sa.ID, models.UserActive).
			Updates(map[string]any{"state": string(models.UserDeactivated), "email": retired, "updated_at": now})
		if res.Error != nil {
			return fmt.Errorf("deactivate service account: %w", res.Error)
		}
		if res.RowsAffected == 0 { // deleted by a concurrent request
			return fmt.Errorf("service account %s: %w", name, models.ErrNotFound)
		}
		if err := tx.Model(&models.APIKey{}).Where("user_id = ? AND revoked_at IS NULL", sa.ID).
			Update("revoked_at", now).Error; err != nil {
			return fmt.Errorf("revoke service account keys: %w", err)
		}
		if err := tx.Table("team_members").Where("team_id = ? AND user_id = ?", team.ID, sa.ID).Delete(nil).Error; err != nil {
			return fmt.Errorf("remove service account from team: %w", err)
		}
		return DeleteUserSessions(ctx, tx, sa.ID)
	})
	if err != nil {
		return nil, err
	}
	return sa, nil
}
