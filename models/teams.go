package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Team is an "entity": it owns projects, secrets and integrations.
type Team struct {
	ID        int64     `gorm:"column:id;primaryKey"`
	Name      string    `gorm:"column:name"`
	CreatedAt time.Time `gorm:"column:created_at"`
}

// TableName maps Team to its table.
func (Team) TableName() string { return "teams" }

// CreateTeam creates a team and makes creator its first admin, in one transaction.
func CreateTeam(ctx context.Context, db *gorm.DB, name string, creator *User) (*Team, error) {
	name = strings.TrimSpace(name)
	if err := ValidateName("name", name); err != nil {
		return nil, err
	}
	t := &Team{Name: name}
	if err := teamMembership.create(ctx, db, t, func() int64 { return t.ID }, name, creator); err != nil {
		return nil, err
	}
	return t, nil
}

// TeamByName loads a team.
func TeamByName(ctx context.Context, db *gorm.DB, name string) (*Team, error) {
	var t Team
	if err := db.WithContext(ctx).First(&t, "name = ?", name).Error; err != nil {
		return nil, notFound(err, "team "+name)
	}
	return &t, nil
}

// TeamByNameWithRole loads a team by name and the user's role in it
// (RoleNone for a non-member) in one query: every team route runs it.
func TeamByNameWithRole(ctx context.Context, db *gorm.DB, name string, userID int64) (*Team, Role, error) {
	var rows []struct {
		Team
		Role string `gorm:"column:member_role"`
	}
	err := db.WithContext(ctx).Table("teams AS t").
		Select("t.*, COALESCE((SELECT m.role FROM team_members m WHERE m.team_id = t.id AND m.user_id = ?), '') AS member_role", userID).
		Where("t.name = ?", name).Limit(1).Scan(&rows).Error
	if err != nil {
		return nil, RoleNone, fmt.Errorf("team %s: %w", name, err)
	}
	if len(rows) == 0 {
		return nil, RoleNone, fmt.Errorf("team %s: %w", name, ErrNotFound)
	}
	return &rows[0].Team, Role(rows[0].Role), nil
}

// TeamByID loads a team by id.
func TeamByID(ctx context.Context, db *gorm.DB, id int64) (*Team, error) {
	var t Team
	if err := db.WithContext(ctx).First(&t, "id = ?", id).Error; err != nil {
		return nil, notFound(err, "team")
	}
	return &t, nil
}

// TeamWithRole is a team and the viewing user's role in it.
type TeamWithRole struct {
	Team
	Role Role `gorm:"column:role"`
}

// TeamsOf lists the teams u belongs to; a site admin sees every team.
func TeamsOf(ctx context.Context, db *gorm.DB, u *User) ([]TeamWithRole, error) {
	var out []TeamWithRole
	q := db.WithContext(ctx).Table("teams AS t").Select("t.*, COALESCE(m.role, '') AS role").
		Joins("LEFT JOIN team_members m ON m.team_id = t.id AND m.user_id = ?", u.ID)
	if !u.SiteAdmin {
		q = q.Where("m.user_id IS NOT NULL")
	}
	if err := q.Order("t.name").Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	return out, nil
}

// TeamRole is u's role in a team (RoleNone for non-members).
func TeamRole(ctx context.Context, db *gorm.DB, teamID, userID int64) (Role, error) {
	return teamMembership.role(ctx, db, teamID, userID)
}

// TeamMembers lists a team's members by email.
func TeamMembers(ctx context.Context, db *gorm.DB, teamID int64) ([]Member, error) {
	return teamMembership.list(ctx, db, teamID)
}

// AddTeamMember adds the user with email to a team.
// Requests go through people.AddMember, which also invites unknown emails.
func AddTeamMember(ctx context.Context, db *gorm.DB, teamID int64, email string, role Role) (*Member, error) {
	return teamMembership.add(ctx, db, teamID, email, role)
}

// SetTeamRole changes a member's role; the last admin cannot be demoted.
func SetTeamRole(ctx context.Context, db *gorm.DB, teamID, userID int64, role Role) error {
	return teamMembership.setRole(ctx, db, teamID, userID, role)
}

// RemoveTeamMember removes a member; the last admin cannot be removed.
func RemoveTeamMember(ctx context.Context, db *gorm.DB, teamID, userID int64) error {
	return teamMembership.remove(ctx, db, teamID, userID)
}
