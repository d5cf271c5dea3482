package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"gorm.io/gorm"

	"github.com/automations-dev/automations/handlers"
	"github.com/automations-dev/automations/jobs/mailer"
	"github.com/automations-dev/automations/jobs/sender"
	"github.com/automations-dev/automations/models/people"
	"github.com/automations-dev/automations/models/secretbox"
	"github.com/automations-dev/automations/static"
	"github.com/automations-dev/automations/web/metrics"
)

// Server is the assembled web application.
type Server struct {
	echo     *echo.Echo
	db       *gorm.DB
	sessions sessions.Store
	log      *slog.Logger
	h        *handlers.Handler
	secrets  *secretbox.Box
	sender   *sender.Sender
	limits   people.SessionLimits
	hsts     bool // BASE_URL is https: every answer says Strict-Transport-Security
	metrics  *metrics.Metrics
	// scrape serves GET /metrics, behind METRICS_TOKEN when set.
	scrape http.Handler
	// handoff receives the deliveries of events requests commit.
	handoff *deliveryHandoff
}

// New wires the routes and middleware. It does not listen. It opens the
// secrets keeper (SECRETS_KEEPER_URL, else keys.Encryption) and the webhook
// sender (ALLOWED_TARGETS); Close releases them.
func New(cfg Config, keys Keys, db *gorm.DB, log *slog.Logger) (*Server, error) {
	if err := cfg.checkSignIn(); err != nil {
		return nil, err
	}
	snd, err := sender.New(sender.Config{AllowedTargets: cfg.AllowedTargets})
	if err != nil {
		return nil, fmt.Errorf("ALLOWED_TARGETS: %w", err)
	}
	// Opening a keeper only builds a client; no request is made here.
	box, err := secretbox.Open(context.Background(), cfg.SecretsKeeperURL, keys.Encryption)
	if err != nil {
		snd.Close()
		return nil, err
	}
	trusted, err := trustedProxyRanges(cfg.TrustedProxies)
	if err != nil {
		snd.Close()
		_ = box.Close()
		return nil, err
	}
	mail, err := mailer.New(cfg.SMTPURL, cfg.SMTPFrom)
	if err != nil {
		snd.Close()
		_ = box.Close()
		return nil, err
	}
	limits := people.SessionLimits{IdleTimeout: cfg.SessionIdleTimeout, MaxAge: cfg.SessionMaxAge}
	if limits.MaxAge <= 0 {
		limits.MaxAge = people.DefaultSessionMaxAge
	}
	// The cookie holds only the session row's token; the row decides
	// whether it is still good.
	// Encrypted as well as signed: flashes may carry an invitation link.
	store := sessions.NewCookieStore(keys.Session, CookieBlockKey(keys.Session))
	store.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   int(limits.MaxAge.Seconds()),
		HttpOnly: true,
		Secure:   cfg.SecureCookies(),
		SameSite: http.SameSiteLaxMode,
	}
	store.MaxAge(store.Options.MaxAge) // the signature's age limit too
	// The server's own Prometheus registry (no global one), shared with an
	// in-process worker through WithMetrics.
	m, err := metrics.New(db, log)
	if err != nil {
		snd.Close()
		_ = box.Close()
		return nil, fmt.Errorf("metrics: %w", err)
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.IPExtractor = clientIPExtractor(trusted)
	s := &Server{echo: e, db: db, sessions: store, log: log, secrets: box, sender: snd, limits: limits, hsts: cfg.SecureCookies(),
		metrics: m, scrape: m.Handler(cfg.MetricsToken), handoff: &deliveryHandoff{}}
	lease := cfg.LaunchLease
	if lease <= 0 {
		lease = DefaultLaunchLease
	}
	s.h = handlers.New(handlers.Deps{
		DB:       db,
		Sessions: store,
		Logger:   log,
		Limiter:  NewLoginLimiter(DefaultEmailThrottle, DefaultIPThrottle, time.Now),
		OrgName:  cfg.OrgName,
		BaseURL:  cfg.BaseURL,
		Secrets:  box,
		Sender:   snd,
		// LaunchLease is how long an agent holds a claimed run-queue item.
		LaunchLease: lease,
		Mailer:      mail,
		Slack:       handlers.SlackConfig{ClientID: cfg.SlackClientID, ClientSecret: cfg.SlackClientSecret, APIURL: cfg.SlackAPIURL},

		// Single sign-on (OIDC_*) and whether passwords still sign in.
		OIDC:          oidcDeps(cfg, keys),
		PasswordLogin: cfg.PasswordLogin.On(),
		// SessionLimits end sign-in sessions after idling or at their age.
		SessionLimits: limits,
		Metrics:       m,
	})
	e.HTTPErrorHandler = s.handleError
	e.Use(s.requestLog)
	e.Use(middleware.Recover())
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		XSSProtection:         "0",
		ContentTypeNosniff:    "nosniff",
		XFrameOptions:         "DENY",
		ReferrerPolicy:        "same-origin",
		ContentSecurityPolicy: "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
	}))
	// History batches (up to 10,000 rows) have their own, larger limit
	// (handlers.MaxHistoryBody).
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: "2M", Skipper: isRunHistory}))
	e.Use(s.loadSessionUser)
	e.Use(middleware.CSRFWithConfig(middleware.CSRFConfig{
		// The JSON API authenticates with Bearer keys only, never cookies,
		// so a cross-site page cannot act through it.
		Skipper:        isAPI,
		TokenLookup:    "header:X-CSRF-Token,form:_csrf",
		CookieName:     "_csrf",
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSecure:   cfg.SecureCookies(),
		CookieSameSite: http.SameSiteLaxMode,
		ErrorHandler: func(err error, c echo.Context) error {
			return &handlers.Error{Status: http.StatusForbidden, Message: "This form has expired or did not come from this site. Reload the page and try again.", Cause: err}
		},
	}))
	e.Use(textInput)
	e.Use(s.withDeliveryHandoff)
	e.StaticFS("/static", static.Files)
	s.routes()
	return s, nil
}

// Metrics is the server's registry and counters, for an in-process worker
// (WithMetrics).
func (s *Server) Metrics() *metrics.Metrics { return s.metrics }

// Close releases the secrets keeper and the sender's idle connections; call
// it after the HTTP server has shut down.
func (s *Server) Close() error {
	s.sender.Close()
	return s.secrets.Close()
}

// Handler is the http.Handler to serve. Go's cross-origin protection runs
// first: it refuses cross-site state-changing browser requests outright.
func (s *Server) Handler() http.Handler {
	h := http.NewCrossOriginProtection().Handler(s.echo)
	if s.hsts {
		h = strictTransport(h)
	}
	return h
}

// Routes lists every route the server answers, as registered in routes.go
// (plus echo's static and not-found entries), for the route×role matrix test.
func (s *Server) Routes() []*echo.Route { return s.echo.Routes() }

// SetWake makes every request that commits deliveries for a claim call f
// afterwards (the delivery runner's Wake and NOTIFY): requests that
// redeliver or release held deliveries, and event transactions whose
// deliveries were not all handed to the local worker. Call it before serving.
func (s *Server) SetWake(f func()) {
	s.h.SetWake(f)
	s.handoff = &deliveryHandoff{worker: s.handoff.worker, wake: f}
}

func isAPI(c echo.Context) bool {
	p := c.Request().URL.Path
	return len(p) >= 8 && p[:8] == "/api/v1/"
}

// CookieBlockKey derives the session cookie's AES-256 key from SECRET_KEY,
// so no new setting is needed and every process sharing the key agrees.
func CookieBlockKey(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("session-cookie-block"))
	return m.Sum(nil)
}
