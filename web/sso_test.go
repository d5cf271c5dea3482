package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/automations-dev/automations/handlers"
	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/audit"
	"github.com/automations-dev/automations/models/people"
	"github.com/automations-dev/automations/web"
	"github.com/automations-dev/automations/web/webtest"
)

// startOIDC runs an OpenID Connect provider on loopback for one test.
// Each sign-in at it signs in the next queued user without asking.
func startOIDC(t *testing.T) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatalf("start mock OIDC provider: %v", err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m
}

// withOIDC points the server at the provider, creating unknown users of
// example.com only.
func withOIDC(m *mockoidc.MockOIDC) webtest.Option {
	return webtest.WithConfig(func(c *web.Config) {
		c.OIDCIssuerURL = m.Issuer()
		c.OIDCClientID = m.ClientID
		c.OIDCClientSecret = m.ClientSecret
		c.OIDCAllowedDomains = []string{"example.com"}
	})
}

// person is who the provider says signs in next, with a verified email.
func person(email string) *mockoidc.MockUser {
	return &mockoidc.MockUser{Subject: "sub-" + email, Email: email, EmailVerified: true, PreferredUsername: email}
}

// ssoInBrowser clicks "Sign in with SSO" on the page the browser is on and
// returns where it lands and the name the navigation shows.
func ssoInBrowser(t *testing.T, ctx context.Context) (string, string) {
	t.Helper()
	webtest.Do(t, ctx, "sign in with SSO",
		chromedp.WaitVisible(webtest.TestID("sso-sign-in")),
		webtest.ClickNav(webtest.TestID("sso-sign-in")),
		chromedp.WaitVisible(webtest.TestID("nav-user")),
	)
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	name, err := chromedp.Run(ctx, chromedp.Text(webtest.TestID("nav-user")))
	if err != nil {
		t.Fatal(err)
	}
	return loc, name
}

func userState(t *testing.T, app *webtest.App, email string) models.UserState {
	t.Helper()
	u, err := models.UserByEmail(context.Background(), app.DB, email)
	if err != nil {
		t.Fatalf("load %s: %v", email, err)
	}
	return u.State
}

// invite makes an invited user: no password yet.
func invite(t *testing.T, app *webtest.App, email string) *models.User {
	t.Helper()
	u := app.User(t, email, false)
	if err := app.DB.Model(u).Updates(map[string]any{"state": models.UserInvited, "password_hash": ""}).Error; err != nil {
		t.Fatal(err)
	}
	return u
}

func TestSSOSignsInAnExistingUser(t *testing.T) {
	m := startOIDC(t)
	app := webtest.Start(t, withOIDC(m))
	if _, err := models.CreateUser(context.Background(), app.DB, models.NewUser{
		Email: "ada@example.com", Name: "Ada Lovelace", Password: webtest.Password,
	}); err != nil {
		t.Fatal(err)
	}
	m.QueueUser(person("Ada@Example.com"))

	ctx := webtest.NewBrowser(t)
	webtest.Do(t, ctx, "open the login page", chromedp.Navigate(app.URL+"/login"))
	loc, name := ssoInBrowser(t, ctx)
	if !strings.HasSuffix(loc, "/") || name != "Ada Lovelace" {
		t.Fatalf("landed on %s as %q; want the home page (/) as Ada Lovelace", loc, name)
	}
	if n, _ := models.CountUsers(context.Background(), app.DB); n != 1 {
		t.Fatalf("%d users after signing in an existing one, want 1", n)
	}
}

func TestSSOActivatesAnInvitedUser(t *testing.T) {
	m := startOIDC(t)
	app := webtest.Start(t, withOIDC(m))
	u := invite(t, app, "grace@example.com")
	m.QueueUser(person("grace@example.com"))

	// A deep link while signed out comes back to the page asked for.
	ctx := webtest.NewBrowser(t)
	webtest.Do(t, ctx, "open a page while signed out", chromedp.Navigate(app.URL+"/projects"))
	loc, name := ssoInBrowser(t, ctx)
	if !strings.HasSuffix(loc, "/projects") || name != "grace@example.com" {
		t.Fatalf("landed on %s as %q; want /projects as grace@example.com", loc, name)
	}
	if s := userState(t, app, "grace@example.com"); s != models.UserActive {
		t.Fatalf("state after SSO: %s, want active", s)
	}
	var entries []audit.Entry
	if err := app.DB.Where("target = ?", "grace@example.com").Find(&entries).Error; err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Kind != "user.activate" || entries[0].ActorID == nil || *entries[0].ActorID != u.ID {
		t.Fatalf("audit entries: %+v, want one user.activate by the user", entries)
	}
}

func TestSSOCreatesAUserOfAnAllowedDomain(t *testing.T) {
	m := startOIDC(t)
	app := webtest.Start(t, withOIDC(m))
	m.QueueUser(person("newcomer@example.com"))

	ctx := webtest.NewBrowser(t)
	webtest.Do(t, ctx, "open the login page", chromedp.Navigate(app.URL+"/login"))
	loc, name := ssoInBrowser(t, ctx)
	if !strings.HasSuffix(loc, "/") || name != "newcomer@example.com" {
		t.Fatalf("landed on %s as %q; want the home page (/) as newcomer@example.com", loc, name)
	}
	u, err := models.UserByEmail(context.Background(), app.DB, "newcomer@example.com")
	if err != nil {
		t.Fatalf("the user was not created: %v", err)
	}
	if u.State != models.UserActive || u.SiteAdmin || u.IsServiceAccount() {
		t.Fatalf("created user: state %s, site admin %v, service account %v; want an active ordinary user", u.State, u.SiteAdmin, u.IsServiceAccount())
	}
	// The account has no password: only the provider signs it in.
	if _, err := models.Authenticate(context.Background(), app.DB, "newcomer@example.com", ""); err == nil {
		t.Fatal("an SSO-created account accepted an empty password")
	}
}

func TestSSORefusesAnEmailOfAnotherDomain(t *testing.T) {
	m := startOIDC(t)
	app := webtest.Start(t, withOIDC(m))
	m.QueueUser(person("eve@elsewhere.org"))

	ctx := webtest.NewBrowser(t)
	webtest.Do(t, ctx, "sign in with SSO from another domain",
		chromedp.Navigate(app.URL+"/login"),
		webtest.ClickNav(webtest.TestID("sso-sign-in")),
		chromedp.WaitVisible(webtest.TestID("error-403")),
	)
	msg, err := chromedp.Run(ctx, chromedp.Text(webtest.TestID("error-403")))
	if err != nil || !strings.Contains(msg, "There is no account for eve@elsewhere.org") || !strings.Contains(msg, "Ask a site admin to invite you") {
		t.Fatalf("refusal page: %q, %v", msg, err)
	}
	signedIn, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector('[data-testid="nav"]')`))
	if err != nil || signedIn {
		t.Fatalf("signed in after a refusal (%v)", err)
	}
	if _, err := models.UserByEmail(context.Background(), app.DB, "eve@elsewhere.org"); err == nil {
		t.Fatal("a user of a refused domain was created")
	}
}

// ssoBrowser is an HTTP client that keeps cookies and shows each redirect.
type ssoBrowser struct {
	t      *testing.T
	app    *webtest.App
	client *http.Client
}

func newSSOBrowser(t *testing.T, app *webtest.App) *ssoBrowser {
	jar, _ := cookiejar.New(nil)
	return &ssoBrowser{t: t, app: app, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *ssoBrowser) get(rawURL string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.client.Get(rawURL)
	if err != nil {
		b.t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// authorize starts a sign-in and follows the provider's redirect up to the
// callback URL it sends the browser to (not yet visited).
func (b *ssoBrowser) authorize() *url.URL {
	b.t.Helper()
	resp, body := b.get(b.app.URL + "/auth/oidc/login?next=/projects")
	if resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("start SSO: %d %s", resp.StatusCode, body)
	}
	resp, body = b.get(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound {
		b.t.Fatalf("provider's authorize endpoint: %d %s", resp.StatusCode, body)
	}
	cb, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || cb.Path != "/auth/oidc/callback" || cb.Query().Get("code") == "" || cb.Query().Get("state") == "" {
		b.t.Fatalf("provider redirected to %q (%v)", resp.Header.Get("Location"), err)
	}
	return cb
}

// flowCookie is the sign-in flow cookie the browser holds for the callback.
func (b *ssoBrowser) flowCookie() *http.Cookie {
	u, _ := url.Parse(b.app.URL + "/auth/oidc/callback")
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == "automations_oidc" {
			return c
		}
	}
	return nil
}

// startsSession reports whether an answer signs the browser in.
func startsSession(resp *http.Response) bool {
	for _, c := range resp.Cookies() {
		if c.Name == handlers.SessionName && c.Value != "" && c.MaxAge >= 0 {
			return true
		}
	}
	return false
}

func countSessions(t *testing.T, app *webtest.App) int64 {
	t.Helper()
	var n int64
	if err := app.DB.Model(&people.Session{}).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

const stateRefusal = "Sign-in failed: the request expired or was tampered with, try again"

func TestSSOCallbackWithAnotherStateIsRefused(t *testing.T) {
	m := startOIDC(t)
	app := webtest.Start(t, withOIDC(m))
	invite(t, app, "grace@example.com")
	m.QueueUser(person("grace@example.com"))

	b := newSSOBrowser(t, app)
	cb := b.authorize()
	q := cb.Query()
	q.Set("state", q.Get("state")+"x")
	cb.RawQuery = q.Encode()
	resp, body := b.get(cb.String())
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, stateRefusal) {
		t.Fatalf("tampered state: %d, want 400 with %q:\n%s", resp.StatusCode, stateRefusal, body)
	}
	if startsSession(resp) {
		t.Fatal("a tampered callback started a session")
	}
	if s := userState(t, app, "grace@example.com"); s != models.UserInvited {
		t.Fatalf("state after a tampered callback: %s, want invited (nothing changes)", s)
	}
}

func TestSSOReplayedCodeIsRefused(t *testing.T) {
	m := startOIDC(t)
	app := webtest.Start(t, withOIDC(m))
	app.User(t, "ada@example.com", false)
	m.QueueUser(person("ada@example.com"))

	b := newSSOBrowser(t, app)
	cb := b.authorize()
	flow := b.flowCookie()
	if flow == nil {
		t.Fatal("no flow cookie after starting SSO")
	}
	resp, body := b.get(cb.String())
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/projects" || !startsSession(resp) {
		t.Fatalf("first callback: %d to %q, session %v; want 303 to /projects signed in:\n%s", resp.StatusCode, resp.Header.Get("Location"), startsSession(resp), body)
	}
	sessions := countSessions(t, app)

	// The same browser again: its state was used up by the first callback.
	resp, body = b.get(cb.String())
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, stateRefusal) || startsSession(resp) {
		t.Fatalf("replayed callback: %d, session %v; want 400 with %q and no session:\n%s", resp.StatusCode, startsSession(resp), stateRefusal, body)
	}
	// Someone who copied the flow cookie too: the provider takes a code once.
	thief := newSSOBrowser(t, app)
	appURL, _ := url.Parse(app.URL + "/auth/oidc/callback")
	thief.client.Jar.SetCookies(appURL, []*http.Cookie{{Name: flow.Name, Value: flow.Value, Path: "/auth/oidc/"}})
	resp, body = thief.get(cb.String())
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "did not accept the sign-in code") || startsSession(resp) {
		t.Fatalf("replayed code with the flow cookie: %d, session %v; want 400 and no session:\n%s", resp.StatusCode, startsSession(resp), body)
	}
	if n := countSessions(t, app); n != sessions {
		t.Fatalf("sessions after replays: %d, want %d", n, sessions)
	}
}

func TestSSORefusesDeactivatedAndUnverified(t *testing.T) {
	m := startOIDC(t)
	app := webtest.Start(t, withOIDC(m))
	gone := app.User(t, "gone@example.com", false)
	if err := app.DB.Model(gone).Update("state", models.UserDeactivated).Error; err != nil {
		t.Fatal(err)
	}
	unverified := person("fresh@example.com")
	unverified.EmailVerified = false
	for _, tc := range []struct {
		name string
		user *mockoidc.MockUser
		want string
	}{
		{"deactivated", person("gone@example.com"), "The account gone@example.com is deactivated"},
		{"email not verified", unverified, "has not verified the email address fresh@example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m.QueueUser(tc.user)
			b := newSSOBrowser(t, app)
			resp, body := b.get(b.authorize().String())
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, tc.want) || startsSession(resp) {
				t.Fatalf("%d, session %v; want 403 with %q and no session:\n%s", resp.StatusCode, startsSession(resp), tc.want, body)
			}
		})
	}
	if s := userState(t, app, "gone@example.com"); s != models.UserDeactivated {
		t.Fatalf("deactivated user is now %s", s)
	}
	if _, err := models.UserByEmail(context.Background(), app.DB, "fresh@example.com"); err == nil {
		t.Fatal("an unverified email created a user")
	}
}

func TestPasswordLoginOffLeavesOnlySSO(t *testing.T) {
	m := startOIDC(t)
	app := webtest.Start(t, withOIDC(m), webtest.WithConfig(func(c *web.Config) { c.PasswordLogin = web.SwitchedOff }))
	app.User(t, "ada@example.com", false)

	// HTTP: the right password changes nothing.
	s := newSSOBrowser(t, app)
	resp, _ := s.get(app.URL + "/login")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login page: %d", resp.StatusCode)
	}
	var csrf string
	appURL, _ := url.Parse(app.URL)
	for _, c := range s.client.Jar.Cookies(appURL) {
		if c.Name == "_csrf" {
			csrf = c.Value
		}
	}
	resp, err := s.client.PostForm(app.URL+"/login", url.Values{"email": {"ada@example.com"}, "password": {webtest.Password}, "_csrf": {csrf}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "Password sign-in is turned off; use single sign-on") || startsSession(resp) {
		t.Fatalf("POST /login with password sign-in off: %d, session %v; want 403:\n%s", resp.StatusCode, startsSession(resp), body)
	}

	// Browser: no password form, and SSO still signs in.
	m.QueueUser(person("ada@example.com"))
	ctx := webtest.NewBrowser(t)
	webtest.Do(t, ctx, "open the login page",
		chromedp.Navigate(app.URL+"/login"),
		chromedp.WaitVisible(webtest.TestID("sso-sign-in")),
	)
	forms, err := chromedp.Run(ctx, chromedp.Evaluate[int](
		`document.querySelectorAll('[data-testid="login-form"], input[type="password"]').length`))
	if err != nil || forms != 0 {
		t.Fatalf("login page shows %d password form elements (%v), want none", forms, err)
	}
	if _, name := ssoInBrowser(t, ctx); name != "ada@example.com" {
		t.Fatalf("signed in as %q, want ada@example.com", name)
	}
}

func TestLoginPageWithoutSSOHasNoSSOButton(t *testing.T) {
	app := webtest.Start(t)
	s := newSSOBrowser(t, app)
	resp, body := s.get(app.URL + "/login")
	if resp.StatusCode != http.StatusOK || strings.Contains(body, "sso-sign-in") || !strings.Contains(body, `data-testid="login-form"`) {
		t.Fatalf("login page without SSO: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := s.get(app.URL + "/auth/oidc/login"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("/auth/oidc/login without SSO: %d, want 404", resp.StatusCode)
	}
}

// The provider is looked up on the first sign-in, not at start: a provider
// that is down leaves the server up, and a sign-in after it recovers works.
func TestSSOProviderDownDoesNotStopTheServer(t *testing.T) {
	app := webtest.Start(t, webtest.WithConfig(func(c *web.Config) {
		c.OIDCIssuerURL, c.OIDCClientID, c.OIDCClientSecret = "http://127.0.0.1:1/oidc", "id", "secret"
	}))
	b := newSSOBrowser(t, app)
	if resp, body := b.get(app.URL + "/login"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "sso-sign-in") {
		t.Fatalf("login page with the provider down: %d", resp.StatusCode)
	}
	resp, body := b.get(app.URL + "/auth/oidc/login")
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "the identity provider could not be reached") {
		t.Fatalf("SSO with the provider down: %d, want 502:\n%s", resp.StatusCode, body)
	}

	m := startOIDC(t)
	app = webtest.Start(t, withOIDC(m))
	app.User(t, "ada@example.com", false)
	m.QueueError(&mockoidc.ServerError{Code: http.StatusServiceUnavailable, Error: "temporarily_unavailable"})
	b = newSSOBrowser(t, app)
	if resp, _ := b.get(app.URL + "/auth/oidc/login"); resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("SSO while discovery fails: %d, want 502", resp.StatusCode)
	}
	m.QueueUser(person("ada@example.com"))
	if resp, _ := b.get(b.authorize().String()); resp.StatusCode != http.StatusSeeOther || !startsSession(resp) {
		t.Fatalf("SSO after the provider recovered: %d, session %v", resp.StatusCode, startsSession(resp))
	}
}

func TestSignInSettingsAreCheckedAtStart(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string // "" for no error
	}{
		{"password sign-in off without SSO", map[string]string{"PASSWORD_LOGIN": "false"}, "PASSWORD_LOGIN=false needs single sign-on"},
		{"half of SSO", map[string]string{"OIDC_ISSUER_URL": "https://idp.example.com", "OIDC_CLIENT_ID": "id"}, "missing OIDC_CLIENT_SECRET"},
		{"password sign-in off with SSO", map[string]string{"PASSWORD_LOGIN": "false", "OIDC_ISSUER_URL": "https://idp.example.com",
			"OIDC_CLIENT_ID": "id", "OIDC_CLIENT_SECRET": "secret"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"PASSWORD_LOGIN", "OIDC_ISSUER_URL", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"} {
				t.Setenv(k, tc.env[k])
			}
			cfg, err := web.LoadConfig()
			if tc.want == "" {
				if err != nil || cfg.PasswordLogin.On() || !cfg.OIDCConfigured() {
					t.Fatalf("LoadConfig: %v (password login %v, SSO %v)", err, cfg.PasswordLogin.On(), cfg.OIDCConfigured())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("LoadConfig: %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func TestPasswordLoginSettingValues(t *testing.T) {
	for _, tc := range []struct {
		value  string
		wantOn bool
		bad    bool
	}{{"", true, false}, {"true", true, false}, {"1", true, false}, {"false", false, false}, {"FALSE", false, false}, {"no", false, true}} {
		var s web.Switch
		err := s.UnmarshalText([]byte(tc.value))
		if (err != nil) != tc.bad || (!tc.bad && s.On() != tc.wantOn) {
			t.Fatalf("PASSWORD_LOGIN=%q: on %v, err %v; want on %v, error %v", tc.value, s.On(), err, tc.wantOn, tc.bad)
		}
	}
	if !(web.Config{}).PasswordLogin.On() {
		t.Fatal("a Config built in code has password sign-in off")
	}
}
