package handlers

import (
	"maps"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/views"
)

// wizardScope is the scope the wizard's hidden fields name (the automation
// being edited, or scope names), which the caller must administer, as
// for saving. Its errors are the route's answer (404, 403).
func (h *Handler) wizardScope(c echo.Context) (*automationScope, error) {
	ctx, u := c.Request().Context(), CurrentUser(c)
	if id := c.FormValue("automation_id"); id != "" {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return nil, models.ErrNotFound
		}
		a, s, err := h.automationFor(c, n, models.RoleAdmin)
		if err != nil {
			return nil, err
		}
		s.Editing = a
		return s, nil
	}
	s, err := h.resolveScope(ctx, u, scopeNames{Type: c.FormValue("scope_type"), Project: c.FormValue("scope_project"),
		Registry: c.FormValue("scope_registry"), Collection: c.FormValue("scope_collection")})
	if err != nil {
		return nil, err
	}
	if !s.CanAdmin(u) {
		return nil, Forbidden()
	}
	return s, nil
}

// wizardDraft reads the wizard's posted form into a draft automation for
// the Preview and Dry run panels; its errors are what the panel shows.
func (h *Handler) wizardDraft(c echo.Context, scope *automationScope) (models.AutomationSpec, error) {
	return h.draftOfForm(c, scope, wizardForm(c))
}

func (h *Handler) draftOfForm(c echo.Context, scope *automationScope, form views.Form) (models.AutomationSpec, error) {
	values := maps.Clone(form.Values) // the form shown keeps what the user typed
	if strings.TrimSpace(values["name"]) == "" {
		values["name"] = "(unnamed automation)"
	}
	spec, err := h.wizardSpec(c.Request().Context(), CurrentUser(c), scope, views.Form{Values: values, Errors: map[string]string{}}, 3, scope.Editing == nil)
	if err == nil {
		err = spec.Validate()
	}
	return spec, err
}

// wizardPanels renders the Details step's Preview and Dry run panels for
// the form as it stands; what is not complete yet is the panels' message.
func (h *Handler) wizardPanels(c echo.Context, scope *automationScope, form views.Form) (views.AutomationPreview, views.DryRun, error) {
	ctx, u := c.Request().Context(), CurrentUser(c)
	spec, err := h.draftOfForm(c, scope, form)
	if err != nil {
		msg, ok := previewError(err)
		if !ok {
			return views.AutomationPreview{}, views.DryRun{}, err
		}
		return views.AutomationPreview{Error: msg}, views.DryRun{Error: msg}, nil
	}
	p, err := h.buildPreview(ctx, u, scope, spec, 0)
	if err != nil {
		msg, ok := previewError(err)
		if !ok {
			return views.AutomationPreview{}, views.DryRun{}, err
		}
		p = &views.AutomationPreview{Error: msg}
	}
	r, err := h.dryRun(ctx, scope, spec, 0)
	if err != nil {
		return views.AutomationPreview{}, views.DryRun{}, err
	}
	return *p, *r, nil
}

// AutomationPreview is POST /automations/preview: the wizard's Preview
// panel (htmx), rendered for the chosen event or the most recent match.
func (h *Handler) AutomationPreview(c echo.Context) error {
	ctx, u := c.Request().Context(), CurrentUser(c)
	scope, err := h.wizardScope(c)
	if err != nil {
		return err
	}
	spec, err := h.wizardDraft(c, scope)
	var p *views.AutomationPreview
	if err == nil {
		p, err = h.buildPreview(ctx, u, scope, spec, eventIDParam(c.FormValue("event_id")))
	}
	if err != nil {
		msg, ok := previewError(err)
		if !ok {
			return err
		}
		p = &views.AutomationPreview{Error: msg}
	}
	return h.Render(c, http.StatusOK, views.AutomationPreviewPanel(*p))
}

// AutomationPreviewSend is POST /automations/preview/send: "Send as test"
// sends the previewed webhook request once with the Test panel's sender,
// for admins of the team that owns the webhook (as Test webhook, §9).
func (h *Handler) AutomationPreviewSend(c echo.Context) error {
	ctx, u := c.Request().Context(), CurrentUser(c)
	scope, err := h.wizardScope(c)
	if err != nil {
		return err
	}
	spec, err := h.wizardDraft(c, scope)
	if err != nil {
		msg, ok := previewError(err)
		if !ok {
			return err
		}
		return h.Render(c, http.StatusOK, views.WebhookTestResultView(views.WebhookTestResult{Error: msg}))
	}
	if spec.ActionType != models.ActionWebhook {
		return models.Invalid("action.type", "only webhook actions can be sent as a test")
	}
	if detail, err := h.integrationDetail(ctx, u, spec.TeamID); err != nil {
		return err
	} else if detail != models.DeliveryFull {
		return Forbidden()
	}
	a := spec.Draft()
	ev, err := h.previewTarget(c, u, scope, a)
	if err != nil {
		return err
	}
	team, err := models.TeamByID(ctx, h.db, a.TeamID)
	if err != nil {
		return err
	}
	w, err := models.WebhookByID(ctx, h.db, *a.WebhookID)
	if err != nil {
		return err
	}
	result, err := h.sendTestWebhook(ctx, team, w, a.Payload, ev.PayloadVars(a.Name))
	if err != nil {
		msg, ok := previewError(err)
		if !ok {
			return err
		}
		result = views.WebhookTestResult{Error: msg}
	}
	return h.Render(c, http.StatusOK, views.WebhookTestResultView(result))
}

// previewTarget is the event the preview showed: the chosen one, the most
// recent match, or the sample.
func (h *Handler) previewTarget(c echo.Context, u *models.User, scope *automationScope, a *models.Automation) (*models.Event, error) {
	ctx := c.Request().Context()
	if id := eventIDParam(c.FormValue("event_id")); id != 0 {
		return h.previewEventByID(ctx, a, id)
	}
	_, recent, err := models.MatchingEvents(ctx, h.db, a, models.EventScan{Keep: 1})
	if err != nil {
		return nil, err
	}
	if len(recent) > 0 {
		return &recent[0], nil
	}
	return h.sampleEvent(ctx, u, scope, a)
}

// AutomationDryRun is POST /automations/dry-run: the wizard's Dry run
// panel, "would have fired N times in the last 30 days".
func (h *Handler) AutomationDryRun(c echo.Context) error {
	scope, err := h.wizardScope(c)
	if err != nil {
		return err
	}
	spec, err := h.wizardDraft(c, scope)
	var r *views.DryRun
	if err == nil {
		days, _ := strconv.Atoi(c.FormValue("days"))
		r, err = h.dryRun(c.Request().Context(), scope, spec, days)
	}
	if err != nil {
		msg, ok := previewError(err)
		if !ok {
			return err
		}
		r = &views.DryRun{Error: msg}
	}
	return h.Render(c, http.StatusOK, views.DryRunPanel(*r))
}
