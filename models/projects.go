package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Project belongs to a team (`entity/project`) and holds artifact collections.
type Project struct {
	ID        int64     `gorm:"column:id;primaryKey"`
	TeamID    int64     `gorm:"column:team_id"`
	Name      string    `gorm:"column:name"`
	CreatedBy *int64    `gorm:"column:created_by"`
	CreatedAt time.Time `gorm:"column:created_at"`
}

// TableName maps Project to its table.
func (Project) TableName() string { return "projects" }

// CreateProject creates a project in team t.
func CreateProject(ctx context.Context, db *gorm.DB, t *Team, name string, creator *User) (*Project, error) {
	name = strings.TrimSpace(name)
	if err := ValidateName("name", name); err != nil {
		return nil, err
	}
	p := &Project{TeamID: t.ID, Name: name, CreatedBy: &creator.ID}
	if err := db.WithContext(ctx).Create(p).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return nil, Conflict("name", "team %s already has a project named %s (names are unique regardless of case)", t.Name, name)
		}
		return nil, fmt.Errorf("create project: %w", err)
	}
	return p, nil
}

// ProjectByName loads a project of a team.
func ProjectByName(ctx context.Context, db *gorm.DB, teamID int64, name string) (*Project, error) {
	var p Project
	if err := db.WithContext(ctx).First(&p, "team_id = ? AND name = ?", teamID, name).Error; err != nil {
		return nil, notFound(err, "project "+name)
	}
	return &p, nil
}

// ProjectByID loads a project by id.
func ProjectByID(ctx context.Context, db *gorm.DB, id int64) (*Project, error) {
	var p Project
	if err := db.WithContext(ctx).First(&p, "id = ?", id).Error; err != nil {
		return nil, notFound(err, "project")
	}
	return &p, nil
}

// ProjectsOfTeam lists a team's projects by name.
func ProjectsOfTeam(ctx context.Context, db *gorm.DB, teamID int64) ([]Project, error) {
	var out []Project
	if err := db.WithContext(ctx).Where("team_id = ?", teamID).Order("name").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	return out, nil
}

// ProjectListing is a project with its team and the viewer's role there.
type ProjectListing struct {
	Project
	TeamName string `gorm:"column:team_name"`
	Role     Role   `gorm:"column:role"`
}

// ProjectsOf lists the projects of every team u can see; a site admin sees all.
func ProjectsOf(ctx context.Context, db *gorm.DB, u *User) ([]ProjectListing, error) {
	var out []ProjectListing
	q := db.WithContext(ctx).Table("projects AS p").
		Select("p.*, t.name AS team_name, COALESCE(m.role, '') AS role").
		Joins("JOIN teams t ON t.id = p.team_id").
		Joins("LEFT JOIN team_members m ON m.team_id = p.team_id AND m.user_id = ?", u.ID)
	if !u.SiteAdmin {
		q = q.Where("m.user_id IS NOT NULL")
	}
	if err := q.Order("t.name, p.name").Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	return out, nil
}
