package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/payload"
	"github.com/automations-dev/automations/models/runcond"
	"github.com/automations-dev/automations/views"
)

// eventLabels are the seeds' names for the events in the wizard.
var eventLabels = map[string]string{
	models.EventCreateArtifact:   "A new version of an artifact is created",
	models.EventAddArtifactAlias: "An artifact alias is added",
	models.EventLinkArtifact:     "A new artifact is linked to a registered model",
}

// wizardFields are the wizard's form fields: the API's fields by step.
var wizardFields = []struct {
	form, api string
	step      int
}{
	{"event_type", "event.type", 1},
	{"alias_regex", "event.alias_regex", 1},
	{"collection_filter", "scope.collection", 1},
	{"team", "action.team", 2},
	{"action_type", "action.type", 2},
	{"webhook", "action.webhook", 2},
	{"payload", "action.payload", 2},
	{"channel", "action.channel", 2},
	{"queue", "action.queue", 2},
	{"job", "action.job", 2},
	{"job_version", "action.job_version", 2},
	{"overrides", "action.overrides", 2},
	{"destination_project", "action.destination_project", 2},
	{"name", "name", 3},
	{"description", "description", 3},
	{"enabled", "enabled", 3},
	{"dedupe", "dedupe", 3},
	{"dedupe_window", "dedupe_window", 3},
	{"require_approval", "require_approval", 3},
	{"approval_timeout", "approval_timeout", 3},
}

// wizardForm reads the wizard's fields from the posted form.
func wizardForm(c echo.Context) views.Form {
	form := views.NewForm()
	for _, f := range wizardFields {
		form.Values[f.form] = c.FormValue(f.form)
	}
	readRunEventForm(c, form)
	return form
}

// routeScope is the project or registry of a route guarded by
// projectAccess or registryAccess, which already loaded it and the user's
// role there.
func routeScope(c echo.Context) *automationScope {
	if p := currentProject(c); p != nil {
		return &automationScope{Type: models.ScopeProject, Team: currentTeam(c), Project: p, Role: currentRole(c)}
	}
	return &automationScope{Type: models.ScopeRegistry, Registry: currentRegistry(c), Role: currentRole(c)}
}

// ProjectAutomationNew is GET and POST /projects/:team/:project/automations/new.
func (h *Handler) ProjectAutomationNew(c echo.Context) error {
	return h.newAutomationWizard(c, routeScope(c))
}

// RegistryAutomationNew is GET and POST /registries/:registry/automations/new.
func (h *Handler) RegistryAutomationNew(c echo.Context) error {
	return h.newAutomationWizard(c, routeScope(c))
}

// RegistryCollectionAutomationNew is GET and POST
// /registries/:registry/collections/:collection/automations/new.
func (h *Handler) RegistryCollectionAutomationNew(c echo.Context) error {
	scope := routeScope(c)
	coll, err := models.CollectionInRegistry(c.Request().Context(), h.db, scope.Registry.ID, c.Param("collection"))
	if err != nil {
		return noCollection(c.Param("collection"), err)
	}
	scope.Type, scope.Collection = models.ScopeRegistryCollection, coll
	return h.newAutomationWizard(c, scope)
}

func (h *Handler) newAutomationWizard(c echo.Context, scope *automationScope) error {
	u := CurrentUser(c)
	if !scope.CanAdmin(u) {
		return Forbidden()
	}
	w := wizard{scope: scope, postURL: scope.NewURL(), title: "Create automation", submit: "Create automation"}
	if c.Request().Method == http.MethodGet {
		form := views.NewForm()
		form.Values["enabled"] = "on"
		form.Values["action_type"] = models.ActionWebhook
		form.Values["job_version"] = "latest"
		form.Values["overrides"] = "{}"
		form.Values["dedupe_window"], form.Values["approval_timeout"] = "24h", "72h"
		if scope.Project != nil {
			form.Values["destination_project"] = scope.Team.Name + "/" + scope.Project.Name
		}
		if scope.Type == models.ScopeRegistryCollection {
			// The collection's … menu: its Registered model is chosen.
			form.Values["collection_filter"] = scope.Collection.Name
		}
		if events := models.EventTypesFor(scope.Type); len(events) > 0 {
			form.Values["event_type"] = events[0]
		}
		return h.renderWizard(c, w, form, 1, http.StatusOK)
	}
	return h.wizardStep(c, w)
}

// AutomationEdit is GET and POST /automations/:id/edit.
func (h *Handler) AutomationEdit(c echo.Context) error {
	ctx := c.Request().Context()
	a, scope, err := h.loadAutomationToChange(c)
	if err != nil {
		return err
	}
	w := wizard{scope: scope, existing: a, postURL: views.AutomationURL(a.ID) + "/edit", title: "Edit automation " + a.Name, submit: "Save automation"}
	if c.Request().Method == http.MethodGet {
		in, err := h.automationInputOf(ctx, a, scope)
		if err != nil {
			return err
		}
		form := views.NewForm()
		form.Values = map[string]string{
			"event_type": in.Event.Type, "alias_regex": in.Event.AliasRegex, "collection_filter": "",
			"team": in.Action.Team, "action_type": in.Action.Type, "webhook": in.Action.Webhook, "payload": in.Action.Payload,
			"name": in.Name, "description": in.Description, "enabled": "off",
			"channel": in.Action.Channel, "queue": in.Action.Queue, "job": in.Action.Job, "job_version": in.Action.JobVersion,
			"overrides": string(in.Action.Overrides), "destination_project": in.Action.DestinationProject,
		}
		if a.Enabled {
			form.Values["enabled"] = "on"
		}
		runEventFormValues(in.Event, form.Values)
		form.Values["dedupe"], form.Values["dedupe_window"] = "off", "24h"
		if in.DedupeWindow != "" {
			form.Values["dedupe"], form.Values["dedupe_window"] = "on", in.DedupeWindow
		}
		form.Values["require_approval"], form.Values["approval_timeout"] = "off", in.ApprovalTimeout
		if in.RequireApproval {
			form.Values["require_approval"] = "on"
		}
		if a.ScopeType == models.ScopeProject && scope.Collection != nil {
			form.Values["collection_filter"] = scope.Collection.Name
		}
		return h.renderWizard(c, w, form, 1, http.StatusOK)
	}
	return h.wizardStep(c, w)
}

// wizard is one run of the Create (or Edit) automation wizard.
type wizard struct {
	scope    *automationScope
	existing *models.Automation // nil when creating
	postURL  string
	title    string
	submit   string
}

// wizardStep handles a POST of the wizard: refresh the current step (a
// select changed), insert a template, move to another step (checking the
// steps being left) or save.
func (h *Handler) wizardStep(c echo.Context, w wizard) error {
	ctx, u := c.Request().Context(), CurrentUser(c)
	form := wizardForm(c)
	if params, err := c.FormParams(); err == nil && w.scope.Type == models.ScopeRegistryCollection && w.existing == nil {
		if _, sent := params["collection_filter"]; !sent {
			// A post that does not choose (a script) keeps the route's collection.
			form.Values["collection_filter"] = w.scope.Collection.Name
		}
	}
	step, _ := strconv.Atoi(c.FormValue("step"))
	step = min(max(step, 1), 3)
	if step == 3 {
		for _, box := range []string{"enabled", "dedupe", "require_approval"} {
			if form.Values[box] == "" {
				form.Values[box] = "off" // an unchecked box sends nothing
			}
		}
	}
	if c.FormValue("refresh") != "" {
		return h.renderWizard(c, w, form, step, http.StatusOK)
	}
	if c.FormValue("use_template") != "" {
		for _, t := range append(payload.Templates(), payload.RunTemplates()...) {
			if t.ID == c.FormValue("template") {
				form.Values["payload"] = t.Body
			}
		}
		return h.renderWizard(c, w, form, 2, http.StatusOK)
	}
	save := c.FormValue("go") == "save"
	target := 3
	if !save {
		target, _ = strconv.Atoi(c.FormValue("go"))
		target = min(max(target, 1), 3)
		if target <= step {
			return h.renderWizard(c, w, form, target, http.StatusOK)
		}
	}
	var spec models.AutomationSpec
	var err error
	if save {
		spec, err = h.wizardSaveSpec(ctx, u, w, form)
	} else {
		spec, err = h.wizardSpec(ctx, u, w.scope, form, target, w.existing == nil)
	}
	if err == nil && save {
		var saved *models.Automation
		if w.existing == nil {
			saved, err = h.createAutomation(c, w.scope, spec)
		} else {
			saved, err = w.existing, h.updateAutomation(c, w.scope, w.existing, spec)
		}
		if err == nil {
			h.flash(c, "success", "Automation "+saved.Name+" saved.")
			return redirect(c, views.AutomationURL(saved.ID))
		}
	}
	if err == nil {
		return h.renderWizard(c, w, form, target, http.StatusOK)
	}
	errs, status, ok := wizardErrors(err)
	if !ok {
		return err
	}
	// Every error is shown at once: beside its field on the step shown
	// (the first step with one) and in the summary above the steps.
	errStep := 3
	for api, message := range errs {
		field, fieldStep := api, 3
		for _, f := range wizardFields {
			if f.api == api {
				field, fieldStep = f.form, f.step
			}
		}
		if f, ok := wizardFieldOf(api); ok {
			field, fieldStep = f, 1 // run event parameters are on step 1
		}
		form.Errors[field] = message
		errStep = min(errStep, fieldStep)
	}
	return h.renderWizard(c, w, form, errStep, status)
}

// wizardErrors turns validation, conflict and field-bound errors (one or
// many, joined) into the form's messages by API field.
func wizardErrors(err error) (map[string]string, int, bool) {
	errs, status, ok := fieldErrors(err)
	var he *Error
	if errors.As(err, &he) && he.Field != "" {
		if !ok {
			errs, status, ok = map[string]string{}, he.Status, true
		}
		if _, seen := errs[he.Field]; !seen {
			errs[he.Field] = he.Message
		}
	}
	return errs, status, ok
}

// wizardSaveSpec checks the whole form for Create or Save, from any step,
// and gathers every problem: the event and details even when the action
// cannot be resolved, and the name's uniqueness in the scope.
func (h *Handler) wizardSaveSpec(ctx context.Context, u *models.User, w wizard, form views.Form) (models.AutomationSpec, error) {
	probe := models.AutomationSpec{
		Name: strings.TrimSpace(form.Value("name")), Description: form.Value("description"), Scope: w.scope.Type,
		EventType: form.Value("event_type"), AliasRegex: form.Value("alias_regex"), ActionType: "-",
	}
	w.scope.apply(&probe)
	spec, err := h.wizardSpec(ctx, u, w.scope, form, 3, w.existing == nil)
	if err == nil {
		err = spec.Validate()
	} else {
		// The action could not be resolved: still check the event and the
		// details, so the user sees those problems too.
		err = errors.Join(err, exceptAction(probe.Validate()))
	}
	if _, nameBad := fieldErrorsOf(err)["name"]; nameBad || probe.Name == "" {
		return spec, err
	}
	var id int64
	if w.existing != nil {
		id = w.existing.ID
	}
	return spec, errors.Join(err, models.CheckAutomationName(ctx, h.db, probe, id))
}

// exceptAction drops the action's errors from a probe's validation (the
// probe has no action yet).
func exceptAction(err error) error {
	var keep []error
	walkErrors(err, func(e error) {
		if ve, ok := e.(*models.ValidationError); ok && !strings.HasPrefix(ve.Field, "action.") {
			keep = append(keep, ve)
		}
	})
	return errors.Join(keep...)
}

func fieldErrorsOf(err error) map[string]string {
	errs, _, _ := fieldErrors(err)
	return errs
}

// wizardSpec checks the steps before upTo and builds the spec: step 1 the
// event (and collection filter), step 2 the action and payload, step 3
// everything.
func (h *Handler) wizardSpec(ctx context.Context, u *models.User, scope *automationScope, form views.Form, upTo int, creating bool) (models.AutomationSpec, error) {
	s := *scope
	if s.Registry != nil && creating {
		// Registered model (seed 000): every collection of the registry,
		// also future ones, or one collection.
		s.Type, s.Collection = models.ScopeRegistry, nil
		if name := form.Value("collection_filter"); name != "" {
			col, err := models.CollectionInRegistry(ctx, h.db, s.Registry.ID, name)
			if err != nil {
				return models.AutomationSpec{}, models.Invalid("scope.collection", "the registry has no collection named %q", name)
			}
			s.Type, s.Collection = models.ScopeRegistryCollection, col
		}
	}
	if s.Type == models.ScopeProject {
		s.Collection = nil
		if name := form.Value("collection_filter"); name != "" {
			col, err := models.CollectionInProject(ctx, h.db, s.Project.ID, name)
			if err != nil {
				return models.AutomationSpec{}, models.Invalid("scope.collection", "the project has no collection named %q", name)
			}
			s.Collection = col
		}
	}
	enabled := form.Value("enabled") != "off"
	in := automationInput{
		Name: form.Value("name"), Description: form.Value("description"), Enabled: &enabled,
		Event: eventInput{Type: form.Value("event_type"), AliasRegex: form.Value("alias_regex")},
		Action: actionInput{
			Type: form.Value("action_type"), Team: form.Value("team"), Webhook: form.Value("webhook"), Payload: form.Value("payload"),
			Channel: form.Value("channel"), Queue: form.Value("queue"), Job: form.Value("job"), JobVersion: form.Value("job_version"),
			DestinationProject: form.Value("destination_project"),
		},
	}
	if err := runEventInput(form, &in.Event); err != nil {
		return models.AutomationSpec{}, err
	}
	if form.Value("dedupe") == "on" {
		in.DedupeWindow = form.Value("dedupe_window")
		if strings.TrimSpace(in.DedupeWindow) == "" {
			return models.AutomationSpec{}, models.Invalid("dedupe_window", "say how long, e.g. 24h")
		}
	}
	in.RequireApproval, in.ApprovalTimeout = form.Value("require_approval") == "on", form.Value("approval_timeout")
	if o := strings.TrimSpace(form.Value("overrides")); o != "" {
		if !json.Valid([]byte(o)) {
			return models.AutomationSpec{}, models.Invalid("action.overrides", "is not valid JSON: write a JSON object, e.g. {\"lr\": 0.01}")
		}
		in.Action.Overrides = json.RawMessage(o)
	}
	// Step 1: the event alone.
	probe := models.AutomationSpec{Name: "-", Scope: s.Type, EventType: in.Event.Type, AliasRegex: in.Event.AliasRegex, ActionType: "-"}
	if runcond.IsRunEvent(in.Event.Type) {
		cfg := in.Event.runConfig()
		probe.RunEvent = &cfg
	}
	s.apply(&probe)
	if err := exceptAction(probe.Validate()); err != nil {
		return probe, err
	}
	if upTo < 3 {
		return probe, nil
	}
	spec, err := h.automationSpec(ctx, u, &s, in)
	if err != nil {
		return spec, err
	}
	// Step 2: the payload, before Details asks for a name.
	probe = spec
	probe.Name = "-"
	if err := probe.Validate(); err != nil {
		return spec, err
	}
	if form.Value("go") != "save" {
		return spec, nil
	}
	return spec, spec.Validate()
}

func isField(err error, field string) bool {
	var ve *models.ValidationError
	return errors.As(err, &ve) && ve.Field == field
}

// renderWizard shows the wizard at step: the whole page, or just the form
// for htmx.
func (h *Handler) renderWizard(c echo.Context, w wizard, form views.Form, step, status int) error {
	ctx, u := c.Request().Context(), CurrentUser(c)
	p := views.WizardProps{
		Title: w.title, ScopeLabel: w.scope.Label(), Step: step, PostURL: w.postURL, CancelURL: w.scope.ListURL(),
		Form: form, Templates: payload.Templates(), Variables: variablesOf(form.Value("event_type")), Submit: w.submit,
		Editing: w.existing != nil,
	}
	if runcond.IsRunEvent(form.Value("event_type")) {
		p.Templates = payload.RunTemplates()
		if step == 1 {
			preview, err := h.runPreview(ctx, w.scope, form)
			if err != nil {
				return err
			}
			p.RunPreview = preview
		}
	}
	p.Trail = []views.Link{{Label: w.scope.Label(), Href: w.scope.ListURL()}}
	if w.existing != nil {
		p.CancelURL = views.AutomationURL(w.existing.ID)
		p.Trail = append(p.Trail, views.Link{Label: w.existing.Name, Href: p.CancelURL})
		p.Scope.AutomationID = w.existing.ID
	} else {
		n := w.scope.names()
		p.Scope = views.WizardScope{Type: n.Type, Project: n.Project, Registry: n.Registry, Collection: n.Collection}
	}
	p.Trail = append(p.Trail, views.Link{Label: w.title, Href: w.postURL})
	for _, e := range models.EventTypesFor(w.scope.Type) {
		label := eventLabels[e]
		if label == "" {
			label = runEventLabels[e]
		}
		p.Events = append(p.Events, views.Option{Value: e, Label: label + " (" + e + ")"})
	}
	if w.scope.Type == models.ScopeProject {
		cols, err := models.CollectionsOfProject(ctx, h.db, w.scope.Project.ID)
		if err != nil {
			return err
		}
		for _, col := range cols {
			p.Collections = append(p.Collections, views.Option{Value: col.Name, Label: col.Name + " (" + col.Type + ")"})
		}
	}
	if w.scope.Registry != nil && w.existing == nil {
		cols, err := models.CollectionsOfRegistry(ctx, h.db, w.scope.Registry.ID)
		if err != nil {
			return err
		}
		p.CollectionLabel, p.AnyCollection = "Registered model", "All collections in the registry (also future ones)"
		for _, col := range cols {
			p.Collections = append(p.Collections, views.Option{Value: col.Name, Label: col.Name})
		}
		// The Registered model select says which collections; the label
		// names the registry only, whichever page the wizard started from.
		p.ScopeLabel = "Registry " + w.scope.Registry.Name
		if len(cols) == 0 {
			p.ScopeLabel += " (every collection, also future ones)"
		}
	}
	teams, err := models.TeamsOf(ctx, h.db, u)
	if err != nil {
		return err
	}
	var writable []models.Team
	// Webhook URLs are for the owning team's admins only (DESIGN.md §13).
	seesURLs := map[int64]bool{}
	for _, t := range teams {
		seesURLs[t.ID] = models.DeliveryDetailFor(u, t.Role) == models.DeliveryFull
		if models.CanWrite(u, t.Role) {
			writable = append(writable, t.Team)
			p.Teams = append(p.Teams, views.Option{Value: t.Name, Label: t.Name})
		}
	}
	if form.Values["team"] == "" && len(p.Teams) > 0 {
		form.Values["team"] = p.Teams[0].Value
	}
	// Only a team the user may write to lists its integrations: the form's
	// team name is whatever the browser sent.
	if i := slices.IndexFunc(writable, func(t models.Team) bool { return t.Name == form.Value("team") }); i >= 0 {
		team := &writable[i]
		hooks, err := models.WebhooksOf(ctx, h.db, team.ID)
		if err != nil {
			return err
		}
		for _, wh := range hooks {
			label := wh.Name
			if seesURLs[team.ID] {
				label += " (" + wh.URL + ")"
			}
			p.Webhooks = append(p.Webhooks, views.Option{Value: wh.Name, Label: label})
		}
		slacks, err := models.SlackIntegrationsOf(ctx, h.db, team.ID)
		if err != nil {
			return err
		}
		for _, si := range slacks {
			p.Channels = append(p.Channels, views.Option{Value: slackChannelName(&si), Label: "#" + si.ChannelName + " (" + si.WorkspaceName + ")"})
		}
		queues, err := models.QueuesOf(ctx, h.db, team.ID)
		if err != nil {
			return err
		}
		for _, q := range queues {
			p.Queues = append(p.Queues, views.Option{Value: q.Name, Label: q.Name})
		}
		if form.Value("action_type") == models.ActionLaunch {
			if err := h.launchChoices(ctx, u, team, form, &p); err != nil {
				return err
			}
		}
	}
	if step == 3 {
		if p.Preview, p.DryRun, err = h.wizardPanels(c, w.scope, form); err != nil {
			return err
		}
	}
	if isHTMX(c) {
		// htmx swaps only 2xx answers: field errors come back as 200.
		return h.Render(c, http.StatusOK, views.AutomationWizard(p))
	}
	return h.Render(c, status, views.AutomationWizardPage(p))
}

// ProjectAutomations is GET /projects/:team/:project/automations.
func (h *Handler) ProjectAutomations(c echo.Context) error {
	return h.renderAutomationList(c)
}

// RegistryAutomations is GET /registries/:registry/automations.
func (h *Handler) RegistryAutomations(c echo.Context) error {
	return h.renderAutomationList(c)
}

func (h *Handler) renderAutomationList(c echo.Context) error {
	ctx, u, scope := c.Request().Context(), CurrentUser(c), routeScope(c)
	nav := listNav(c, scope.ListURL())
	nav.State = ""
	var projectID, registryID *int64
	if scope.Project != nil {
		projectID = &scope.Project.ID
	} else {
		registryID = &scope.Registry.ID
	}
	list, more, err := models.AutomationsPage(ctx, h.db, projectID, registryID, nil, nav.Query, pageOf(nav))
	if err != nil {
		return err
	}
	nav.More = more
	rows, err := h.automationRows(ctx, u, scope, list)
	if err != nil {
		return err
	}
	table := views.AutomationsTable(views.AutomationsProps{Rows: rows, NewURL: scope.NewURL(), CanCreate: scope.CanAdmin(u), Nav: &nav})
	if scope.Type == models.ScopeProject {
		shell, err := h.ProjectShell(c, "", views.Link{Label: "Automations"})
		if err != nil {
			return err
		}
		return h.Render(c, http.StatusOK, views.ProjectAutomationsPage(shell, table))
	}
	shell := views.RegistryShellProps{Registry: scope.Registry, Trail: []views.Link{{Label: "Automations"}}}
	return h.Render(c, http.StatusOK, views.RegistryAutomationsPage(shell, table))
}

// collectionAutomations is the Automations section of a registry
// collection page: every automation that applies to it (registry-wide
// ones too), unpaged since they are few.
func (h *Handler) collectionAutomations(c echo.Context, r *models.Registry, coll *models.Collection) (templ.Component, error) {
	ctx, u := c.Request().Context(), CurrentUser(c)
	scope := &automationScope{Type: models.ScopeRegistryCollection, Registry: r, Collection: coll, Role: currentRole(c)}
	list, err := h.listAutomations(ctx, scope)
	if err != nil {
		return nil, err
	}
	rows, err := h.automationRows(ctx, u, scope, list)
	if err != nil {
		return nil, err
	}
	return views.AutomationsTable(views.AutomationsProps{Rows: rows, NewURL: scope.NewURL(), CanCreate: scope.CanAdmin(u)}), nil
}

// automationRows are a scope's automations as list rows.
func (h *Handler) automationRows(ctx context.Context, u *models.User, scope *automationScope, list []models.AutomationListing) ([]views.AutomationRow, error) {
	targets, err := h.listingTargets(ctx, list)
	if err != nil {
		return nil, err
	}
	rows := make([]views.AutomationRow, len(list))
	for i, a := range list {
		rows[i] = views.AutomationRow{
			ID: a.ID, Name: a.Name, Trigger: a.EventType, ActionType: actionLabel(a.ActionType),
			Enabled: a.Enabled, LastStatus: a.LastState, CanAdmin: scope.CanAdmin(u),
			Scope: scopeColumn(&a, scope),
		}
		if a.AliasRegex != "" {
			rows[i].Trigger += " ~ " + a.AliasRegex
		}
		rows[i].ActionName, rows[i].Queue = actionNames(&a.Automation, targets[i])
	}
	return rows, nil
}

// scopeColumn says what an automation of a list watches: the whole
// project or registry, or one collection (with its page).
func scopeColumn(a *models.AutomationListing, scope *automationScope) views.Link {
	switch {
	case a.ScopeType == models.ScopeRegistry:
		return views.Link{Label: "Registry-wide"}
	case a.ScopeType == models.ScopeRegistryCollection && scope.Registry != nil:
		return views.Link{Label: "Collection " + a.CollectionName, Href: views.RegistryCollectionURL(scope.Registry.Name, a.CollectionName)}
	case a.CollectionName != "" && scope.Project != nil:
		return views.Link{Label: "Collection " + a.CollectionName, Href: views.ProjectCollectionURL(scope.Team.Name, scope.Project.Name, a.CollectionName)}
	}
	return views.Link{Label: "Whole project"}
}

// actionNames is what an automation's action targets, and its queue for
// launch actions.
func actionNames(a *models.Automation, t actionTargets) (name, queue string) {
	switch a.ActionType {
	case models.ActionWebhook:
		if t.Webhook == nil {
			return "(deleted webhook)", ""
		}
		return *t.Webhook, ""
	case models.ActionSlack:
		c, _ := models.ParseSlackActionConfig(a.ActionConfig) // shown as stored, even if incomplete
		return "#" + c.Channel, ""
	case models.ActionLaunch:
		c, _ := models.ParseLaunchActionConfig(a.ActionConfig)
		return c.Job + ":" + c.JobVersion, c.Queue
	}
	return "", ""
}

func actionLabel(t string) string {
	switch t {
	case models.ActionWebhook:
		return "Webhook"
	case models.ActionSlack:
		return "Slack notification"
	case models.ActionLaunch:
		return "Launch job"
	}
	return t
}

// AutomationDetails is GET /automations/:id: configuration and history.
func (h *Handler) AutomationDetails(c echo.Context) error {
	a, scope, err := h.loadAutomation(c)
	if err != nil {
		return err
	}
	return h.renderAutomationDetails(c, http.StatusOK, a, scope, defaultRetryForm())
}

// renderAutomationDetails shows the details page; retry is the Retry
// failed form (with its error after a refused retry).
func (h *Handler) renderAutomationDetails(c echo.Context, status int, a *models.Automation, scope *automationScope, retry views.Form) error {
	ctx, u := c.Request().Context(), CurrentUser(c)
	history, err := h.automationHistory(c, a, scope)
	if err != nil {
		return err
	}
	targets, err := h.actionTargetsOf(ctx, a)
	if err != nil {
		return err
	}
	name, queue := actionNames(a, targets)
	action := actionLabel(a.ActionType) + " " + name
	if queue != "" {
		action += " on queue " + queue
	}
	action += " (team " + targets.Team + ")"
	var items []models.RunItemWithQueue
	if a.ActionType == models.ActionLaunch {
		if items, err = models.RunItemsOfAutomation(ctx, h.db, a.ID); err != nil {
			return err
		}
	}
	chart, err := h.chartProps(ctx, c, models.RetryTarget{AutomationID: a.ID}, views.AutomationURL(a.ID)+"/chart", "automation "+a.Name)
	if err != nil {
		return err
	}
	disabled, canReenable, err := h.disabledIntegration(ctx, u, a)
	if err != nil {
		return err
	}
	return h.Render(c, status, views.AutomationDetailsPage(views.AutomationDetailsProps{
		Automation: *a, Back: views.Link{Label: "Automations", Href: scope.ListURL()}, Scope: scope.Label(),
		Action: strings.TrimSpace(action), CanAdmin: scope.CanAdmin(u), History: history, RunItems: items,
		Chart: chart, RetryForm: retry,
		Disabled: disabled, IntegrationTeam: targets.Team, CanReenable: canReenable,
	}))
}

// AutomationDeliveries is GET /automations/:id/deliveries: the history
// fragment htmx refreshes while deliveries are in flight.
func (h *Handler) AutomationDeliveries(c echo.Context) error {
	a, scope, err := h.loadAutomation(c)
	if err != nil {
		return err
	}
	return h.renderHistory(c, a, scope)
}

func (h *Handler) renderHistory(c echo.Context, a *models.Automation, scope *automationScope) error {
	history, err := h.automationHistory(c, a, scope)
	if err != nil {
		return err
	}
	return h.Render(c, http.StatusOK, views.DeliveryHistory(history))
}

// AutomationToggle is POST /automations/:id/toggle: enable or disable.
func (h *Handler) AutomationToggle(c echo.Context) error {
	a, scope, err := h.loadAutomationToChange(c)
	if err != nil {
		return err
	}
	if err := h.setAutomationEnabled(c, scope, a, !a.Enabled); err != nil {
		return err
	}
	state := "enabled"
	if a.Enabled {
		state = "disabled"
	}
	h.flash(c, "success", "Automation "+a.Name+" "+state+".")
	return redirect(c, views.AutomationURL(a.ID))
}

// AutomationDelete is POST /automations/:id/delete.
func (h *Handler) AutomationDelete(c echo.Context) error {
	a, scope, err := h.loadAutomationToChange(c)
	if err != nil {
		return err
	}
	if err := h.deleteAutomation(c, scope, a); err != nil {
		return err
	}
	h.flash(c, "success", "Automation "+a.Name+" deleted. Deliveries already queued still go out.")
	return redirect(c, scope.ListURL())
}

// variablesOf lists the payload variables that apply to event: the
// wizard shows no variable that saving would refuse.
func variablesOf(event string) []payload.VariableDoc {
	var out []payload.VariableDoc
	for _, v := range payload.Variables() {
		if len(v.Events) == 0 || slices.Contains(v.Events, payload.EventType(event)) {
			out = append(out, v)
		}
	}
	return out
}
