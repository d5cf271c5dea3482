package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/jobs/mailer"
	"github.com/automations-dev/automations/jobs/slackclient"
	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/secretbox"
)

// DisableNotifier tells a team that one of its integrations was disabled:
// a message to each of the team's Slack integrations that is healthy (not
// disabled and not failing), and a mail to the team's admins when SMTP is
// configured.
type DisableNotifier struct {
	DB          *gorm.DB
	Secrets     *secretbox.Box
	SlackAPIURL string
	BaseURL     string
	Mail        *mailer.Mailer // nil: no mail
	Log         *slog.Logger
}

// Notify sends the notices; failures are logged, never retried (the
// banners and the audit log keep the news).
func (n *DisableNotifier) Notify(ctx context.Context, d models.DisabledIntegration) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	team, err := models.TeamByID(ctx, n.DB, d.TeamID)
	if err != nil {
		n.Log.Error("notify of a disabled integration: load its team", "err", err)
		return
	}
	link := strings.TrimRight(n.BaseURL, "/") + "/teams/" + team.Name
	kind := "Webhook"
	if d.Ref.Kind == models.IntegrationSlack {
		kind = "Slack integration"
	}
	text := fmt.Sprintf("%s %s of team %s was disabled: %d deliveries in a row failed since %s. "+
		"New deliveries are held until an admin re-enables it in Team Settings: %s",
		kind, d.Name, team.Name, d.Streak, d.Since.UTC().Format(time.RFC1123), link)
	n.slack(ctx, d, text)
	if n.Mail != nil {
		to, err := models.TeamAdminEmails(ctx, n.DB, d.TeamID)
		if err != nil {
			n.Log.Error("notify of a disabled integration: list admins", "err", err)
			return
		}
		if len(to) > 0 {
			subject := fmt.Sprintf("[automations] %s %s of team %s was disabled", kind, d.Name, team.Name)
			for _, addr := range to {
				if err := n.Mail.Send(ctx, mailer.Message{To: addr, Subject: subject, Body: text + "\n"}); err != nil {
					n.Log.Error("mail the notice of a disabled integration", "to", addr, "err", err)
				}
			}
		}
	}
}

func (n *DisableNotifier) slack(ctx context.Context, d models.DisabledIntegration, text string) {
	integrations, err := models.SlackIntegrationsOf(ctx, n.DB, d.TeamID)
	if err != nil {
		n.Log.Error("notify of a disabled integration: list Slack integrations", "err", err)
		return
	}
	client := slackclient.New(n.SlackAPIURL, nil)
	for _, s := range integrations {
		if s.Health.Disabled() || s.Health.FailureStreak > 0 ||
			(d.Ref.Kind == models.IntegrationSlack && d.Ref.ID == s.ID) {
			continue
		}
		token, err := models.SlackBotToken(ctx, n.DB, n.Secrets, s.ID)
		if err != nil {
			n.Log.Error("notify of a disabled integration: read a bot token", "channel", s.ChannelName, "err", err)
			continue
		}
		if _, err := client.PostMessage(ctx, token, slackclient.Message{Channel: s.ChannelID, Text: escapeMrkdwn(text)}); err != nil {
			n.Log.Error("notify of a disabled integration on Slack", "channel", s.ChannelName, "err", err)
		}
	}
}
