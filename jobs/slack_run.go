package jobs

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/automations-dev/automations/jobs/slackclient"
	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/runcond"
)

// runLink makes a run event's ${run_url} absolute when the server's
// BASE_URL was unset at event time (it is then a path).
func runLink(baseURL, runURL string) string {
	if strings.HasPrefix(runURL, "/") {
		return strings.TrimRight(baseURL, "/") + runURL
	}
	return runURL
}

// RunSlackMessage is the notification for a run event: a plain-text
// fallback and blocks naming what happened to which run, the metric and
// value for metric events, the run's user and a link to the run's page.
func RunSlackMessage(channelID, automation string, v models.EventVars, link string) slackclient.Message {
	title := runHeadline(v)
	run := v.ProjectName + "/" + v.RunName
	text := escapeMrkdwn(fmt.Sprintf("%s: %s (%s) by %s", title, run, v.EventType, authorOr(v.RunUser))) + " " + link
	summary := fmt.Sprintf("*%s*\n<%s|%s>", escapeMrkdwn(title), link, escapeMrkdwn(run))
	fields := []*slack.TextBlockObject{
		slack.NewTextBlockObject(slack.MarkdownType, "*Event*\n`"+escapeMrkdwn(v.EventType)+"`", false, false),
		slack.NewTextBlockObject(slack.MarkdownType, "*State*\n"+escapeMrkdwn(v.RunState), false, false),
		slack.NewTextBlockObject(slack.MarkdownType, "*User*\n"+escapeMrkdwn(authorOr(v.RunUser)), false, false),
	}
	if v.MetricName != "" {
		fields = append(fields, slack.NewTextBlockObject(slack.MarkdownType,
			fmt.Sprintf("*%s*\n%s at step %s", escapeMrkdwn(v.MetricName), escapeMrkdwn(v.MetricValue), escapeMrkdwn(v.MetricStep)), false, false))
	}
	blocks := []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, summary, false, false), fields, nil),
	}
	if automation != "" {
		blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, "Automation: "+escapeMrkdwn(automation), false, false)))
	}
	return slackclient.Message{Channel: channelID, Text: text, Blocks: blocks}
}

func runHeadline(v models.EventVars) string {
	switch v.EventType {
	case runcond.RunState:
		return "Run " + v.RunName + " is " + v.RunState
	case runcond.RunMetric:
		return fmt.Sprintf("%s crossed %s in run %s", v.MetricName, v.MetricThreshold, v.RunName)
	case runcond.RunMetricChange:
		return fmt.Sprintf("%s changed by at least %s in run %s", v.MetricName, v.MetricThreshold, v.RunName)
	case runcond.RunMetricZScore:
		return fmt.Sprintf("%s is an outlier (z-score %s) in run %s", v.MetricName, v.MetricThreshold, v.RunName)
	}
	return v.EventType
}
