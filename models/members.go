package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Member is one user's role in a team or registry, joined with the user.
type Member struct {
	UserID    int64     `gorm:"column:user_id"`
	Email     string    `gorm:"column:email"`
	Name      string    `gorm:"column:name"`
	Role      Role      `gorm:"column:role"`
	CreatedAt time.Time `gorm:"column:created_at"`
}

// membership is the shared shape of team_members and registry_members: teams
// and registries have the same admin/member/viewer rules.
type membership struct {
	table  string // team_members or registry_members
	column string // team_id or registry_id
	noun   string // "team" or "registry", for messages
}

var (
	teamMembership     = membership{table: "team_members", column: "team_id", noun: "team"}
	registryMembership = membership{table: "registry_members", column: "registry_id", noun: "registry"}
)

// create inserts a team or registry (scope, a pointer to its row, named
// name) and makes creator its first admin, in one transaction.
func (m membership) create(ctx context.Context, db *gorm.DB, scope any, scopeID func() int64, name string, creator *User) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(scope).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return Conflict("name", "a %s named %s already exists (names are unique regardless of case)", m.noun, name)
			}
			return fmt.Errorf("create %s: %w", m.noun, err)
		}
		row := map[string]any{m.column: scopeID(), "user_id": creator.ID, "role": string(RoleAdmin), "created_at": time.Now().UTC()}
		if err := tx.Table(m.table).Create(row).Error; err != nil {
			return fmt.Errorf("add %s creator: %w", m.noun, err)
		}
		return nil
	})
}

func (m membership) role(ctx context.Context, db *gorm.DB, scopeID, userID int64) (Role, error) {
	var roles []string
	err := db.WithContext(ctx).Table(m.table).
		Where(m.column+" = ? AND user_id = ?", scopeID, userID).Limit(1).Pluck("role", &roles).Error
	if err != nil {
		return RoleNone, fmt.Errorf("load %s role: %w", m.noun, err)
	}
	if len(roles) == 0 {
		return RoleNone, nil
	}
	return Role(roles[0]), nil
}

func (m membership) list(ctx context.Context, db *gorm.DB, scopeID int64) ([]Member, error) {
	var out []Member
	err := db.WithContext(ctx).Table(m.table+" AS m").
		Select("m.user_id, u.email, u.name, m.role, m.created_at").
		Joins("JOIN users u ON u.id = m.user_id").
		Where("m."+m.column+" = ?", scopeID).
		// Service accounts are listed in their own section of Team Settings.
		Where("u.service_team_id IS NULL").
		Order("u.email").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list %s members: %w", m.noun, err)
	}
	return out, nil
}

// add makes the user with email a member with role; an existing member gets
// a conflict so a typo cannot silently change someone's role.
func (m membership) add(ctx context.Context, db *gorm.DB, scopeID int64, email string, role Role) (*Member, error) {
	if !role.Valid() {
		return nil, Invalid("role", "%q is not a role: use admin, member or viewer", Excerpt(string(role)))
	}
	u, err := UserByEmail(ctx, db, email)
	// A service account belongs to its own team alone; the answer is the
	// one for an unknown email, so its address opens no other door.
	if errors.Is(err, ErrNotFound) || (err == nil && u.IsServiceAccount()) {
		return nil, Invalid("email", "no user has the email %q; they need an account first", Excerpt(email))
	}
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	row := map[string]any{m.column: scopeID, "user_id": u.ID, "role": string(role), "created_at": now}
	if err := db.WithContext(ctx).Table(m.table).Create(row).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return nil, Conflict("email", "%s is already a member of this %s", u.Email, m.noun)
		}
		return nil, fmt.Errorf("add %s member: %w", m.noun, err)
	}
	return &Member{UserID: u.ID, Email: u.Email, Name: u.Name, Role: role, CreatedAt: now}, nil
}

// setRole changes a member's role, refusing to demote the last admin. The
// check and the update run in one transaction with the admin rows locked
// (FOR UPDATE on Postgres; SQLite's immediate transaction holds the write
// lock), so two concurrent demotions cannot both pass.
func (m membership) setRole(ctx context.Context, db *gorm.DB, scopeID, userID int64, role Role) error {
	if !role.Valid() {
		return Invalid("role", "%q is not a role: use admin, member or viewer", Excerpt(string(role)))
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		current, err := m.lockedRole(tx, scopeID, userID)
		if err != nil {
			return err
		}
		if current == RoleAdmin && role != RoleAdmin {
			if err := m.ensureAnotherAdmin(tx, scopeID, userID); err != nil {
				return err
			}
		}
		return tx.Table(m.table).Where(m.column+" = ? AND user_id = ?", scopeID, userID).
			Update("role", string(role)).Error
	})
}

// remove deletes a membership, refusing to remove the last admin.
func (m membership) remove(ctx context.Context, db *gorm.DB, scopeID, userID int64) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		current, err := m.lockedRole(tx, scopeID, userID)
		if err != nil {
			return err
		}
		if current == RoleAdmin {
			if err := m.ensureAnotherAdmin(tx, scopeID, userID); err != nil {
				return err
			}
		}
		return tx.Table(m.table).Where(m.column+" = ? AND user_id = ?", scopeID, userID).
			Delete(nil).Error
	})
}

func (m membership) lockedRole(tx *gorm.DB, scopeID, userID int64) (Role, error) {
	var roles []string
	err := forUpdate(tx.Table(m.table)).
		Where(m.column+" = ?", scopeID).Where("role = ? OR user_id = ?", RoleAdmin, userID).
		Order("user_id").Pluck("role", &roles).Error
	if err != nil {
		return RoleNone, fmt.Errorf("lock %s members: %w", m.noun, err)
	}
	role, err := m.role(tx.Statement.Context, tx, scopeID, userID)
	if err != nil {
		return RoleNone, err
	}
	if role == RoleNone {
		return RoleNone, fmt.Errorf("%s member %d: %w", m.noun, userID, ErrNotFound)
	}
	return role, nil
}

func (m membership) ensureAnotherAdmin(tx *gorm.DB, scopeID, userID int64) error {
	var admins int64
	// Only people count: a team must keep an admin who can sign in, not
	// just a service account's key.
	err := tx.Table(m.table).Where(m.column+" = ? AND role = ? AND user_id <> ?", scopeID, RoleAdmin, userID).
		Where("user_id IN (SELECT id FROM users WHERE service_team_id IS NULL)").
		Count(&admins).Error
	if err != nil {
		return fmt.Errorf("count %s admins: %w", m.noun, err)
	}
	if admins == 0 {
		return Conflict("role", "this is the last admin of the %s; make someone else admin first", m.noun)
	}
	return nil
}
