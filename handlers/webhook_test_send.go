package handlers

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/jobs/sender"
	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/payload"
	"github.com/automations-dev/automations/models/redact"
	"github.com/automations-dev/automations/views"
)

// defaultTestPayload fills the Test webhook panel's textarea.
const defaultTestPayload = `{
  "event_type": "${event_type}",
  "artifact_version_string": "${artifact_version_string}",
  "event_author": "${event_author}"
}`

// WebhookTestPanel is GET /teams/:team/webhooks/:name/test: the … menu's
// Test. htmx gets the panel alone; a plain request gets the page with it open.
func (h *Handler) WebhookTestPanel(c echo.Context) error {
	t := currentTeam(c)
	w, err := models.WebhookByName(c.Request().Context(), h.db, t.ID, c.Param("name"))
	if err != nil {
		return err
	}
	test := views.WebhookTest{Team: t.Name, Webhook: w.Name, URL: w.URL, Payload: defaultTestPayload}
	if isHTMX(c) {
		return h.Render(c, http.StatusOK, views.WebhookTestPanel(test))
	}
	return h.renderSettings(c, http.StatusOK, views.NewForm(), views.SettingsPanel{Open: views.PanelTestWebhook, Name: w.Name, Test: &test}, views.NewForm())
}

// WebhookTestSend is POST /teams/:team/webhooks/:name/test: sends the
// payload once and shows the request (secrets as ••••) and the answer.
// htmx gets the result fragment (200 even for a bad payload, so htmx swaps
// it in); a plain form post gets the page with the panel open.
func (h *Handler) WebhookTestSend(c echo.Context) error {
	ctx, t := c.Request().Context(), currentTeam(c)
	w, err := models.WebhookByName(ctx, h.db, t.ID, c.Param("name"))
	if err != nil {
		return err
	}
	template := c.FormValue("payload")
	result, err := h.testWebhook(ctx, t, CurrentUser(c), w, template)
	status := http.StatusOK
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		result = views.WebhookTestResult{Error: "Payload: " + ve.Message}
		status = http.StatusUnprocessableEntity
	case err != nil:
		return err
	}
	if isHTMX(c) {
		return h.Render(c, http.StatusOK, views.WebhookTestResultView(result))
	}
	test := views.WebhookTest{Team: t.Name, Webhook: w.Name, URL: w.URL, Payload: template, Result: &result}
	return h.renderSettings(c, status, views.NewForm(), views.SettingsPanel{Open: views.PanelTestWebhook, Name: w.Name, Test: &test}, views.NewForm())
}

type testRequestJSON struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

type testResponseJSON struct {
	Status    int               `json:"status"`
	Headers   map[string]string `json:"headers"`
	Body      string            `json:"body"`
	Truncated bool              `json:"truncated"`
}

type testJSON struct {
	Request    *testRequestJSON  `json:"request"`
	Response   *testResponseJSON `json:"response"`
	DurationMS int64             `json:"duration_ms"`
	Error      string            `json:"error,omitempty"`
}

func headerMap(hs []views.Header) map[string]string {
	out := make(map[string]string, len(hs))
	for _, h := range hs {
		if prev, ok := out[h.Name]; ok {
			out[h.Name] = prev + ", " + h.Value
		} else {
			out[h.Name] = h.Value
		}
	}
	return out
}

// APIWebhookTest is POST /api/v1/teams/:team/webhooks/:name/test {payload}
// → {request, response: {status, headers, body}, duration_ms}. An endpoint
// that could not be reached (or was blocked) is still a 200: the test ran,
// and error says why there is no response. A bad payload is a 422.
func (h *Handler) APIWebhookTest(c echo.Context) error {
	ctx, t := c.Request().Context(), currentTeam(c)
	w, err := models.WebhookByName(ctx, h.db, t.ID, c.Param("name"))
	if err != nil {
		return err
	}
	var body struct {
		Payload json.RawMessage `json:"payload"`
	}
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	// payload is the template's text (a JSON string, as in automations);
	// a JSON object is accepted as written too.
	template := string(body.Payload)
	var s string
	if json.Unmarshal(body.Payload, &s) == nil {
		template = s
	}
	if string(body.Payload) == "null" {
		template = ""
	}
	result, err := h.testWebhook(ctx, t, CurrentUser(c), w, template)
	if err != nil {
		return err
	}
	out := testJSON{DurationMS: result.Duration, Error: result.Error}
	if r := result.Request; r != nil {
		out.Request = &testRequestJSON{Method: r.Method, URL: r.URL, Headers: headerMap(r.Headers), Body: r.Body}
	}
	if r := result.Response; r != nil {
		out.Response = &testResponseJSON{Status: r.Status, Headers: headerMap(r.Headers), Body: r.Body, Truncated: r.Truncated}
	}
	return c.JSON(http.StatusOK, out)
}

// testWebhook renders template for the webhook with sample event values and
// its real secrets, sends it once, and describes what happened with every
// secret value shown as ••••. A template that does not validate or render is
// a ValidationError on "payload"; nothing is sent then.
func (h *Handler) testWebhook(ctx context.Context, t *models.Team, u *models.User, w *models.Webhook, template string) (views.WebhookTestResult, error) {
	return h.sendTestWebhook(ctx, t, w, template, sampleVars(t, u))
}

// sendTestWebhook is testWebhook with the event variables given: the
// automation preview's "Send as test" sends a real event's.
func (h *Handler) sendTestWebhook(ctx context.Context, t *models.Team, w *models.Webhook, template string, vars payload.Vars) (views.WebhookTestResult, error) {
	resolved, err := models.ResolveWebhook(ctx, h.db, h.secrets, t.ID, w.ID)
	if err != nil {
		return views.WebhookTestResult{}, err
	}
	return h.sendTestWith(ctx, w, resolved, template, vars)
}

// sendTest is the Test panel's send, for a saved webhook (testWebhook) or
// the values of a New or Edit form (WebhookTestUnsaved): w says what the
// payload may use, resolved holds the secret values.
func (h *Handler) sendTest(ctx context.Context, t *models.Team, u *models.User, w *models.Webhook, resolved *models.ResolvedWebhook, template string) (views.WebhookTestResult, error) {
	return h.sendTestWith(ctx, w, resolved, template, sampleVars(t, u))
}

// orEmptyObject is what an empty payload sends (DESIGN.md §6).
func orEmptyObject(template string) string {
	if strings.TrimSpace(template) == "" {
		return "{}"
	}
	return template
}

// sendTestWith renders template with vars, sends it once and describes
// what happened with every secret value shown as ••••.
func (h *Handler) sendTestWith(ctx context.Context, w *models.Webhook, resolved *models.ResolvedWebhook, template string, vars payload.Vars) (views.WebhookTestResult, error) {
	template = orEmptyObject(template)
	if err := payload.Validate(template, w.PayloadContext("")); err != nil {
		return views.WebhookTestResult{}, models.Invalid("payload", "%s", err.Error())
	}
	body, err := payload.Render(template, vars, resolved.Secrets, resolved.AccessToken)
	if err != nil {
		return views.WebhookTestResult{}, models.Invalid("payload", "%s", err.Error())
	}
	shown, err := payload.RenderRedacted(template, vars, w.PayloadSecrets())
	if err != nil {
		return views.WebhookTestResult{}, models.Invalid("payload", "%s", err.Error())
	}
	req := sender.Request{
		URL: resolved.URL, Body: body, AccessToken: resolved.AccessToken, SigningSecret: resolved.SigningSecret,
		DeliveryID: "test_" + rand.Text(), Timestamp: time.Now(),
	}
	if req.Timestamp.Before(resolved.PreviousSigningUntil) {
		req.PreviousSigningSecret = resolved.PreviousSigningSecret // signed as a delivery now would be
	}
	red := redactor(resolved)
	redact := red.String
	result := views.WebhookTestResult{Request: &views.TestRequest{
		Method: http.MethodPost, URL: redact(resolved.URL), Headers: sentHeaders(req), Body: redact(string(shown)),
	}}
	resp, sendErr := h.sender.Send(ctx, req)
	result.Duration = resp.Duration.Milliseconds()
	if sendErr != nil {
		result.Error = redact(h.describeSendError(resolved.URL, sendErr))
	}
	if resp.Status != 0 {
		result.Response = &views.TestResponse{
			Status: resp.Status, StatusText: http.StatusText(resp.Status),
			Headers:   redactHeaders(resp.Headers, redact),
			Body:      strings.ToValidUTF8(redactBody(red, resp.Body, resp.Truncated), "\uFFFD"),
			Truncated: resp.Truncated,
		}
	}
	return result, nil
}

// sentHeaders lists the headers jobs/sender sets for req, in its order, with
// the access token redacted. web's tests compare it with what a receiver got.
func sentHeaders(req sender.Request) []views.Header {
	var hs []views.Header
	for _, h := range sender.Headers(req, payload.Redacted) {
		hs = append(hs, views.Header{Name: h.Name, Value: h.Value})
	}
	return hs
}

// redactor removes every secret value the webhook holds, in every encoding
// an endpoint may echo it in (models/redact): an endpoint that echoes the
// request, or an error that quotes it, must not put a secret on the page.
func redactor(r *models.ResolvedWebhook) *redact.Redactor {
	values := []string{r.AccessToken, r.SigningSecret, r.PreviousSigningSecret}
	for _, v := range r.Secrets {
		values = append(values, v)
	}
	return redact.New(values...)
}

// redactBody redacts a response body; one cut off at the cap may end
// inside a value (see redact.Redactor.Truncated).
func redactBody(r *redact.Redactor, body []byte, truncated bool) string {
	if truncated {
		return r.Truncated(string(body))
	}
	return r.String(string(body))
}

func redactHeaders(h http.Header, redact func(string) string) []views.Header {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names)
	var out []views.Header
	for _, name := range names {
		for _, v := range h[name] {
			out = append(out, views.Header{Name: redact(name), Value: redact(v)})
		}
	}
	return out
}

// describeSendError says, for people, why a test send got no answer.
func (h *Handler) describeSendError(url string, err error) string {
	var blocked *sender.BlockedError
	var invalid *sender.InvalidURLError
	switch {
	case errors.As(err, &blocked):
		return "Blocked by SSRF protection: " + blocked.Reason + ". Nothing was sent to that address; an operator can allow internal targets with ALLOWED_TARGETS."
	case errors.As(err, &invalid):
		if h.sender.ValidateURL(url) != nil {
			return "Not sent: the webhook URL " + invalid.Reason + ". Edit the webhook."
		}
		return "Blocked a redirect: the URL the endpoint redirected to " + invalid.Reason + "."
	case errors.Is(err, sender.ErrTooManyRedirects):
		return "The endpoint redirected too many times: " + err.Error() + "."
	case errors.Is(err, context.DeadlineExceeded):
		return "The endpoint did not answer in time (" + err.Error() + ")."
	}
	return fmt.Sprintf("Could not reach the endpoint: %v.", err)
}

// sampleVars are the event variables of a test send: made-up values in the
// shapes a real event has.
func sampleVars(t *models.Team, u *models.User) payload.Vars {
	return payload.Vars{
		EntityName:             t.Name,
		ProjectName:            "sample-project",
		EventType:              string(payload.AddArtifactAlias),
		EventAuthor:            u.Username,
		ArtifactCollectionName: "sample-model",
		ArtifactVersion:        "wandb-artifact://_id/" + base64.StdEncoding.EncodeToString([]byte("Artifact:0")),
		ArtifactVersionString:  t.Name + "/sample-project/sample-model:production",
		ArtifactVersionIndex:   0,
		AutomationName:         "test-webhook",
		Alias:                  "production",
		ArtifactMetadata:       map[string]json.RawMessage{},
	}
}
