package handlers

import (
	"context"
	"time"

	"github.com/automations-dev/automations/jobs/slackclient"
	"github.com/automations-dev/automations/models"
)

// slackConfirmTimeout bounds the confirmation post: connecting must not
// hang on a slow Slack.
const slackConfirmTimeout = 10 * time.Second

// confirmSlackChannel posts a short note into a channel just connected
// (seed 002: "[handle] added an integration to this channel"), which also
// proves at once that the app may post there. It returns the flash to show:
// kind "success" when Slack took the post, "error" with what to do when it
// did not (the integration stays: inviting the app fixes it).
func (h *Handler) confirmSlackChannel(ctx context.Context, token string, s *models.SlackIntegration, team string, by *models.User) (kind, message string) {
	ctx, cancel := context.WithTimeout(ctx, slackConfirmTimeout)
	defer cancel()
	text := by.DisplayName() + " added an integration to this channel: Automations (team " + team +
		"). Automations of that team can now post here."
	_, err := h.slack.PostMessage(ctx, token, slackclient.Message{Channel: s.ChannelID, Text: text})
	connected := "Slack channel #" + s.ChannelName + " of " + s.WorkspaceName + " connected"
	switch code := slackclient.ErrorCode(err); {
	case err == nil:
		return "success", connected + ", and a confirmation was posted there."
	case code == "not_in_channel":
		return "error", connected + ", but Slack says the app is not in the channel, so automations cannot post there yet: invite it (/invite in Slack); until then its deliveries fail with not_in_channel."
	case code != "":
		return "error", connected + ", but posting a confirmation there failed (Slack said " + code + "); automations may fail the same way."
	default:
		h.log.Warn("slack confirmation post", "channel", s.ChannelID, "err", err)
		return "error", connected + ", but Slack could not be reached to post a confirmation; automations retry when they fire."
	}
}
