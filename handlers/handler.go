// Package handlers holds one file per screen or API resource. A handler
// parses and validates input, calls models, and renders a views component
// or JSON. No SQL here.
package handlers

import (
	"log/slog"
	"time"

	"github.com/gorilla/sessions"
	"gorm.io/gorm"

	"github.com/automations-dev/automations/jobs/mailer"
	"github.com/automations-dev/automations/jobs/sender"
	"github.com/automations-dev/automations/jobs/slackclient"
	"github.com/automations-dev/automations/models/people"
	"github.com/automations-dev/automations/models/runcond"
	"github.com/automations-dev/automations/models/secretbox"
)

// SessionName is the cookie holding the signed-in session.
const SessionName = "automations_session"

// AttemptLimiter slows down password guessing. Reserve counts an attempt
// for an email and a client address before the password is checked, or
// says how long to wait; Succeeded gives back what a right password used.
type AttemptLimiter interface {
	Reserve(email, ip string) (bool, time.Duration)
	Succeeded(email, ip string)
}

// Deps are the handlers' dependencies, built once by web.
type Deps struct {
	DB       *gorm.DB
	Sessions sessions.Store
	Logger   *slog.Logger
	Limiter  AttemptLimiter
	OrgName  string
	BaseURL  string
	// Secrets seals and unseals team secrets (and other values at rest).
	Secrets *secretbox.Box
	// Sender is the SSRF-safe webhook client: URL checks at save, test sends.
	Sender *sender.Sender
	// LaunchLease is how long a claim or heartbeat holds a run-queue item.
	LaunchLease time.Duration
	// Slack is the Slack app behind Connect Slack.
	Slack SlackConfig
	// OIDC is the single sign-on client; its zero value turns SSO off.
	OIDC OIDCConfig
	// PasswordLogin false refuses POST /login and hides the password form.
	PasswordLogin bool
	// SessionLimits end sign-in sessions (SESSION_IDLE_TIMEOUT, SESSION_MAX_AGE).
	SessionLimits people.SessionLimits
	// Mailer mails invitation links; nil when SMTP_URL is unset.
	Mailer *mailer.Mailer
	// Metrics counts what handlers do beyond HTTP requests; nil counts nothing.
	Metrics Metrics
}

// Metrics is what handlers report to GET /metrics (web/metrics implements it).
type Metrics interface {
	// RunHistoryRowsIngested counts rows accepted by POST /api/v1/runs/{id}/history.
	RunHistoryRowsIngested(n int)
}

// SlackConfig is the Slack app's OAuth client (SLACK_CLIENT_ID,
// SLACK_CLIENT_SECRET) and Slack's API base URL (SLACK_API_URL). An empty
// ClientID turns Connect Slack into setup instructions.
type SlackConfig struct {
	ClientID     string
	ClientSecret string
	APIURL       string
}

// Handler serves every route; its methods are the actions.
type Handler struct {
	db       *gorm.DB
	sessions sessions.Store
	log      *slog.Logger
	limiter  AttemptLimiter
	limits   people.SessionLimits
	orgName  string
	baseURL  string
	secrets  *secretbox.Box
	sender   *sender.Sender
	wake     func()
	lease    time.Duration
	slackApp SlackConfig
	slack    *slackclient.Client
	// oidc is nil when single sign-on is off.
	oidc          *oidcClient
	passwordLogin bool
	mailer        *mailer.Mailer
	metrics       Metrics
	// conditions keeps run automations' parsed conditions across requests.
	conditions *runcond.Cache
}

// New builds the Handler.
func New(d Deps) *Handler {
	return &Handler{
		db:       d.DB,
		sessions: d.Sessions,
		log:      d.Logger,
		limiter:  d.Limiter,
		limits:   d.SessionLimits,
		orgName:  d.OrgName,
		baseURL:  d.BaseURL,
		secrets:  d.Secrets,
		sender:   d.Sender,
		lease:    d.LaunchLease,
		slackApp: d.Slack,
		slack:    slackclient.New(d.Slack.APIURL, nil),

		oidc:          newOIDCClient(d.OIDC),
		passwordLogin: d.PasswordLogin,
		mailer:        d.Mailer,
		metrics:       d.Metrics,
		conditions:    runcond.NewCache(),
	}
}

// SetWake sets the function called after requests that make deliveries
// due commit (redeliver, approve, retry, re-enable). Requests writing
// events need not call it: their event transactions hand their deliveries
// over or wake the runner themselves (models.EventTransaction).
// Call it before serving.
func (h *Handler) SetWake(f func()) { h.wake = f }

// wakeDeliveries tells the delivery runner that new deliveries may be due.
func (h *Handler) wakeDeliveries() {
	if h.wake != nil {
		h.wake()
	}
}

// countRunHistoryRows reports rows of run history accepted to the metrics,
// if the handler has them (POST /api/v1/runs/{id}/history calls it).
func (h *Handler) countRunHistoryRows(n int) {
	if h.metrics != nil {
		h.metrics.RunHistoryRowsIngested(n)
	}
}
