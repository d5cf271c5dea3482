package models

import (
	"context"

	"gorm.io/gorm"
)

// SlackIntegration stands in until the Slack integration lands (removed by that merge).
type SlackIntegration struct {
	ID            int64
	ChannelName   string
	WorkspaceName string
}

// SlackIntegrationsOf stands in until the Slack integration lands.
func SlackIntegrationsOf(ctx context.Context, db *gorm.DB, teamID int64) ([]SlackIntegration, error) {
	return nil, nil
}
