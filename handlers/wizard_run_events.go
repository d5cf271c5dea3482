package handlers

import (
	"context"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/runcond"
	"github.com/automations-dev/automations/models/runs"
	"github.com/automations-dev/automations/views"
)

// runEventLabels name the run events in the wizard.
var runEventLabels = map[string]string{
	runcond.RunState:        "A run changes state",
	runcond.RunMetric:       "A run metric crosses a threshold",
	runcond.RunMetricChange: "A run metric changes by an amount",
	runcond.RunMetricZScore: "A run metric is an outlier (z-score)",
}

// runEventFields are the wizard's run event fields and the API's names.
var runEventFields = []struct{ form, api string }{
	{"states", "event.states"}, {"run_name_regex", "event.run_name_regex"}, {"run_user", "event.user"},
	{"metric", "event.metric"}, {"window", "event.window"}, {"agg", "event.agg"}, {"op", "event.op"},
	{"threshold", "event.threshold"}, {"prior_window", "event.prior_window"}, {"change_type", "event.change_type"},
	{"direction", "event.direction"}, {"amount", "event.amount"}, {"cooldown", "event.cooldown"},
}

// readRunEventForm copies the run event fields of the request into form;
// the state checkboxes (or the hidden field carrying them) join with ",".
func readRunEventForm(c echo.Context, form views.Form) {
	for _, f := range runEventFields {
		form.Values[f.form] = c.FormValue(f.form)
	}
	if params, err := c.FormParams(); err == nil {
		form.Values["states"] = strings.Join(params["states"], ",")
	}
}

// runEventInput fills in's run event parameters from the wizard's form;
// numbers that do not parse are errors on their field.
func runEventInput(form views.Form, in *eventInput) error {
	if !runcond.IsRunEvent(in.Type) {
		return nil
	}
	for _, s := range strings.Split(form.Value("states"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			in.States = append(in.States, s)
		}
	}
	in.RunNameRegex, in.User, in.Metric = form.Value("run_name_regex"), form.Value("run_user"), form.Value("metric")
	in.Agg, in.Op, in.ChangeType = form.Value("agg"), form.Value("op"), form.Value("change_type")
	in.Direction, in.Cooldown = form.Value("direction"), form.Value("cooldown")
	var err error
	if in.Window, err = formInt(form, "window"); err != nil {
		return err
	}
	if in.PriorWindow, err = formInt(form, "prior_window"); err != nil {
		return err
	}
	if in.Threshold, err = formFloat(form, "threshold"); err != nil {
		return err
	}
	in.Amount, err = formFloat(form, "amount")
	return err
}

func formInt(form views.Form, name string) (int, error) {
	v := strings.TrimSpace(form.Value(name))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, models.Invalid("event."+name, "must be a whole number, e.g. 5")
	}
	if n == 0 {
		return 0, models.Invalid("event."+name, "must be between 1 and %d", runcond.MaxWindow)
	}
	return n, nil
}

func formFloat(form views.Form, name string) (*float64, error) {
	v := strings.TrimSpace(form.Value(name))
	if v == "" {
		return nil, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return nil, models.Invalid("event."+name, "must be a number, e.g. 0.2")
	}
	return &f, nil
}

// runEventFormValues puts a stored automation's run event parameters into
// the wizard's form, for editing.
func runEventFormValues(e eventInput, values map[string]string) {
	values["states"] = strings.Join(e.States, ",")
	values["run_name_regex"], values["run_user"], values["metric"] = e.RunNameRegex, e.User, e.Metric
	values["agg"], values["op"], values["change_type"] = e.Agg, e.Op, e.ChangeType
	values["direction"], values["cooldown"] = e.Direction, e.Cooldown
	if e.Window > 0 {
		values["window"] = strconv.Itoa(e.Window)
	}
	if e.PriorWindow > 0 {
		values["prior_window"] = strconv.Itoa(e.PriorWindow)
	}
	if e.Threshold != nil {
		values["threshold"] = strconv.FormatFloat(*e.Threshold, 'g', -1, 64)
	}
	if e.Amount != nil {
		values["amount"] = strconv.FormatFloat(*e.Amount, 'g', -1, 64)
	}
}

// wizardFieldOf maps an API field of a run event to the wizard's field.
func wizardFieldOf(api string) (string, bool) {
	for _, f := range runEventFields {
		if f.api == api {
			return f.form, true
		}
	}
	return "", false
}

// runPreviewRuns is how many of the project's newest runs the preview shows.
const runPreviewRuns = 10

// runPreview evaluates the wizard's run event on the project's newest
// runs, when the form holds a valid one (errors show when moving on).
func (h *Handler) runPreview(ctx context.Context, scope *automationScope, form views.Form) ([]views.RunPreviewRow, error) {
	typ := form.Value("event_type")
	if scope.Project == nil || !runcond.IsRunEvent(typ) {
		return nil, nil
	}
	ev := eventInput{Type: typ}
	if runEventInput(form, &ev) != nil {
		return nil, nil
	}
	cfg := ev.runConfig()
	if cfg.Normalize(typ) != nil {
		return nil, nil
	}
	rows, err := runs.Preview(ctx, h.db, scope.Project.ID, typ, &cfg, runPreviewRuns)
	if err != nil {
		return nil, err
	}
	out := make([]views.RunPreviewRow, len(rows))
	for i, r := range rows {
		row := views.RunPreviewRow{RunName: r.RunName, State: r.State, Held: r.Held,
			URL: runs.RunPath(scope.Team.Name, scope.Project.Name, r.RunID)}
		switch {
		case !r.Matches:
			row.Outcome = "no: the run-name or user filter leaves it out"
		case r.Unavailable != "":
			row.Outcome = "no: " + r.Unavailable
		case r.Held && typ == runcond.RunState:
			row.Outcome = "yes: it is " + r.State
		case r.Held:
			row.Outcome = "yes, first at step " + strconv.FormatInt(r.Step, 10) + " (" + cfg.Metric + " " + r.Value + ")"
		default:
			row.Outcome = "no"
		}
		out[i] = row
	}
	return out, nil
}
