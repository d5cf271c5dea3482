package views

import (
	"strconv"
	"strings"
)

// Panels of the Team Settings page that can be open (SettingsPanel.Open).
const (
	PanelNewSecret   = "new-secret"
	PanelEditSecret  = "edit-secret"
	PanelNewWebhook  = "new-webhook"
	PanelEditWebhook = "edit-webhook"
	PanelTestWebhook = "test-webhook"
)

// SettingsPanel is the one secrets or webhooks form of Team Settings that
// is open, with what was typed and the errors beside its fields. A secret's
// value is never put back into a form.
type SettingsPanel struct {
	Open    string // one of the Panel* constants, "" for none
	Name    string // the secret or webhook it is about (edit, test)
	Form    Form
	Granted []string // webhook forms: the checked secrets
	Test    *WebhookTest
	// TestPayload and FormTest are a New or Edit webhook form's Test: the
	// payload typed and what the send of the unsaved values did.
	TestPayload string
	FormTest    *WebhookTestResult
}

func (p SettingsPanel) is(open, name string) bool { return p.Open == open && p.Name == name }

// formFor is the panel's form when it is the open one, else an empty form.
func (p SettingsPanel) formFor(open, name string) Form {
	if p.is(open, name) {
		return p.Form
	}
	return NewForm()
}

// formTestPayload is the test payload a webhook form shows: what was typed,
// when the form is the one that was just tested.
func formTestPayload(p SettingsPanel, current bool) string {
	if current {
		return p.TestPayload
	}
	return ""
}

func (p SettingsPanel) grantedFor(open, name string) []string {
	if p.is(open, name) {
		return p.Granted
	}
	return nil
}

// WebhookTest is the Test webhook panel: the payload typed and, after
// Test webhook, what happened.
type WebhookTest struct {
	Team    string
	Webhook string
	URL     string
	Payload string
	Result  *WebhookTestResult
}

// WebhookTestResult is one test send. Secrets are already shown as ••••.
type WebhookTestResult struct {
	Error    string // why nothing (or no answer) came back; "" on an answer
	Request  *TestRequest
	Response *TestResponse
	Duration int64 // milliseconds
}

// TestRequest is the request as sent, secrets redacted.
type TestRequest struct {
	Method  string
	URL     string
	Headers []Header
	Body    string
}

// TestResponse is the endpoint's answer, body capped.
type TestResponse struct {
	Status     int
	StatusText string
	Headers    []Header
	Body       string
	Truncated  bool
}

// Header is one header line.
type Header struct{ Name, Value string }

func teamPath(team string, parts ...string) string {
	return "/teams/" + team + "/" + strings.Join(parts, "/")
}

func byLine(who string) string {
	if who == "" {
		return "a removed user"
	}
	return who
}

func statusLine(r *TestResponse) string {
	s := strconv.Itoa(r.Status)
	if r.StatusText != "" {
		s += " " + r.StatusText
	}
	return s
}

func statusClass(status int) string {
	if status >= 200 && status < 300 {
		return "badge ok"
	}
	return "badge failed"
}

func requestText(r *TestRequest) string {
	return r.Method + " " + r.URL + "\n" + headerText(r.Headers) + "\n" + r.Body
}

func headerText(hs []Header) string {
	var b strings.Builder
	for _, h := range hs {
		b.WriteString(h.Name)
		b.WriteString(": ")
		b.WriteString(h.Value)
		b.WriteByte('\n')
	}
	return b.String()
}

func secretsSummary(names []string) string {
	if len(names) == 0 {
		return "—"
	}
	return strings.Join(names, ", ")
}
