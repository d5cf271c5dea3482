// Package views holds the templ components: the layout, one file per screen
// and a few shared pieces. Components take typed props and never query.
package views

import (
	"strconv"
	"time"

	"context"

	"github.com/automations-dev/automations/models"
)

// Flash is a one-time message shown at the top of the next page.
type Flash struct {
	Kind    string // "success" or "error"
	Message string
}

// Request is what every page needs from the request: who is signed in, the
// CSRF token for forms and htmx, and pending flash messages.
type Request struct {
	User    *models.User
	CSRF    string
	Flashes []Flash
	Path    string
	// Location is the reader's time zone (static/app.js tells it);
	// nil writes times in UTC.
	Location *time.Location
}

type requestKey struct{}

// WithRequest stores r in ctx for the components rendered with it.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestOf returns the Request stored by WithRequest.
func RequestOf(ctx context.Context) Request {
	r, _ := ctx.Value(requestKey{}).(Request)
	return r
}

// Form carries a form's submitted values and the errors beside its fields.
type Form struct {
	Values map[string]string
	Errors map[string]string
	// IDPrefix keeps field ids unique on pages with several forms of the
	// same fields (Team Settings), so each label names its own input.
	IDPrefix string
}

// WithIDPrefix is the form with its field ids prefixed.
func (f Form) WithIDPrefix(p string) Form { f.IDPrefix = p; return f }

// ID is the id of a field's input, which its label points at.
func (f Form) ID(name string) string { return "f-" + f.IDPrefix + name }

// NewForm returns an empty form.
func NewForm() Form { return Form{Values: map[string]string{}, Errors: map[string]string{}} }

// Value is the submitted value of a field.
func (f Form) Value(name string) string { return f.Values[name] }

// Error is the message beside a field, "" when it is fine.
func (f Form) Error(name string) string { return f.Errors[name] }

// HasErrors reports whether any field has an error.
func (f Form) HasErrors() bool { return len(f.Errors) > 0 }

func csrfHeaders(ctx context.Context) string {
	return `{"X-CSRF-Token": "` + RequestOf(ctx).CSRF + `"}`
}

func navClass(ctx context.Context, prefix string) string {
	p := RequestOf(ctx).Path
	if len(p) >= len(prefix) && p[:len(prefix)] == prefix {
		return "nav-link active"
	}
	return "nav-link"
}

// crumbHref is a breadcrumb's address: its own, or the page's when it has none.
func crumbHref(ctx context.Context, l Link) string {
	if l.Href != "" {
		return l.Href
	}
	return RequestOf(ctx).Path
}

// Link is a labelled URL.
type Link struct {
	Label string
	Href  string
}

func roleOptions() []string {
	out := make([]string, len(models.Roles))
	for i, r := range models.Roles {
		out[i] = string(r)
	}
	return out
}

func roleLabel(r models.Role) string {
	if r == models.RoleNone {
		return "site admin"
	}
	return string(r)
}

func valueOr(v, fallback string) string {
	if v == "" {
		return fallback
	}
	return v
}

func memberURL(base string, userID int64, action string) string {
	return base + "/" + strconv.FormatInt(userID, 10) + "/" + action
}

func tabClass(active bool) string {
	if active {
		return "tab active"
	}
	return "tab"
}

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return t.Format("2006-01-02 15:04")
}

func apiKeyRevokeURL(id int64) string {
	return "/settings/api-keys/" + strconv.FormatInt(id, 10) + "/revoke"
}

func stepClass(current, step int) string {
	switch {
	case current == step:
		return "step active"
	case current > step:
		return "step done"
	}
	return "step"
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func anyInFlight(ds []models.DeliveryWithAttempts) bool {
	for _, d := range ds {
		if d.InFlight() {
			return true
		}
	}
	return false
}

func sidebarClass(active bool) string {
	if active {
		return "active"
	}
	return ""
}

// actionTypeOptions are the wizard's action types, named as in the seeds.
func actionTypeOptions() []Option {
	return []Option{
		{Value: models.ActionWebhook, Label: "Webhooks"},
		{Value: models.ActionSlack, Label: "Slack notification"},
		{Value: models.ActionLaunch, Label: "Jobs (launch)"},
	}
}
