package payload

// NamedTemplate is a ready-made payload the wizard offers.
type NamedTemplate struct {
	ID          string // stable identifier, e.g. "github"
	Name        string // shown in the wizard
	Description string // one line
	Body        string // the template text
}

// Templates returns the ready-made payloads from the W&B documentation:
// GitHub repository_dispatch, a Microsoft Teams MessageCard and Slack blocks.
// Each validates for every event type.
func Templates() []NamedTemplate {
	return []NamedTemplate{
		{
			ID:          "github",
			Name:        "GitHub repository dispatch",
			Description: "Trigger a GitHub Actions workflow that listens for repository_dispatch of type BUILD_AND_DEPLOY; use a token that may create dispatch events as the webhook's access token.",
			Body: `{
  "event_type": "BUILD_AND_DEPLOY",
  "client_payload": {
    "event_author": "${event_author}",
    "artifact_version": "${artifact_version}",
    "artifact_version_string": "${artifact_version_string}",
    "artifact_collection_name": "${artifact_collection_name}",
    "project_name": "${project_name}",
    "entity_name": "${entity_name}"
  }
}
`,
		},
		{
			ID:          "teams",
			Name:        "Microsoft Teams notification",
			Description: "Post a MessageCard to a Teams channel's Incoming Webhook URL.",
			Body: `{
  "@type": "MessageCard",
  "@context": "http://schema.org/extensions",
  "summary": "New Notification",
  "sections": [
    {
      "activityTitle": "Notification from WANDB",
      "text": "This is an example message sent via Teams webhook.",
      "facts": [
        {
          "name": "Author",
          "value": "${event_author}"
        },
        {
          "name": "Event Type",
          "value": "${event_type}"
        }
      ],
      "markdown": true
    }
  ]
}
`,
		},
		{
			ID:          "slack",
			Name:        "Slack notification (incoming webhook)",
			Description: "Post blocks to a Slack incoming webhook; the Slack integration is the recommended way to notify Slack.",
			Body: `{
  "text": "New alert from WANDB!",
  "blocks": [
    {
      "type": "section",
      "text": {
        "type": "mrkdwn",
        "text": "Registry event: ${event_type}"
      }
    },
    {
      "type": "section",
      "text": {
        "type": "mrkdwn",
        "text": "New version: ${artifact_version_string}"
      }
    },
    {
      "type": "divider"
    },
    {
      "type": "section",
      "text": {
        "type": "mrkdwn",
        "text": "Author: ${event_author}"
      }
    }
  ]
}
`,
		},
	}
}
