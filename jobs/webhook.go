package jobs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/jobs/sender"
	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/payload"
	"github.com/automations-dev/automations/models/redact"
	"github.com/automations-dev/automations/models/secretbox"
)

// WebhookAction sends a delivery's rendered payload to its webhook. The
// webhook and its secrets are read and decrypted at send time, so secrets
// are never stored with the delivery.
type WebhookAction struct {
	DB      *gorm.DB
	Secrets *secretbox.Box
	Sender  *sender.Sender

	// Events never change once written; webhooks and their secrets may,
	// so they are kept only for a second (a rotation applies within it).
	events    *cache[int64, payload.Vars] // the event's variables, automation_name unset
	webhooks  *cache[[2]int64, resolvedWebhook]
	templates *cache[int64, *payload.Compiled] // by automation revision, which never changes
}

// NewWebhookAction builds the webhook action.
func NewWebhookAction(db *gorm.DB, secrets *secretbox.Box, s *sender.Sender) *WebhookAction {
	return &WebhookAction{
		DB: db, Secrets: secrets, Sender: s,
		events:    newCache[int64, payload.Vars](time.Hour, 4096),
		webhooks:  newCache[[2]int64, resolvedWebhook](time.Second, 1024),
		templates: newCache[int64, *payload.Compiled](time.Hour, 4096),
	}
}

// Perform renders, sends and reports one attempt.
func (a *WebhookAction) Perform(ctx context.Context, d *models.Delivery) Outcome {
	var out Outcome
	if d.WebhookID == nil {
		return Outcome{Err: errors.New("the automation has no webhook"), Permanent: true}
	}
	vars, err := a.events.get(d.EventID, func() (payload.Vars, error) {
		return models.EventPayloadVars(ctx, a.DB, d.EventID)
	})
	if err != nil {
		return Outcome{Err: fmt.Errorf("load event: %w", err), Permanent: errors.Is(err, models.ErrNotFound)}
	}
	cached, err := a.webhooks.get([2]int64{d.TeamID, *d.WebhookID}, func() (resolvedWebhook, error) {
		wh, err := models.ResolveWebhook(ctx, a.DB, a.Secrets, d.TeamID, *d.WebhookID)
		if err != nil {
			return resolvedWebhook{}, err
		}
		return resolvedWebhook{wh, webhookRedactor(wh)}, nil
	})
	wh := cached.ResolvedWebhook
	if errors.Is(err, models.ErrNotFound) {
		return Outcome{Err: errors.New("the webhook was deleted"), Permanent: true}
	}
	if err != nil {
		return Outcome{Err: fmt.Errorf("load webhook: %w", err)}
	}
	vars.AutomationName = d.AutomationName // vars is a copy; its metadata map is only read
	out.Attempt = models.DeliveryAttempt{RequestURL: wh.URL}
	out.Redactor = cached.redactor
	tpl, err := a.templates.get(d.RevisionID, func() (*payload.Compiled, error) { return payload.Compile(d.PayloadTemplate) })
	if err != nil {
		out.Err, out.Permanent = fmt.Errorf("render payload: %w", err), true
		return out
	}
	body, err := tpl.Render(vars, wh.Secrets, wh.AccessToken)
	if err != nil {
		out.Err, out.Permanent = fmt.Errorf("render payload: %w", err), true
		return out
	}
	if len(wh.Secrets) == 0 && wh.AccessToken == "" || !tpl.UsesSecrets() {
		// The template placed nothing secret in the body: history keeps it
		// as sent (the runner's redactor still removes any secret value
		// that came in with the event's data).
		out.Attempt.RequestBody = string(body)
	} else {
		names := make([]string, 0, len(wh.Secrets))
		for n := range wh.Secrets {
			names = append(names, n)
		}
		redacted, _ := tpl.RenderRedacted(vars, names)
		out.Attempt.RequestBody = string(redacted)
	}
	now := time.Now()
	req := sender.Request{
		URL: wh.URL, Body: body, AccessToken: wh.AccessToken, SigningSecret: wh.SigningSecret,
		DeliveryID: d.UID, Timestamp: now,
	}
	// Checked at send time: a cached webhook must not outlive its overlap.
	if now.Before(wh.PreviousSigningUntil) {
		req.PreviousSigningSecret = wh.PreviousSigningSecret
	}
	resp, err := a.Sender.Send(ctx, req)
	out.Attempt.DurationMS = resp.Duration.Milliseconds()
	out.Attempt.RequestHeaders = shownHeaders(resp.RequestHeaders)
	if err != nil {
		out.Err = err
		// A blocked endpoint stays blocked; retrying cannot help.
		out.Permanent = errors.Is(err, sender.ErrBlocked) || errors.Is(err, sender.ErrInvalidURL)
		return out
	}
	status := resp.Status
	out.Attempt.ResponseStatus = &status
	out.Attempt.ResponseHeaders = formatHeaders(resp.Headers)
	out.Attempt.ResponseBody = string(resp.Body)
	out.Attempt.ResponseTruncated = resp.Truncated
	if status < 200 || status > 299 {
		out.Err = fmt.Errorf("the endpoint answered %d %s", status, http.StatusText(status))
		out.RetryAfter = parseRetryAfter(resp.Headers.Get("Retry-After"), time.Now())
	}
	return out
}

// resolvedWebhook is a webhook ready to send and its redactor, built once
// per cache entry (it is hundreds of encoded forms per secret).
type resolvedWebhook struct {
	*models.ResolvedWebhook
	redactor *redact.Redactor
}

// webhookRedactor removes every secret value a webhook's request may carry:
// access token, signing secret and granted secrets.
func webhookRedactor(wh *models.ResolvedWebhook) *redact.Redactor {
	values := []string{wh.AccessToken, wh.SigningSecret, wh.PreviousSigningSecret}
	for _, v := range wh.Secrets {
		values = append(values, v)
	}
	return redact.New(values...)
}

// shownHeaders is what history keeps of the headers sent: the access
// token redacted, nothing else secret (signatures are of the body).
func shownHeaders(hs []sender.Header) string {
	n := 0
	for _, h := range hs {
		n += len(h.Name) + len(h.Value) + 3
	}
	var b strings.Builder
	b.Grow(n + len(payload.Redacted))
	for i, h := range hs {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(h.Name)
		b.WriteString(": ")
		if h.Name == "Authorization" {
			b.WriteString("Bearer " + payload.Redacted)
		} else {
			b.WriteString(h.Value)
		}
	}
	return b.String()
}

func formatHeaders(h http.Header) string {
	keys := make([]string, 0, len(h))
	n := 0
	for k, vs := range h {
		keys = append(keys, k)
		for _, v := range vs {
			n += len(k) + len(v) + 3
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	b.Grow(n)
	for _, k := range keys {
		for _, v := range h[k] {
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(k)
			b.WriteString(": ")
			b.WriteString(v)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// parseRetryAfter reads delta-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
