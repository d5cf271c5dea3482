package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/jobs"
	"github.com/automations-dev/automations/jobs/sender"
	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/payload"
	"github.com/automations-dev/automations/views"
)

// previewChoices is how many recent matching events the chooser offers.
const previewChoices = 10

// previewInput is POST /api/v1/automations/preview: an automation as for
// create plus, optionally, the stored event to render against.
type previewInput struct {
	automationInput
	EventID int64 `json:"event_id,omitempty"`
}

type previewEventJSON struct {
	ID      int64     `json:"id"`
	Time    time.Time `json:"time"`
	Version string    `json:"version"`
	Author  string    `json:"author"`
}

type previewJSON struct {
	// EventID is the stored event rendered; 0 with sample when none matched.
	EventID int64              `json:"event_id"`
	Sample  bool               `json:"sample"`
	Events  []previewEventJSON `json:"events"`
	Request *struct {
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body"`
	} `json:"request,omitempty"`
	Slack  json.RawMessage `json:"slack,omitempty"`
	Launch json.RawMessage `json:"launch,omitempty"`
}

// APIAutomationPreview is POST /api/v1/automations/preview: what the
// automation would send for the most recent stored event it matches (or
// event_id), secrets masked. The caller must administer the scope.
func (h *Handler) APIAutomationPreview(c echo.Context) error {
	ctx, u := c.Request().Context(), CurrentUser(c)
	var in previewInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	scope, err := h.adminScope(ctx, u, in.Scope)
	if err != nil {
		return err
	}
	spec, err := h.draftSpec(ctx, u, scope, in.automationInput)
	if err != nil {
		return err
	}
	p, err := h.buildPreview(ctx, u, scope, spec, in.EventID)
	if err != nil {
		return err
	}
	out := previewJSON{EventID: p.Event.ID, Sample: p.Sample, Events: []previewEventJSON{}}
	for _, e := range p.Events {
		out.Events = append(out.Events, previewEventJSON{ID: e.ID, Time: e.Time, Version: e.Version, Author: e.Author})
	}
	switch {
	case p.Webhook != nil:
		out.Request = &struct {
			Headers map[string]string `json:"headers"`
			Body    string            `json:"body"`
		}{headerMap(p.Webhook.Headers), p.Webhook.Body}
	case p.Slack != "":
		out.Slack = json.RawMessage(p.Slack)
	case p.Launch != "":
		out.Launch = json.RawMessage(p.Launch)
	}
	return c.JSON(http.StatusOK, out)
}

// draftSpec resolves an automation body for preview and dry run: as for
// create, but a name is not needed yet.
func (h *Handler) draftSpec(ctx context.Context, u *models.User, scope *automationScope, in automationInput) (models.AutomationSpec, error) {
	if strings.TrimSpace(in.Name) == "" {
		in.Name = "(unnamed automation)"
	}
	spec, err := h.automationSpec(ctx, u, scope, in)
	if err != nil {
		return spec, err
	}
	return spec, spec.Validate()
}

// buildPreview renders spec's action for event eventID (0: the most recent
// stored event it matches, or a sample event when none does).
func (h *Handler) buildPreview(ctx context.Context, u *models.User, scope *automationScope, spec models.AutomationSpec, eventID int64) (*views.AutomationPreview, error) {
	a := spec.Draft()
	_, recent, err := models.MatchingEvents(ctx, h.db, a, models.EventScan{Keep: previewChoices})
	if err != nil {
		return nil, err
	}
	p := &views.AutomationPreview{}
	for i := range recent {
		p.Events = append(p.Events, previewEvent(&recent[i]))
	}
	var ev *models.Event
	switch {
	case eventID != 0:
		if ev, err = h.previewEventByID(ctx, a, eventID); err != nil {
			return nil, err
		}
	case len(recent) > 0:
		ev = &recent[0]
	default:
		if ev, err = h.sampleEvent(ctx, u, scope, a); err != nil {
			return nil, err
		}
		p.Sample = true
	}
	p.Event = previewEvent(ev)
	switch a.ActionType {
	case models.ActionWebhook:
		err = h.previewWebhook(ctx, u, a, ev, p)
	case models.ActionSlack:
		err = h.previewSlack(ctx, a, ev, p)
	case models.ActionLaunch:
		err = h.previewLaunch(ctx, a, p)
	}
	return p, err
}

// previewEventByID is a stored event the draft matches (as if enabled);
// one of another scope is not found, one it does not match says why.
func (h *Handler) previewEventByID(ctx context.Context, a *models.Automation, id int64) (*models.Event, error) {
	ev, err := models.EventByID(ctx, h.db, id)
	if err != nil {
		return nil, &Error{Status: http.StatusNotFound, Field: "event_id", Message: "event_id: no such event in this scope", Cause: err}
	}
	on := *a
	on.Enabled = true
	m, ok := on.Explain(ev.MatchTarget())
	if m.Rule == models.MismatchScope {
		return nil, &Error{Status: http.StatusNotFound, Field: "event_id", Message: "event_id: no such event in this scope"}
	}
	if !ok {
		return nil, models.Invalid("event_id", "the automation would not fire for event %d: %s", id, m.Detail)
	}
	return ev, nil
}

func previewEvent(ev *models.Event) views.PreviewEvent {
	return views.PreviewEvent{ID: ev.ID, Time: ev.CreatedAt, Version: ev.Vars.ArtifactVersionString, Author: ev.Vars.EventAuthor, Type: ev.Type}
}

// sampleEvent is a made-up event of a's type from the scope's real names:
// its (or its first) collection, the user as author, an alias the regex
// accepts. It is not stored.
func (h *Handler) sampleEvent(ctx context.Context, u *models.User, scope *automationScope, a *models.Automation) (*models.Event, error) {
	s := &models.ArtifactScope{Project: scope.Project, Team: scope.Team, Registry: scope.Registry, Collection: &models.Collection{Name: "my-model"}}
	if a.CollectionID != nil {
		col, err := models.CollectionByID(ctx, h.db, *a.CollectionID)
		if err != nil {
			return nil, err
		}
		s.Collection = col
	} else {
		var cols []models.CollectionSummary
		var err error
		if scope.Project != nil {
			cols, err = models.CollectionsOfProject(ctx, h.db, scope.Project.ID)
		} else {
			cols, err = models.CollectionsOfRegistry(ctx, h.db, scope.Registry.ID)
		}
		if err != nil {
			return nil, err
		}
		if len(cols) > 0 {
			s.Collection = &models.Collection{ID: cols[0].ID, Name: cols[0].Name}
		}
	}
	ev := &models.Event{Type: a.EventType, ProjectID: a.ProjectID, RegistryID: a.RegistryID, CollectionID: s.Collection.ID, CreatedAt: time.Now().UTC()}
	ref, alias := "v0", ""
	if a.EventType == models.EventAddArtifactAlias {
		alias = sampleAlias(a.AliasRegex)
		ref = alias
	}
	ev.Vars = models.EventVars{
		EntityName: s.EntityName(h.orgName), ProjectName: s.ProjectName(), ArtifactCollectionName: s.Collection.Name,
		ArtifactVersion: models.ArtifactVersionRef(0), ArtifactVersionString: s.VersionString(h.orgName, ref),
		ArtifactMetadata: json.RawMessage(`{}`), EventAuthor: u.Username, EventType: a.EventType, Alias: alias,
	}
	return ev, nil
}

// sampleAlias is an alias the regex accepts: the regex itself when it is
// a plain name, else a usual one that matches.
func sampleAlias(regex string) string {
	re, err := models.CompileAliasRegex(regex)
	if err != nil {
		return "production"
	}
	plain := strings.TrimSuffix(strings.TrimPrefix(regex, "^"), "$")
	for _, c := range []string{plain, "production", "prod", "staging", "candidate", "latest-good"} {
		if c != "" && regexp.QuoteMeta(c) == c && re.Match(c) {
			return c
		}
	}
	return "production"
}

// previewWebhook renders the body exactly as the worker does (the same
// variables, RenderRedacted with the webhook's granted secrets) and the
// headers jobs/sender sets, the access token masked. Delivery id,
// timestamp and signatures are per delivery, so they differ when sent.
func (h *Handler) previewWebhook(ctx context.Context, u *models.User, a *models.Automation, ev *models.Event, p *views.AutomationPreview) error {
	resolved, err := models.ResolveWebhook(ctx, h.db, h.secrets, a.TeamID, *a.WebhookID)
	if err != nil {
		return err
	}
	w, err := models.WebhookByID(ctx, h.db, *a.WebhookID)
	if err != nil {
		return err
	}
	vars := ev.PayloadVars(a.Name)
	tpl, err := payload.Compile(a.Payload)
	if err != nil {
		return models.Invalid("action.payload", "%s", err.Error())
	}
	body, err := tpl.Render(vars, resolved.Secrets, resolved.AccessToken)
	if err != nil {
		return models.Invalid("action.payload", "%s", err.Error())
	}
	shown := body
	if len(resolved.Secrets) > 0 || resolved.AccessToken != "" {
		if shown, err = tpl.RenderRedacted(vars, w.Secrets); err != nil {
			return models.Invalid("action.payload", "%s", err.Error())
		}
	}
	req := sender.Request{URL: resolved.URL, Body: body, AccessToken: resolved.AccessToken, SigningSecret: resolved.SigningSecret,
		DeliveryID: "dlv_preview", Timestamp: time.Now()}
	detail, err := h.integrationDetail(ctx, u, a.TeamID)
	if err != nil {
		return err
	}
	r := &views.TestRequest{Method: http.MethodPost, Headers: sentHeaders(req), Body: redactor(resolved).String(string(shown))}
	if detail == models.DeliveryFull {
		r.URL = redactor(resolved).String(resolved.URL)
		p.CanSend = true
	}
	p.Webhook = r
	return nil
}

// integrationDetail is what u may see of an integration team's requests
// (its admins and site admins: the endpoint URL; §13).
func (h *Handler) integrationDetail(ctx context.Context, u *models.User, teamID int64) (models.DeliveryDetail, error) {
	return h.deliveryDetail(ctx, u, &models.Automation{TeamID: teamID})
}

// previewSlack builds the chat.postMessage body the Slack action posts.
func (h *Handler) previewSlack(ctx context.Context, a *models.Automation, ev *models.Event, p *views.AutomationPreview) error {
	cfg, err := models.ParseSlackActionConfig(a.ActionConfig)
	if err != nil {
		return err
	}
	integ, err := models.SlackIntegrationByID(ctx, h.db, cfg.IntegrationID)
	if err != nil {
		return err
	}
	path, err := models.ArtifactPagePath(ctx, h.db, ev)
	if err != nil {
		return err
	}
	msg := jobs.SlackMessage(integ.ChannelID, a.Name, ev.Vars, strings.TrimRight(h.baseURL, "/")+path)
	raw, err := json.Marshal(msg) // the bytes the action posts
	p.Slack = string(raw)
	return err
}

// previewLaunch is the run-queue item the launch action would create now
// (the job version is resolved when the action runs: "latest" may move).
func (h *Handler) previewLaunch(ctx context.Context, a *models.Automation, p *views.AutomationPreview) error {
	c, err := models.ParseLaunchActionConfig(a.ActionConfig)
	if err != nil {
		return err
	}
	v, err := models.ResolveVersion(ctx, h.db, c.JobCollectionID, c.JobVersion)
	if err != nil {
		return models.Invalid("action.job_version", "job %s has no version %q", c.Job, c.JobVersion)
	}
	cfg, err := models.JobConfig(v, c.Overrides)
	if err != nil {
		return err
	}
	raw, err := json.MarshalIndent(map[string]any{
		"queue": c.Queue, "job": c.Job, "job_version": v.Version(), "config": json.RawMessage(cfg),
		"destination_project": c.DestinationProject,
	}, "", "  ")
	p.Launch = string(raw)
	return err
}

// eventIDParam reads an optional event id form value.
func eventIDParam(s string) int64 {
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0
	}
	return id
}

// previewError is the message a panel shows for an automation that cannot
// be previewed yet; other errors are real failures.
func previewError(err error) (string, bool) {
	errs, _, ok := wizardErrors(err)
	if !ok {
		var he *Error
		if errors.As(err, &he) {
			return he.Message, true
		}
		return "", false
	}
	fields := slices.Sorted(maps.Keys(errs))
	msgs := make([]string, len(fields))
	for i, f := range fields {
		msgs[i] = f + ": " + errs[f]
	}
	return strings.Join(msgs, "; "), true
}
