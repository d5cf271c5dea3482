package models

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// JobChoice is a job (an artifact collection of type job) as the launch
// action's Job select offers it.
type JobChoice struct {
	CollectionID int64  `gorm:"column:id"`
	ProjectName  string `gorm:"column:project_name"`
	Name         string `gorm:"column:name"`
}

// JobCollectionsOfTeam lists the job collections in the team's projects,
// by project and name.
func JobCollectionsOfTeam(ctx context.Context, db *gorm.DB, teamID int64) ([]JobChoice, error) {
	var out []JobChoice
	err := db.WithContext(ctx).Table("artifact_collections AS c").
		Select("c.id, p.name AS project_name, c.name").
		Joins("JOIN projects p ON p.id = c.project_id").
		Where("p.team_id = ? AND c.type = ?", teamID, "job").
		Order("p.name, c.name").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list job collections: %w", err)
	}
	return out, nil
}
