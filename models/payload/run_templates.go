package payload

// RunTemplates returns the ready-made payloads for a run alert, offered by
// the wizard for run events: Slack blocks, a Microsoft Teams MessageCard
// and a GitHub repository_dispatch. Each validates for every metric event;
// the metric variables render empty for RUN_STATE, so the state ones avoid them.
func RunTemplates() []NamedTemplate {
	return []NamedTemplate{
		{
			ID:          "run-slack",
			Name:        "Slack run alert (incoming webhook)",
			Description: "Post blocks naming the run, the metric and the value that fired to a Slack incoming webhook.",
			Body: `{
  "text": "${event_type}: ${metric_name} = ${metric_value} in run ${run_name}",
  "blocks": [
    {
      "type": "section",
      "text": {
        "type": "mrkdwn",
        "text": "*${metric_name}* is ${metric_value} at step ${metric_step} (threshold ${metric_threshold}) in run <${run_url}|${run_name}>"
      }
    },
    {
      "type": "context",
      "elements": [
        {"type": "mrkdwn", "text": "${entity_name}/${project_name} · ${run_user} · automation ${automation_name}"}
      ]
    }
  ]
}
`,
		},
		{
			ID:          "run-teams",
			Name:        "Microsoft Teams run alert",
			Description: "Post a MessageCard with the run, the metric and its value to a Teams channel's Incoming Webhook URL.",
			Body: `{
  "@type": "MessageCard",
  "@context": "http://schema.org/extensions",
  "summary": "${event_type} in run ${run_name}",
  "sections": [
    {
      "activityTitle": "${metric_name} = ${metric_value} in run ${run_name}",
      "facts": [
        {"name": "Project", "value": "${entity_name}/${project_name}"},
        {"name": "Step", "value": "${metric_step}"},
        {"name": "Threshold", "value": "${metric_threshold}"},
        {"name": "State", "value": "${run_state}"},
        {"name": "User", "value": "${run_user}"}
      ],
      "markdown": true
    }
  ],
  "potentialAction": [
    {"@type": "OpenUri", "name": "Open run", "targets": [{"os": "default", "uri": "${run_url}"}]}
  ]
}
`,
		},
		{
			ID:          "run-github",
			Name:        "GitHub repository dispatch (run)",
			Description: "Trigger a GitHub Actions workflow listening for repository_dispatch of type RUN_ALERT with the run and metric in client_payload.",
			Body: `{
  "event_type": "RUN_ALERT",
  "client_payload": {
    "run_id": "${run_id}",
    "run_name": "${run_name}",
    "run_url": "${run_url}",
    "run_state": "${run_state}",
    "metric_name": "${metric_name}",
    "metric_value": "${metric_value}",
    "metric_step": "${metric_step}",
    "project_name": "${project_name}",
    "entity_name": "${entity_name}"
  }
}
`,
		},
		{
			ID:          "run-state-slack",
			Name:        "Slack run state (incoming webhook)",
			Description: "Post the run's new state to a Slack incoming webhook (for RUN_STATE).",
			Body: `{
  "text": "Run ${run_name} is ${run_state}",
  "blocks": [
    {
      "type": "section",
      "text": {"type": "mrkdwn", "text": "Run <${run_url}|${run_name}> in ${entity_name}/${project_name} is *${run_state}* (by ${run_user})"}
    }
  ]
}
`,
		},
	}
}
