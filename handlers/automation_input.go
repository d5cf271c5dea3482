package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/runcond"
)

// automationInput is an automation as the API and the wizard describe it:
// by names, not ids (DESIGN.md §11).
type automationInput struct {
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Enabled     *bool       `json:"enabled,omitempty"`
	Scope       scopeNames  `json:"scope"`
	Event       eventInput  `json:"event"`
	Action      actionInput `json:"action"`
	// Options of DESIGN.md §16: dedupe_window ("24h", "7d"; empty: off),
	// require_approval, approval_timeout (default "72h").
	DedupeWindow    string `json:"dedupe_window,omitempty"`
	RequireApproval bool   `json:"require_approval,omitempty"`
	ApprovalTimeout string `json:"approval_timeout,omitempty"`
}

type eventInput struct {
	Type       string `json:"type"`
	AliasRegex string `json:"alias_regex,omitempty"`
	// The run events' parameters (DESIGN.md §11, §14), as runcond.Config
	// names them (spelled out so type errors name "event.window").
	States       []string `json:"states,omitempty"`
	RunNameRegex string   `json:"run_name_regex,omitempty"`
	User         string   `json:"user,omitempty"`
	Metric       string   `json:"metric,omitempty"`
	Window       int      `json:"window,omitempty"`
	Agg          string   `json:"agg,omitempty"`
	Op           string   `json:"op,omitempty"`
	Threshold    *float64 `json:"threshold,omitempty"`
	PriorWindow  int      `json:"prior_window,omitempty"`
	ChangeType   string   `json:"change_type,omitempty"`
	Direction    string   `json:"direction,omitempty"`
	Amount       *float64 `json:"amount,omitempty"`
	Cooldown     string   `json:"cooldown,omitempty"`
}

// runConfig is the run event parameters of e.
func (e eventInput) runConfig() runcond.Config {
	return runcond.Config{States: e.States, RunNameRegex: e.RunNameRegex, User: e.User, Metric: e.Metric,
		Window: e.Window, Agg: e.Agg, Op: e.Op, Threshold: e.Threshold, PriorWindow: e.PriorWindow,
		ChangeType: e.ChangeType, Direction: e.Direction, Amount: e.Amount, Cooldown: e.Cooldown}
}

// setRunConfig fills e's run event parameters from c.
func (e *eventInput) setRunConfig(c *runcond.Config) {
	e.States, e.RunNameRegex, e.User, e.Metric = c.States, c.RunNameRegex, c.User, c.Metric
	e.Window, e.Agg, e.Op, e.Threshold, e.PriorWindow = c.Window, c.Agg, c.Op, c.Threshold, c.PriorWindow
	e.ChangeType, e.Direction, e.Amount, e.Cooldown = c.ChangeType, c.Direction, c.Amount, c.Cooldown
}

type actionInput struct {
	Type    string `json:"type"`
	Team    string `json:"team"`
	Webhook string `json:"webhook,omitempty"`
	// Payload is the template's text (a JSON document as a string).
	Payload string `json:"payload,omitempty"`
	// Channel is a Slack channel the team connected (slack actions).
	Channel string `json:"channel,omitempty"`
	// Launch actions: queue of the team, job (team/project/collection),
	// job_version (latest, vN or an alias), overrides (a JSON object) and
	// destination_project (team/project).
	Queue              string          `json:"queue,omitempty"`
	Job                string          `json:"job,omitempty"`
	JobVersion         string          `json:"job_version,omitempty"`
	Overrides          json.RawMessage `json:"overrides,omitempty"`
	DestinationProject string          `json:"destination_project,omitempty"`
}

// automationSpec resolves in into a spec for scope, checking that u may use
// the integration's team (§9: a member of that team, not a viewer). The
// caller checked that u administers the scope.
func (h *Handler) automationSpec(ctx context.Context, u *models.User, scope *automationScope, in automationInput) (models.AutomationSpec, error) {
	spec := models.AutomationSpec{
		Name: in.Name, Description: in.Description, Enabled: in.Enabled == nil || *in.Enabled,
		EventType: in.Event.Type, AliasRegex: strings.TrimSpace(in.Event.AliasRegex),
		ActionType: in.Action.Type, Payload: in.Action.Payload,
	}
	scope.apply(&spec)
	if runcond.IsRunEvent(in.Event.Type) {
		cfg := in.Event.runConfig()
		spec.RunEvent = &cfg
	}
	var err error
	if spec.DedupeWindow, err = parseWindow("dedupe_window", in.DedupeWindow); err != nil {
		return spec, err
	}
	if spec.ApprovalTimeout, err = parseWindow("approval_timeout", in.ApprovalTimeout); err != nil {
		return spec, err
	}
	spec.RequireApproval = in.RequireApproval
	if spec.ActionType == "" {
		spec.ActionType = models.ActionWebhook
	}
	if in.Action.Team == "" {
		return spec, models.Invalid("action.team", "choose the team that owns the integration")
	}
	team, role, err := models.TeamByNameWithRole(ctx, h.db, in.Action.Team, u.ID)
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return spec, err
	}
	// A team the user cannot see answers as one that does not exist.
	if err != nil || !models.CanView(u, role) {
		return spec, models.Invalid("action.team", "there is no team named %q that you are a member of", in.Action.Team)
	}
	spec.TeamID = team.ID
	switch spec.ActionType {
	case models.ActionSlack:
		err = h.slackSpec(ctx, team, in.Action, &spec)
	case models.ActionLaunch:
		err = h.launchSpec(ctx, u, team, in.Action, &spec)
	}
	if err != nil {
		return spec, err
	}
	if spec.ActionType == models.ActionWebhook {
		if in.Action.Webhook == "" {
			return spec, models.Invalid("action.webhook", "choose a webhook of team %s", team.Name)
		}
		wh, err := models.WebhookByName(ctx, h.db, team.ID, in.Action.Webhook)
		if errors.Is(err, models.ErrNotFound) {
			return spec, models.Invalid("action.webhook", "team %s has no webhook named %q", team.Name, in.Action.Webhook)
		}
		if err != nil {
			return spec, err
		}
		spec.WebhookID = &wh.ID
		spec.PayloadContext = wh.PayloadContext(spec.EventType)
	}
	// §9: using a team's integration needs a member of that team; an edit
	// that keeps the integration it already uses (a registry admin renaming
	// a registry automation) starts no new use of it.
	if !models.CanWrite(u, role) && !keepsIntegration(scope.Editing, spec) {
		return spec, &Error{Status: http.StatusForbidden, Field: "action.team",
			Message: "only members of team " + team.Name + " (not viewers) can use its integrations"}
	}
	return spec, nil
}

// keepsIntegration reports whether spec's action uses exactly what the
// automation being edited already uses (same team, integration and config).
func keepsIntegration(editing *models.Automation, spec models.AutomationSpec) bool {
	if editing == nil || editing.ActionType != spec.ActionType || editing.TeamID != spec.TeamID ||
		editing.ActionConfig != spec.ActionConfig {
		return false
	}
	if (editing.WebhookID == nil) != (spec.WebhookID == nil) {
		return false
	}
	return editing.WebhookID == nil || *editing.WebhookID == *spec.WebhookID
}

// actionTargets are the names of what an automation's action refers to
// by id, as the API, the wizard and the lists show them.
type actionTargets struct {
	Team    string                   // owner of the integration
	Webhook *string                  // nil: no webhook, or it was deleted
	Slack   *models.SlackIntegration // nil: no Slack action, or it was deleted
}

// actionTargetsOf reads one automation's action targets.
func (h *Handler) actionTargetsOf(ctx context.Context, a *models.Automation) (actionTargets, error) {
	var t actionTargets
	team, err := models.TeamByID(ctx, h.db, a.TeamID)
	if err != nil {
		return t, err
	}
	t.Team = team.Name
	if a.WebhookID != nil {
		wh, err := models.WebhookByID(ctx, h.db, *a.WebhookID)
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			return t, err
		}
		if wh != nil {
			t.Webhook = &wh.Name
		}
	}
	if a.ActionType == models.ActionSlack {
		c, _ := models.ParseSlackActionConfig(a.ActionConfig)
		if t.Slack, err = models.SlackIntegrationByID(ctx, h.db, c.IntegrationID); errors.Is(err, models.ErrNotFound) {
			err = nil
		}
	}
	return t, err
}

// listingTargets are the action targets of listed automations: the names
// came with the listing; Slack channels are read in one query.
func (h *Handler) listingTargets(ctx context.Context, list []models.AutomationListing) ([]actionTargets, error) {
	slackIDs := make([]int64, len(list)) // by row; 0: not a Slack action
	var toRead []int64
	for i, a := range list {
		if a.ActionType == models.ActionSlack {
			c, _ := models.ParseSlackActionConfig(a.ActionConfig)
			slackIDs[i] = c.IntegrationID
			toRead = append(toRead, c.IntegrationID)
		}
	}
	slack, err := models.SlackIntegrationsByID(ctx, h.db, toRead)
	if err != nil {
		return nil, err
	}
	out := make([]actionTargets, len(list))
	for i, a := range list {
		out[i] = actionTargets{Team: a.TeamName, Webhook: a.WebhookName, Slack: slack[slackIDs[i]]}
	}
	return out, nil
}

// automationInputOf describes a stored automation by names, the starting
// point of an edit (the wizard's fields, or a PATCH's unchanged fields).
func (h *Handler) automationInputOf(ctx context.Context, a *models.Automation, scope *automationScope) (automationInput, error) {
	t, err := h.actionTargetsOf(ctx, a)
	if err != nil {
		return automationInput{}, err
	}
	return automationInputFrom(a, scope, t), nil
}

// automationInputFrom is automationInputOf with the targets already read.
func automationInputFrom(a *models.Automation, scope *automationScope, t actionTargets) automationInput {
	enabled := a.Enabled
	in := automationInput{
		Name: a.Name, Description: a.Description, Enabled: &enabled, Scope: scope.names(),
		Event:           eventInput{Type: a.EventType, AliasRegex: a.AliasRegex},
		Action:          actionInput{Type: a.ActionType, Payload: a.Payload, Team: t.Team},
		RequireApproval: a.RequireApproval, ApprovalTimeout: models.FormatWindow(a.ApprovalTimeout),
	}
	if a.DedupeWindow > 0 {
		in.DedupeWindow = models.FormatWindow(a.DedupeWindow)
	}
	if runcond.IsRunEvent(a.EventType) {
		if cfg, err := runcond.Parse(a.EventType, a.EventConfig); err == nil {
			in.Event.setRunConfig(cfg)
		}
	}
	switch a.ActionType {
	case models.ActionSlack:
		c, _ := models.ParseSlackActionConfig(a.ActionConfig) // shown as stored, even if incomplete
		in.Action.Channel = c.Channel
		if t.Slack != nil {
			in.Action.Channel = slackChannelName(t.Slack)
		}
	case models.ActionLaunch:
		c, _ := models.ParseLaunchActionConfig(a.ActionConfig)
		in.Action.Queue, in.Action.Job, in.Action.JobVersion = c.Queue, c.Job, c.JobVersion
		in.Action.Overrides, in.Action.DestinationProject = c.Overrides, c.DestinationProject
	}
	if t.Webhook != nil {
		in.Action.Webhook = *t.Webhook
	}
	return in
}

// slackSpec resolves a Slack action's channel among the team's integrations.
func (h *Handler) slackSpec(ctx context.Context, team *models.Team, in actionInput, spec *models.AutomationSpec) error {
	// "channel" or "#channel"; "Workspace/#channel" when two connected
	// workspaces have a channel of that name.
	workspace, channel, qualified := strings.Cut(strings.TrimSpace(in.Channel), "/")
	if !qualified {
		workspace, channel = "", workspace
	}
	channel = strings.TrimPrefix(channel, "#")
	if channel == "" {
		return models.Invalid("action.channel", "choose a Slack channel team %s has connected", team.Name)
	}
	integrations, err := models.SlackIntegrationsOf(ctx, h.db, team.ID)
	if err != nil {
		return err
	}
	var found []models.SlackIntegration
	for _, si := range integrations {
		if si.ChannelName == channel && (!qualified || si.WorkspaceName == workspace) {
			found = append(found, si)
		}
	}
	switch len(found) {
	case 0:
		return models.Invalid("action.channel", "team %s has not connected a Slack channel #%s (Team Settings → Slack)", team.Name, channel)
	case 1:
		raw, err := json.Marshal(models.SlackActionConfig{IntegrationID: found[0].ID, Channel: found[0].ChannelName})
		spec.ActionConfig = string(raw)
		return err
	}
	names := make([]string, len(found))
	for i, si := range found {
		names[i] = si.WorkspaceName + "/#" + channel
	}
	return models.Invalid("action.channel", "#%s is connected in several workspaces: name one of %s", channel, strings.Join(names, ", "))
}

// launchSpec resolves a launch action: the team's queue, the job (a
// collection of type job), its version and the destination project.
func (h *Handler) launchSpec(ctx context.Context, u *models.User, team *models.Team, in actionInput, spec *models.AutomationSpec) error {
	c := models.LaunchActionConfig{Queue: in.Queue, Job: strings.TrimSpace(in.Job), JobVersion: strings.TrimSpace(in.JobVersion), Overrides: in.Overrides}
	if c.Queue == "" {
		return models.Invalid("action.queue", "choose a launch queue of team %s", team.Name)
	}
	q, err := models.QueueByName(ctx, h.db, team.ID, c.Queue)
	if errors.Is(err, models.ErrNotFound) {
		return models.Invalid("action.queue", "team %s has no launch queue named %q", team.Name, c.Queue)
	}
	if err != nil {
		return err
	}
	c.QueueID = q.ID
	parts := strings.Split(c.Job, "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return models.Invalid("action.job", "name the job as team/project/collection")
	}
	project, _, err := h.projectByPath(ctx, u, parts[0]+"/"+parts[1], "action.job")
	if err != nil {
		return err
	}
	job, err := models.CollectionInProject(ctx, h.db, project.ID, parts[2])
	if err != nil || job.Type != "job" {
		return models.Invalid("action.job", "%s is not an artifact collection of type job", c.Job)
	}
	c.JobCollectionID = job.ID
	if c.JobVersion == "" {
		c.JobVersion = "latest"
	}
	if _, err := models.ResolveVersion(ctx, h.db, job.ID, c.JobVersion); err != nil {
		return models.Invalid("action.job_version", "job %s has no version %q (use latest, vN or an alias)", c.Job, c.JobVersion)
	}
	c.DestinationProject = strings.TrimSpace(in.DestinationProject)
	if _, role, err := h.projectByPath(ctx, u, c.DestinationProject, "action.destination_project"); err != nil {
		return err
	} else if !models.CanWrite(u, role) {
		return models.Invalid("action.destination_project", "runs log into %s: you must be a member there", c.DestinationProject)
	}
	if _, err := models.OverridesObject(c.Overrides); err != nil {
		return err
	}
	raw, err := json.Marshal(c)
	spec.ActionConfig = string(raw)
	return err
}

// projectByPath resolves "team/project" and u's role in its team; a project
// that does not exist, or whose team u cannot see, is the same field error.
func (h *Handler) projectByPath(ctx context.Context, u *models.User, path, field string) (*models.Project, models.Role, error) {
	teamName, name, ok := strings.Cut(path, "/")
	if !ok || teamName == "" || name == "" {
		return nil, models.RoleNone, models.Invalid(field, "name the project as team/project")
	}
	noProject := models.Invalid(field, "there is no project %s", path)
	team, role, err := models.TeamByNameWithRole(ctx, h.db, teamName, u.ID)
	if errors.Is(err, models.ErrNotFound) || (err == nil && !models.CanView(u, role)) {
		return nil, models.RoleNone, noProject
	}
	if err != nil {
		return nil, models.RoleNone, err
	}
	p, err := models.ProjectByName(ctx, h.db, team.ID, name)
	if errors.Is(err, models.ErrNotFound) {
		return nil, models.RoleNone, noProject
	}
	if err != nil {
		return nil, models.RoleNone, err
	}
	return p, role, nil
}

// slackChannelName names an integration's channel unambiguously, as the
// API and the wizard show it: "Workspace/#channel".
func slackChannelName(si *models.SlackIntegration) string {
	return si.WorkspaceName + "/#" + si.ChannelName
}
