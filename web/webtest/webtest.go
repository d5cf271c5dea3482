// Package webtest starts the real server on loopback against a fresh
// database (see modeltest) and drives it the way users do: JSON API calls
// with API keys, signed-in form posts, and headless Chromium.
package webtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/modeltest"
	"github.com/automations-dev/automations/web"
)

// Password is the password of every user made by App.User.
const Password = "password123"

// App is a running server.
type App struct {
	URL      string
	DB       *gorm.DB
	Database modeltest.Database
	Config   web.Config
	Keys     web.Keys
	Server   *web.Server
	// APIClient sends API and APIRaw requests when set (a test may wrap
	// its transport, e.g. to check every answer); nil is http.DefaultClient.
	APIClient *http.Client
}

// Option changes the configuration before the server starts.
type Option func(*web.Config)

// WithAllowedTargets exempts targets (CIDRs, hosts) from SSRF blocking, so
// tests can deliver to httptest receivers on loopback.
func WithAllowedTargets(targets ...string) Option {
	return func(c *web.Config) { c.AllowedTargets = append(c.AllowedTargets, targets...) }
}

// WithoutWorker starts no in-process delivery worker (WORKER_CONCURRENCY=0,
// as for a web-only process), for tests that run worker processes.
func WithoutWorker() Option { return func(c *web.Config) { c.WorkerConcurrency = 0 } }

// WithConfig edits the configuration freely.
func WithConfig(f func(*web.Config)) Option { return Option(f) }

// Start serves the application on 127.0.0.1 until the test ends.
func Start(t testing.TB, opts ...Option) *App {
	t.Helper()
	return start(t, testLogger(t), opts)
}

// StartLogging is Start with every line the server and its worker log, at
// debug level and up, also written to w (tests of what reaches the logs).
func StartLogging(t testing.TB, w io.Writer, opts ...Option) *App {
	t.Helper()
	both := io.MultiWriter(testWriter{t}, w)
	return start(t, slog.New(slog.NewTextHandler(both, &slog.HandlerOptions{Level: slog.LevelDebug})), opts)
}

func start(t testing.TB, log *slog.Logger, opts []Option) *App {
	t.Helper()
	db := modeltest.New(t)
	ts := httptest.NewUnstartedServer(nil)
	cfg := web.Config{
		DatabaseURL:       db.URL,
		DataDir:           db.DataDir,
		OrgName:           "org",
		BaseURL:           "http://" + ts.Listener.Addr().String(),
		WorkerConcurrency: 4,
		ShutdownTimeout:   5 * time.Second,
		SlackAPIURL:       "http://127.0.0.1:1",
	}
	for _, o := range opts {
		o(&cfg)
	}
	keys := web.Keys{Session: randomBytes(32), Encryption: randomBytes(32)}
	srv, err := web.New(cfg, keys, db.DB, log)
	if err != nil {
		t.Fatalf("build server: %v", err)
	}
	// The delivery worker runs in-process as under `serve`, woken by the
	// server after each committed event (and on PostgreSQL, worker
	// processes through NOTIFY).
	var worker *web.Worker
	if cfg.WorkerConcurrency > 0 {
		worker = startWorker(t, cfg, keys, db.DB, log, web.WithMetrics(srv.Metrics()))
	}
	wakeCtx, stopWake := context.WithCancel(context.Background())
	t.Cleanup(stopWake)
	srv.SetWake(web.DeliveryWake(wakeCtx, cfg, db.DB, worker, log))
	srv.SetLocalWorker(worker)
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(func() {
		ts.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	return &App{URL: ts.URL, DB: db.DB, Database: db, Config: cfg, Keys: keys, Server: srv}
}

// startWorker runs the delivery worker in-process until the test ends.
func startWorker(t testing.TB, cfg web.Config, keys web.Keys, db *gorm.DB, log *slog.Logger, opts ...web.WorkerOption) *web.Worker {
	worker, err := web.NewWorker(context.Background(), cfg, keys, db, log, opts...)
	if err != nil {
		t.Fatalf("build worker: %v", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- worker.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("delivery worker: %v", err)
		}
		_ = worker.Close()
	})
	return worker
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// testLogger shows warnings and errors in the test's log only.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// User creates a user with password Password.
func (a *App) User(t testing.TB, email string, siteAdmin bool) *models.User {
	return modeltest.User(t, a.DB, email, siteAdmin)
}

// APIKey mints an API key for u.
func (a *App) APIKey(t testing.TB, u *models.User) string {
	t.Helper()
	key, _, err := models.CreateAPIKey(context.Background(), a.DB, u.ID, "test")
	if err != nil {
		t.Fatalf("create api key: %v", err)
	}
	return key
}

// API sends a JSON API request. body is marshalled to JSON unless it is a
// string or []byte (sent as is) or nil. The answer is decoded into a map
// when it is a JSON object; otherwise the map holds "_raw".
func (a *App) API(t testing.TB, key, method, path string, body any) (int, map[string]any) {
	t.Helper()
	status, raw := a.APIRaw(t, key, method, path, body)
	out := map[string]any{}
	if len(raw) > 0 && json.Unmarshal(raw, &out) != nil {
		out = map[string]any{"_raw": string(raw)}
	}
	return status, out
}

// APIRaw is API returning the body bytes.
func (a *App) APIRaw(t testing.TB, key, method, path string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("marshal request body: %v", err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, a.URL+path, r)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	client := a.APIClient
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s %s: %v", method, path, err)
	}
	return resp.StatusCode, raw
}

// Session is a signed-in browser-like HTTP client (cookies, CSRF token).
type Session struct {
	app    *App
	client *http.Client
}

// SignInHTTP signs in with email/Password through the login form.
func (a *App) SignInHTTP(t testing.TB, email string) *Session {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	s := &Session{app: a, client: &http.Client{
		Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
	s.Get(t, "/login")
	status, body := s.PostForm(t, "/login", url.Values{"email": {email}, "password": {Password}})
	if status != http.StatusSeeOther {
		t.Fatalf("sign in as %s: status %d: %s", email, status, body)
	}
	return s
}

// Get fetches a page.
func (s *Session) Get(t testing.TB, path string) (int, string) {
	t.Helper()
	return s.do(t, http.MethodGet, path, nil, false)
}

// PostForm submits a form with the session's CSRF token.
func (s *Session) PostForm(t testing.TB, path string, form url.Values) (int, string) {
	t.Helper()
	return s.do(t, http.MethodPost, path, form, true)
}

// PostFormWithoutCSRF submits a form without the CSRF token.
func (s *Session) PostFormWithoutCSRF(t testing.TB, path string, form url.Values) (int, string) {
	t.Helper()
	return s.do(t, http.MethodPost, path, form, false)
}

// GetHTMX fetches path as htmx does (HX-Request: true): the answer is a fragment.
func (s *Session) GetHTMX(t testing.TB, path string) (int, string) {
	t.Helper()
	return s.doWith(t, http.MethodGet, path, nil, false, http.Header{"Hx-Request": {"true"}})
}

// PostFormHTMX submits a form as htmx does, with the CSRF token.
func (s *Session) PostFormHTMX(t testing.TB, path string, form url.Values) (int, string) {
	t.Helper()
	return s.doWith(t, http.MethodPost, path, form, true, http.Header{"Hx-Request": {"true"}})
}

// CSRFToken is the token the server set in the _csrf cookie.
func (s *Session) CSRFToken() string {
	u, _ := url.Parse(s.app.URL)
	for _, c := range s.client.Jar.Cookies(u) {
		if c.Name == "_csrf" {
			return c.Value
		}
	}
	return ""
}

// GetRedirect fetches a page and also returns the Location it redirects to.
func (s *Session) GetRedirect(t testing.TB, path string) (int, string, string) {
	t.Helper()
	return s.doFull(t, http.MethodGet, path, nil, false, nil)
}

// PostFormRedirect is PostForm that also returns the Location header.
func (s *Session) PostFormRedirect(t testing.TB, path string, form url.Values) (int, string, string) {
	t.Helper()
	return s.doFull(t, http.MethodPost, path, form, true, nil)
}

func (s *Session) do(t testing.TB, method, path string, form url.Values, withCSRF bool) (int, string) {
	t.Helper()
	return s.doWith(t, method, path, form, withCSRF, nil)
}

func (s *Session) doWith(t testing.TB, method, path string, form url.Values, withCSRF bool, header http.Header) (int, string) {
	t.Helper()
	status, body, _ := s.doFull(t, method, path, form, withCSRF, header)
	return status, body
}

func (s *Session) doFull(t testing.TB, method, path string, form url.Values, withCSRF bool, header http.Header) (int, string, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		if withCSRF {
			if s.CSRFToken() == "" {
				s.Get(t, "/login") // any page sets the cookie
			}
			form = cloneValues(form)
			form.Set("_csrf", s.CSRFToken())
		}
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, s.app.URL+path, body)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw), resp.Header.Get("Location")
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
