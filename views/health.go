package views

import "github.com/automations-dev/automations/models"

func integrationKindLabel(kind string) string {
	if kind == models.IntegrationSlack {
		return "Slack integration"
	}
	return "Webhook"
}

func reenablePath(team, kind, key string) string {
	if kind == models.IntegrationSlack {
		return teamPath(team, "slack", "integrations", key, "enable")
	}
	return teamPath(team, "webhooks", key, "enable")
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
