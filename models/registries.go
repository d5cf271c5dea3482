package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Registry is an instance-level registry (model, dataset or custom) with
// its own members.
type Registry struct {
	ID          int64     `gorm:"column:id;primaryKey"`
	Name        string    `gorm:"column:name"`
	Description string    `gorm:"column:description"`
	CreatedAt   time.Time `gorm:"column:created_at"`
}

// TableName maps Registry to its table.
func (Registry) TableName() string { return "registries" }

// ProjectName is how registry events name the registry's project (§6).
func (r *Registry) ProjectName() string { return "wandb-registry-" + r.Name }

// CreateRegistry creates a registry and makes creator its first admin.
func CreateRegistry(ctx context.Context, db *gorm.DB, name, description string, creator *User) (*Registry, error) {
	name = strings.TrimSpace(name)
	if err := ValidateName("name", name); err != nil {
		return nil, err
	}
	if len(description) > 1000 {
		return nil, Invalid("description", "must be at most 1000 characters")
	}
	r := &Registry{Name: name, Description: strings.TrimSpace(description)}
	if err := registryMembership.create(ctx, db, r, func() int64 { return r.ID }, name, creator); err != nil {
		return nil, err
	}
	return r, nil
}

// RegistryByName loads a registry.
func RegistryByName(ctx context.Context, db *gorm.DB, name string) (*Registry, error) {
	var r Registry
	if err := db.WithContext(ctx).First(&r, "name = ?", name).Error; err != nil {
		return nil, notFound(err, "registry "+name)
	}
	return &r, nil
}

// RegistryByID loads a registry by id.
func RegistryByID(ctx context.Context, db *gorm.DB, id int64) (*Registry, error) {
	var r Registry
	if err := db.WithContext(ctx).First(&r, "id = ?", id).Error; err != nil {
		return nil, notFound(err, "registry")
	}
	return &r, nil
}

// RegistryWithRole is a registry and the viewing user's role in it.
type RegistryWithRole struct {
	Registry
	Role Role `gorm:"column:role"`
}

// RegistriesOf lists the registries u belongs to; a site admin sees all.
func RegistriesOf(ctx context.Context, db *gorm.DB, u *User) ([]RegistryWithRole, error) {
	var out []RegistryWithRole
	q := db.WithContext(ctx).Table("registries AS r").Select("r.*, COALESCE(m.role, '') AS role").
		Joins("LEFT JOIN registry_members m ON m.registry_id = r.id AND m.user_id = ?", u.ID)
	if !u.SiteAdmin {
		q = q.Where("m.user_id IS NOT NULL")
	}
	if err := q.Order("r.name").Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("list registries: %w", err)
	}
	return out, nil
}

// RegistryRole is u's role in a registry (RoleNone for non-members).
func RegistryRole(ctx context.Context, db *gorm.DB, registryID, userID int64) (Role, error) {
	return registryMembership.role(ctx, db, registryID, userID)
}

// RegistryMembers lists a registry's members by email.
func RegistryMembers(ctx context.Context, db *gorm.DB, registryID int64) ([]Member, error) {
	return registryMembership.list(ctx, db, registryID)
}

// AddRegistryMember adds the user with email to a registry.
// Requests go through people.AddMember, which also invites unknown emails.
func AddRegistryMember(ctx context.Context, db *gorm.DB, registryID int64, email string, role Role) (*Member, error) {
	return registryMembership.add(ctx, db, registryID, email, role)
}

// SetRegistryRole changes a member's role; the last admin cannot be demoted.
func SetRegistryRole(ctx context.Context, db *gorm.DB, registryID, userID int64, role Role) error {
	return registryMembership.setRole(ctx, db, registryID, userID, role)
}

// RemoveRegistryMember removes a member; the last admin cannot be removed.
func RemoveRegistryMember(ctx context.Context, db *gorm.DB, registryID, userID int64) error {
	return registryMembership.remove(ctx, db, registryID, userID)
}
