package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models/secretbox"
)

// SlackIntegration is one Slack channel a team can notify: the workspace
// and channel chosen in the Connect Slack flow. It has no field for the bot
// token: nothing built from a SlackIntegration can show it (SlackBotToken
// unseals it for the sender).
type SlackIntegration struct {
	ID            int64     `gorm:"column:id"`
	TeamID        int64     `gorm:"column:team_id"`
	WorkspaceID   string    `gorm:"column:workspace_id"`
	WorkspaceName string    `gorm:"column:workspace_name"`
	ChannelID     string    `gorm:"column:channel_id"`
	ChannelName   string    `gorm:"column:channel_name"`
	CreatedBy     string    `gorm:"column:created_by_email"` // "" when that user is gone
	CreatedAt     time.Time `gorm:"column:created_at"`
	// Health is kept by the worker and Re-enable (see IntegrationHealth).
	Health IntegrationHealth `gorm:"embedded"`
}

// slackIntegrationRow is the slack_integrations table; only this file
// touches BotToken.
type slackIntegrationRow struct {
	ID            int64     `gorm:"column:id;primaryKey"`
	TeamID        int64     `gorm:"column:team_id"`
	WorkspaceID   string    `gorm:"column:workspace_id"`
	WorkspaceName string    `gorm:"column:workspace_name"`
	ChannelID     string    `gorm:"column:channel_id"`
	ChannelName   string    `gorm:"column:channel_name"`
	BotToken      []byte    `gorm:"column:bot_token"`
	CreatedBy     *int64    `gorm:"column:created_by"`
	CreatedAt     time.Time `gorm:"column:created_at"`
}

func (slackIntegrationRow) TableName() string { return "slack_integrations" }

// ParseSlackActionConfig decodes a slack action's configuration
// (SlackActionConfig, in automations.action_config and the delivery's copy).
func ParseSlackActionConfig(raw string) (SlackActionConfig, error) {
	var c SlackActionConfig
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return c, fmt.Errorf("decode slack action config: %w", err)
	}
	if c.IntegrationID <= 0 {
		return c, errors.New("the slack action config names no integration_id")
	}
	return c, nil
}

// SlackWorkspace is a workspace a team has connected, for "New integration"
// (another channel of it, with the bot token already stored).
type SlackWorkspace struct {
	ID   string
	Name string
	// TokenFrom is one integration of the workspace whose bot token a new
	// integration reuses.
	TokenFrom int64
}

// CreateSlackIntegration seals botToken and stores a channel of a workspace
// for the team. A channel the team already connected is a conflict.
func CreateSlackIntegration(ctx context.Context, db *gorm.DB, box *secretbox.Box, teamID int64, workspaceID, workspaceName, channelID, channelName, botToken string, by *User) (*SlackIntegration, error) {
	workspaceID, channelID = strings.TrimSpace(workspaceID), strings.TrimSpace(channelID)
	channelName = strings.TrimPrefix(strings.TrimSpace(channelName), "#")
	switch {
	case workspaceID == "":
		return nil, Invalid("workspace", "is required: connect a Slack workspace first")
	case channelID == "":
		return nil, Invalid("channel", "choose a channel")
	case channelName == "":
		return nil, Invalid("channel", "the channel has no name")
	case botToken == "":
		return nil, Invalid("workspace", "Slack returned no bot token; connect the workspace again")
	}
	// Sealed before the insert: a KMS round trip must not hold a lock.
	sealed, err := box.Seal(ctx, []byte(botToken))
	if err != nil {
		return nil, fmt.Errorf("create slack integration: %w", err)
	}
	row := &slackIntegrationRow{
		TeamID: teamID, WorkspaceID: workspaceID, WorkspaceName: strings.TrimSpace(workspaceName),
		ChannelID: channelID, ChannelName: channelName, BotToken: sealed, CreatedAt: time.Now().UTC(),
	}
	var email string
	if by != nil {
		row.CreatedBy, email = &by.ID, by.Email
	}
	if err := db.WithContext(ctx).Create(row).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return nil, Conflict("channel", "#%s is already connected to this team", channelName)
		}
		return nil, fmt.Errorf("create slack integration #%s: %w", channelName, err)
	}
	return &SlackIntegration{
		ID: row.ID, TeamID: teamID, WorkspaceID: row.WorkspaceID, WorkspaceName: row.WorkspaceName,
		ChannelID: channelID, ChannelName: channelName, CreatedBy: email, CreatedAt: row.CreatedAt,
	}, nil
}

func slackIntegrations(db *gorm.DB) *gorm.DB {
	return db.Table("slack_integrations AS s").
		Select("s.id, s.team_id, s.workspace_id, s.workspace_name, s.channel_id, s.channel_name, s.created_at, COALESCE(u.email, '') AS created_by_email, " +
			"s.failure_streak, s.failing_since, s.disabled_at, s.disabled_reason").
		Joins("LEFT JOIN users u ON u.id = s.created_by")
}

// SlackIntegrationsOf lists a team's Slack channels by workspace and channel name.
func SlackIntegrationsOf(ctx context.Context, db *gorm.DB, teamID int64) ([]SlackIntegration, error) {
	var out []SlackIntegration
	err := slackIntegrations(db.WithContext(ctx)).Where("s.team_id = ?", teamID).
		Order("s.workspace_name, s.channel_name, s.id").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list slack integrations: %w", err)
	}
	return out, nil
}

// SlackIntegrationByID loads one integration (of any team: callers check
// that it belongs to the team they act for).
func SlackIntegrationByID(ctx context.Context, db *gorm.DB, id int64) (*SlackIntegration, error) {
	var out []SlackIntegration
	if err := slackIntegrations(db.WithContext(ctx)).Where("s.id = ?", id).Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("load slack integration %d: %w", id, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("slack integration %d: %w", id, ErrNotFound)
	}
	return &out[0], nil
}

// SlackIntegrationsByID loads the integrations with the given ids (of any
// team), by id; ids not found are absent.
func SlackIntegrationsByID(ctx context.Context, db *gorm.DB, ids []int64) (map[int64]*SlackIntegration, error) {
	out := make(map[int64]*SlackIntegration, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var list []SlackIntegration
	if err := slackIntegrations(db.WithContext(ctx)).Where("s.id IN ?", ids).Scan(&list).Error; err != nil {
		return nil, fmt.Errorf("load %d slack integrations: %w", len(ids), err)
	}
	for i := range list {
		out[list[i].ID] = &list[i]
	}
	return out, nil
}

// SlackWorkspacesOf lists the workspaces a team has connected, by name.
func SlackWorkspacesOf(ctx context.Context, db *gorm.DB, teamID int64) ([]SlackWorkspace, error) {
	all, err := SlackIntegrationsOf(ctx, db, teamID)
	if err != nil {
		return nil, err
	}
	var out []SlackWorkspace
	seen := map[string]int{}
	for _, s := range all {
		if i, ok := seen[s.WorkspaceID]; ok {
			// The newest integration's token is the most likely to be current.
			if s.ID > out[i].TokenFrom {
				out[i].TokenFrom = s.ID
			}
			continue
		}
		seen[s.WorkspaceID] = len(out)
		out = append(out, SlackWorkspace{ID: s.WorkspaceID, Name: s.WorkspaceName, TokenFrom: s.ID})
	}
	return out, nil
}

// SlackWorkspaceOf finds one connected workspace of a team by its Slack id.
func SlackWorkspaceOf(ctx context.Context, db *gorm.DB, teamID int64, workspaceID string) (*SlackWorkspace, error) {
	all, err := SlackWorkspacesOf(ctx, db, teamID)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].ID == workspaceID {
			return &all[i], nil
		}
	}
	return nil, fmt.Errorf("slack workspace %s: %w", workspaceID, ErrNotFound)
}

// SlackBotToken unseals the bot token of an integration. It is for talking
// to Slack only: never show, log or store it elsewhere.
func SlackBotToken(ctx context.Context, db *gorm.DB, box *secretbox.Box, integrationID int64) (string, error) {
	var row slackIntegrationRow
	if err := db.WithContext(ctx).First(&row, "id = ?", integrationID).Error; err != nil {
		return "", notFound(err, fmt.Sprintf("slack integration %d", integrationID))
	}
	plain, err := box.Unseal(ctx, row.BotToken)
	if err != nil {
		return "", fmt.Errorf("unseal the bot token of slack integration %d: %w", integrationID, err)
	}
	return string(plain), nil
}

// DeleteSlackIntegration removes an integration, refusing while an
// automation sends to it and naming those automations. The row is locked
// first, so an automation saved concurrently that locks it the same way
// (LockSlackIntegration) cannot start using a deleted channel.
func DeleteSlackIntegration(ctx context.Context, db *gorm.DB, id int64) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var found []slackIntegrationRow
		if err := forUpdate(tx.Model(&slackIntegrationRow{})).Select("id, team_id, channel_name").Where("id = ?", id).Find(&found).Error; err != nil {
			return fmt.Errorf("delete slack integration %d: %w", id, err)
		}
		if len(found) == 0 {
			return fmt.Errorf("slack integration %d: %w", id, ErrNotFound)
		}
		users, err := automationsUsingSlackIntegration(tx, found[0].TeamID, id)
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return Conflict("integration", "#%s is used by %s; change or delete %s first",
				found[0].ChannelName, listNames(users, "automation", "automations"), pronoun(len(users)))
		}
		if err := tx.Delete(&slackIntegrationRow{}, "id = ?", id).Error; err != nil {
			return fmt.Errorf("delete slack integration %d: %w", id, err)
		}
		return nil
	})
}

// LockSlackIntegration checks, inside tx, that integration id belongs to the
// team and locks its row until tx ends, so DeleteSlackIntegration cannot
// remove it while an automation that names it is being saved.
func LockSlackIntegration(tx *gorm.DB, teamID, id int64) (*SlackIntegration, error) {
	var rows []slackIntegrationRow
	if err := forUpdate(tx.Model(&slackIntegrationRow{})).Where("id = ? AND team_id = ?", id, teamID).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("lock slack integration %d: %w", id, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("slack integration %d: %w", id, ErrNotFound)
	}
	r := rows[0]
	return &SlackIntegration{ID: r.ID, TeamID: r.TeamID, WorkspaceID: r.WorkspaceID, WorkspaceName: r.WorkspaceName,
		ChannelID: r.ChannelID, ChannelName: r.ChannelName, CreatedAt: r.CreatedAt}, nil
}

// automationsUsingSlackIntegration names the automations whose action_config
// sends to integration id of team teamID (an automation can only use its own
// team's integrations). The config is JSON text, decoded here rather than
// matched in SQL so both databases read it the same way.
func automationsUsingSlackIntegration(tx *gorm.DB, teamID, id int64) ([]string, error) {
	var rows []struct {
		Name         string `gorm:"column:name"`
		ActionConfig string `gorm:"column:action_config"`
	}
	if err := tx.Table("automations").Select("name, action_config").Where("action_type = ? AND team_id = ?", ActionSlack, teamID).
		Order("name, id").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("automations using slack integration %d: %w", id, err)
	}
	var out []string
	for _, r := range rows {
		if c, err := ParseSlackActionConfig(r.ActionConfig); err == nil && c.IntegrationID == id {
			out = append(out, r.Name)
		}
	}
	return out, nil
}

// ArtifactPagePath is the path of the page of the artifact version an event
// is about: /projects/{team}/{project}/artifacts/{collection}/v{N} for a
// project event, /registries/{registry}/collections/{collection}/v{N} for a
// registry event. It matches the routes of web and views' URL helpers.
func ArtifactPagePath(ctx context.Context, db *gorm.DB, ev *Event) (string, error) {
	version := "v" + strconv.Itoa(ev.Vars.ArtifactVersionIndex)
	collection := url.PathEscape(ev.Vars.ArtifactCollectionName)
	switch {
	case ev.RegistryID != nil:
		r, err := RegistryByID(ctx, db, *ev.RegistryID)
		if err != nil {
			return "", err
		}
		return "/registries/" + url.PathEscape(r.Name) + "/collections/" + collection + "/" + version, nil
	case ev.ProjectID != nil:
		p, err := ProjectByID(ctx, db, *ev.ProjectID)
		if err != nil {
			return "", err
		}
		t, err := TeamByID(ctx, db, p.TeamID)
		if err != nil {
			return "", err
		}
		return "/projects/" + url.PathEscape(t.Name) + "/" + url.PathEscape(p.Name) + "/artifacts/" + collection + "/" + version, nil
	}
	return "", fmt.Errorf("event %d has neither a project nor a registry", ev.ID)
}
