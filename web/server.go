package web

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"gorm.io/gorm"

	"github.com/automations-dev/automations/handlers"
	"github.com/automations-dev/automations/static"
)

// Server is the assembled web application.
type Server struct {
	echo     *echo.Echo
	db       *gorm.DB
	sessions sessions.Store
	log      *slog.Logger
	h        *handlers.Handler
}

// New wires the routes and middleware. It does not listen.
func New(cfg Config, keys Keys, db *gorm.DB, log *slog.Logger) (*Server, error) {
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
	s := &Server{echo: e, db: db, sessions: store, log: log}
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
		// LaunchLease is how long an agent holds a claimed run-queue item.
		LaunchLease: lease,
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
	e.Use(middleware.BodyLimit("2M"))
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
	e.StaticFS("/static", static.Files)
	s.routes()
	return s, nil
}

// Handler is the http.Handler to serve. Go's cross-origin protection runs
// first: it refuses cross-site state-changing browser requests outright.
func (s *Server) Handler() http.Handler {
	return http.NewCrossOriginProtection().Handler(s.echo)
}

func isAPI(c echo.Context) bool {
	p := c.Request().URL.Path
	return len(p) >= 8 && p[:8] == "/api/v1/"
}
