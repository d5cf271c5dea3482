package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/automations-dev/automations/models"
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
}

type eventInput struct {
	Type       string `json:"type"`
	AliasRegex string `json:"alias_regex,omitempty"`
}

type actionInput struct {
	Type    string `json:"type"`
	Team    string `json:"team"`
	Webhook string `json:"webhook,omitempty"`
	// Payload is the template's text (a JSON document as a string).
	Payload string `json:"payload,omitempty"`
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
	if spec.ActionType == "" {
		spec.ActionType = models.ActionWebhook
	}
	if in.Action.Team == "" {
		return spec, models.Invalid("action.team", "choose the team that owns the integration")
	}
	team, err := models.TeamByName(ctx, h.db, in.Action.Team)
	if errors.Is(err, models.ErrNotFound) {
		return spec, models.Invalid("action.team", "there is no team named %q", in.Action.Team)
	}
	if err != nil {
		return spec, err
	}
	role, err := models.TeamRole(ctx, h.db, team.ID, u.ID)
	if err != nil {
		return spec, err
	}
	if !models.CanWrite(u, role) {
		return spec, &Error{Status: http.StatusForbidden, Field: "action.team",
			Message: "only members of team " + team.Name + " (not viewers) can use its integrations"}
	}
	spec.TeamID = team.ID
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
	return spec, nil
}

// automationInputOf describes a stored automation by names, the starting
// point of an edit (the wizard's fields, or a PATCH's unchanged fields).
func (h *Handler) automationInputOf(ctx context.Context, a *models.Automation, scope *automationScope) (automationInput, error) {
	enabled := a.Enabled
	in := automationInput{
		Name: a.Name, Description: a.Description, Enabled: &enabled, Scope: scope.names(),
		Event:  eventInput{Type: a.EventType, AliasRegex: a.AliasRegex},
		Action: actionInput{Type: a.ActionType, Payload: a.Payload},
	}
	team, err := models.TeamByID(ctx, h.db, a.TeamID)
	if err != nil {
		return in, err
	}
	in.Action.Team = team.Name
	if a.WebhookID != nil {
		wh, err := models.WebhookByID(ctx, h.db, *a.WebhookID)
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			return in, err
		}
		if wh != nil {
			in.Action.Webhook = wh.Name
		}
	}
	return in, nil
}
