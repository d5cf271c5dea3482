package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"gorm.io/gorm"

	"github.com/automations-dev/automations/handlers"
	"github.com/automations-dev/automations/jobs/sender"
	"github.com/automations-dev/automations/models/secretbox"
	"github.com/automations-dev/automations/static"
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
	store := sessions.NewCookieStore(keys.Session)
	store.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   14 * 24 * 3600,
		HttpOnly: true,
		Secure:   cfg.SecureCookies(),
		SameSite: http.SameSiteLaxMode,
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	s := &Server{echo: e, db: db, sessions: store, log: log, secrets: box, sender: snd}
	lease := cfg.LaunchLease
	if lease <= 0 {
		lease = DefaultLaunchLease
	}
	s.h = handlers.New(handlers.Deps{
		DB:       db,
		Sessions: store,
		Logger:   log,
		Limiter:  NewLoginLimiter(10, 15*time.Minute),
		OrgName:  cfg.OrgName,
		BaseURL:  cfg.BaseURL,
		Secrets:  box,
		Sender:   snd,
		// LaunchLease is how long an agent holds a claimed run-queue item.
		LaunchLease: lease,
		Slack:       handlers.SlackConfig{ClientID: cfg.SlackClientID, ClientSecret: cfg.SlackClientSecret, APIURL: cfg.SlackAPIURL},

		// Single sign-on (OIDC_*) and whether passwords still sign in.
		OIDC:          oidcDeps(cfg, keys),
		PasswordLogin: cfg.PasswordLogin.On(),
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
	e.StaticFS("/static", static.Files)
	s.routes()
	return s, nil
}

// Close releases the secrets keeper and the sender's idle connections; call
// it after the HTTP server has shut down.
func (s *Server) Close() error {
	s.sender.Close()
	return s.secrets.Close()
}

// Handler is the http.Handler to serve. Go's cross-origin protection runs
// first: it refuses cross-site state-changing browser requests outright.
func (s *Server) Handler() http.Handler {
	return http.NewCrossOriginProtection().Handler(s.echo)
}

// Routes lists every route the server answers, as registered in routes.go
// (plus echo's static and not-found entries), for the route×role matrix test.
func (s *Server) Routes() []*echo.Route { return s.echo.Routes() }

// SetWake makes every request that commits events call f afterwards (the
// delivery runner's Wake). Call it before serving.
func (s *Server) SetWake(f func()) { s.h.SetWake(f) }

func isAPI(c echo.Context) bool {
	p := c.Request().URL.Path
	return len(p) >= 8 && p[:8] == "/api/v1/"
}
