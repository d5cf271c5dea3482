package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"gorm.io/gorm"

	"github.com/automations-dev/automations/jobs/slackclient"
	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/payload"
	"github.com/automations-dev/automations/models/redact"
	"github.com/automations-dev/automations/models/secretbox"
)

// SlackAction posts a message about the delivery's event to the Slack
// channel of the integration named in its action config, with the
// integration's bot token (read and unsealed at send time).
type SlackAction struct {
	DB      *gorm.DB
	Secrets *secretbox.Box
	// APIURL is Slack's API base (SLACK_API_URL), BaseURL this
	// application's public URL for the link to the artifact page.
	APIURL, BaseURL string
}

// permanentSlackErrors are Slack error codes a retry cannot fix: the token
// or app is gone, the channel is gone, or the message itself is refused.
// Others (not_in_channel: someone may still invite the app; ratelimited;
// internal_error …) are retried on the schedule.
var permanentSlackErrors = []string{
	"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
	"no_permission", "missing_scope", "org_login_required", "ekm_access_denied",
	"channel_not_found", "is_archived", "restricted_action", "team_access_not_granted",
	"invalid_blocks", "invalid_blocks_format", "msg_too_long", "no_text", "too_many_attachments",
}

// Perform builds the message, posts it and reports the attempt.
func (a *SlackAction) Perform(ctx context.Context, d *models.Delivery) Outcome {
	cfg, err := models.ParseSlackActionConfig(d.ActionConfig)
	if err != nil {
		return Outcome{Err: err, Permanent: true}
	}
	integ, err := models.SlackIntegrationByID(ctx, a.DB, cfg.IntegrationID)
	if errors.Is(err, models.ErrNotFound) || (err == nil && integ.TeamID != d.TeamID) {
		return Outcome{Err: errors.New("the Slack integration was deleted"), Permanent: true}
	}
	if err != nil {
		return Outcome{Err: fmt.Errorf("load slack integration: %w", err)}
	}
	ev, err := models.EventByID(ctx, a.DB, d.EventID)
	if err != nil {
		return Outcome{Err: fmt.Errorf("load event: %w", err), Permanent: errors.Is(err, models.ErrNotFound)}
	}
	var msg slackclient.Message
	if ev.RunID != nil {
		msg = RunSlackMessage(integ.ChannelID, d.AutomationName, ev.Vars, runLink(a.BaseURL, ev.Vars.RunURL))
	} else {
		path, err := models.ArtifactPagePath(ctx, a.DB, ev)
		if err != nil {
			return Outcome{Err: fmt.Errorf("link to the artifact: %w", err), Permanent: errors.Is(err, models.ErrNotFound)}
		}
		msg = SlackMessage(integ.ChannelID, d.AutomationName, ev.Vars, strings.TrimRight(a.BaseURL, "/")+path)
	}
	client := slackclient.New(a.APIURL, nil)
	body, _ := json.Marshal(msg)
	out := Outcome{Attempt: models.DeliveryAttempt{
		RequestURL:     client.Endpoint("chat.postMessage"),
		RequestHeaders: "Content-Type: application/x-www-form-urlencoded\nAuthorization: Bearer " + payload.Redacted,
		RequestBody:    string(body),
	}}
	token, err := models.SlackBotToken(ctx, a.DB, a.Secrets, integ.ID)
	if err != nil {
		out.Err = fmt.Errorf("read the bot token: %w", err)
		return out
	}
	out.Redactor = redact.New(token)
	ex, err := client.PostMessage(ctx, token, msg)
	out.Attempt.DurationMS = ex.Duration.Milliseconds()
	if ex.Status != 0 {
		status := ex.Status
		out.Attempt.ResponseStatus = &status
		out.Attempt.ResponseHeaders = formatHeaders(ex.Header)
		out.Attempt.ResponseBody = string(ex.Body)
		out.Attempt.ResponseTruncated = ex.Truncated
	}
	if err != nil {
		out.Err, out.RetryAfter, out.Permanent = classifySlackError(err, integ.ChannelName)
	}
	return out
}

// classifySlackError words an error from chat.postMessage for history and
// says whether to retry, and after how long when Slack said so.
func classifySlackError(err error, channel string) (error, time.Duration, bool) {
	var limited *slack.RateLimitedError
	var status slack.StatusCodeError
	switch code := slackclient.ErrorCode(err); {
	case errors.As(err, &limited):
		return fmt.Errorf("Slack rate limit: retry after %s", limited.RetryAfter), limited.RetryAfter, false
	case code == "not_in_channel":
		return fmt.Errorf("Slack answered not_in_channel: invite the app to #%s (/invite in the channel)", channel), 0, false
	case code != "":
		return fmt.Errorf("Slack answered %s", code), 0, slices.Contains(permanentSlackErrors, code)
	case errors.As(err, &status):
		return fmt.Errorf("Slack answered HTTP %d", status.Code), 0, false
	}
	return fmt.Errorf("post to Slack: %w", err), 0, false
}

// SlackMessage is the notification for an event: a plain-text fallback and
// blocks naming the event type, the artifact version string, the author
// and a link to the artifact's page.
func SlackMessage(channelID, automation string, v models.EventVars, link string) slackclient.Message {
	title := eventHeadline(v)
	// Slack reads the fallback text as mrkdwn too (it is what notifications show).
	text := escapeMrkdwn(fmt.Sprintf("%s: %s (%s) by %s", title, v.ArtifactVersionString, v.EventType, authorOr(v.EventAuthor))) + " " + link
	summary := fmt.Sprintf("*%s*\n<%s|%s>", escapeMrkdwn(title), link, escapeMrkdwn(v.ArtifactVersionString))
	fields := []*slack.TextBlockObject{
		slack.NewTextBlockObject(slack.MarkdownType, "*Event*\n`"+escapeMrkdwn(v.EventType)+"`", false, false),
		slack.NewTextBlockObject(slack.MarkdownType, "*Author*\n"+escapeMrkdwn(authorOr(v.EventAuthor)), false, false),
	}
	if v.Alias != "" {
		fields = append(fields, slack.NewTextBlockObject(slack.MarkdownType, "*Alias*\n`"+escapeMrkdwn(v.Alias)+"`", false, false))
	}
	blocks := []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, summary, false, false), fields, nil),
	}
	if automation != "" {
		blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, "Automation: "+escapeMrkdwn(automation), false, false)))
	}
	return slackclient.Message{Channel: channelID, Text: text, Blocks: blocks}
}

func eventHeadline(v models.EventVars) string {
	switch v.EventType {
	case models.EventCreateArtifact:
		return "New artifact version in " + v.ArtifactCollectionName
	case models.EventAddArtifactAlias:
		return "Alias " + v.Alias + " added to " + v.ArtifactCollectionName
	case models.EventLinkArtifact:
		return "Artifact linked to " + v.ProjectName + "/" + v.ArtifactCollectionName
	}
	return v.EventType
}

func authorOr(author string) string {
	if author == "" {
		return "unknown"
	}
	return author
}

// escapeMrkdwn escapes the three characters Slack's mrkdwn treats as
// control characters, so names cannot inject links or mentions.
func escapeMrkdwn(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
