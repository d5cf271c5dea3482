package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/audit"
	"github.com/automations-dev/automations/models/people"
	"github.com/automations-dev/automations/web"
	"github.com/automations-dev/automations/web/webtest"
)

// invitePath is the path of an invitation link, checking it points at the app.
func invitePath(t *testing.T, app *webtest.App, link string) string {
	t.Helper()
	path, ok := strings.CutPrefix(link, app.Config.BaseURL)
	if !ok || !strings.HasPrefix(path, "/invite/") || len(path) < len("/invite/")+40 {
		t.Fatalf("invite link %q is not %s/invite/<token>", link, app.Config.BaseURL)
	}
	return path
}

// acceptInvite opens the link in a fresh browser-like client and sets the
// password; it returns the final POST's status and that client.
func acceptInvite(t *testing.T, app *webtest.App, path, password string) (int, *http.Client) {
	t.Helper()
	client := newBrowserClient(t)
	resp, err := client.Get(app.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, client
	}
	if !contains(string(page), "Set your password") {
		t.Fatalf("invite page: %s", page)
	}
	resp, err = client.PostForm(app.URL+path, url.Values{"password": {password}, "confirm": {password}, "_csrf": {csrfOf(t, app, client)}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusSeeOther && resp.Header.Get("Location") != "/" {
		t.Fatalf("accepted invitation redirects to %q, want /", resp.Header.Get("Location"))
	}
	return resp.StatusCode, client
}

func newBrowserClient(t *testing.T) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func csrfOf(t *testing.T, app *webtest.App, client *http.Client) string {
	t.Helper()
	u, _ := url.Parse(app.URL)
	for _, c := range client.Jar.Cookies(u) {
		if c.Name == "_csrf" {
			return c.Value
		}
	}
	t.Fatal("no CSRF cookie")
	return ""
}

func getPage(t *testing.T, client *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

const invalidInviteText = "This invitation link has been used, has expired or was replaced by a newer one."

// assertInviteDead checks that GET and POST of the link both answer the one
// "not valid" page, and that the POST changed nothing.
func assertInviteDead(t *testing.T, app *webtest.App, path, email string) {
	t.Helper()
	before, _ := models.UserByEmail(context.Background(), app.DB, email)
	client := newBrowserClient(t)
	status, page := getPage(t, client, app.URL+path)
	if status != http.StatusGone || !contains(page, invalidInviteText) {
		t.Fatalf("GET dead link %s: %d", path, status)
	}
	resp, err := client.PostForm(app.URL+path, url.Values{"password": {"a new password"}, "confirm": {"a new password"}, "_csrf": {csrfOf(t, app, client)}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusGone || !contains(string(b), invalidInviteText) {
		t.Fatalf("POST dead link %s: %d", path, resp.StatusCode)
	}
	if before != nil {
		after, _ := models.UserByEmail(context.Background(), app.DB, email)
		if after.PasswordHash != before.PasswordHash || after.State != before.State {
			t.Fatalf("a dead link changed %s: %s → %s", email, before.State, after.State)
		}
	}
}

// A team admin (not a site admin) adds an unknown email through the API:
// an invited account without a password, the membership, a hashed
// single-use 7-day invitation and an audit entry on the team. The link
// sets the password once and signs the person in.
func TestInviteThroughTeamAPI(t *testing.T) {
	f := newTeamFixture(t)
	app := f.app
	key := app.APIKey(t, f.admin)
	start := time.Now().UTC()
	status, body := app.API(t, key, "POST", "/api/v1/teams/ml/members", map[string]string{"email": "New.Person@Example.com", "role": "member"})
	link, _ := body["invite_url"].(string)
	if status != 201 || body["email"] != "new.person@example.com" || body["role"] != "member" {
		t.Fatalf("invite: %d %v", status, body)
	}
	path := invitePath(t, app, link)
	token := strings.TrimPrefix(path, "/invite/")

	u := loadUser(t, app, "new.person@example.com")
	if u.State != models.UserInvited || u.PasswordHash != "" || u.Name != "new.person" || u.SiteAdmin {
		t.Fatalf("invited user: %+v", u)
	}
	if got := f.teamRoles(t)[u.Email]; got != models.RoleMember {
		t.Fatalf("membership: %q", got)
	}
	var inv people.Invitation
	if err := app.DB.Where("user_id = ?", u.ID).Take(&inv).Error; err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(token))
	if inv.TokenHash != hex.EncodeToString(sum[:]) || inv.UsedAt != nil || inv.InvitedBy == nil || *inv.InvitedBy != f.admin.ID {
		t.Fatalf("stored invitation: %+v", inv)
	}
	if ttl := inv.ExpiresAt.Sub(start); ttl < 7*24*time.Hour-time.Minute || ttl > 7*24*time.Hour+time.Minute {
		t.Fatalf("invitation expires after %v, want 7 days", ttl)
	}
	var e audit.Entry
	if err := app.DB.Where("kind = ? AND target = ?", "user.invite", u.Email).Take(&e).Error; err != nil {
		t.Fatal(err)
	}
	if e.TeamID == nil || *e.TeamID != f.team.ID || e.RegistryID != nil || e.ActorID == nil || *e.ActorID != f.admin.ID || contains(e.After, token) {
		t.Fatalf("audit entry: %+v", e)
	}
	// An invited account cannot sign in with any password yet.
	if status := signInStatus(t, app, u.Email, ""); status != http.StatusUnauthorized {
		t.Fatalf("invited user signed in without a password: %d", status)
	}

	// Wrong confirmation and short passwords come back beside the field.
	client := newBrowserClient(t)
	if status, page := getPage(t, client, app.URL+path); status != 200 || !contains(page, "new.person@example.com") {
		t.Fatalf("invite page: %d", status)
	}
	for _, c := range []struct{ password, confirm, want string }{
		{"correct horse", "correct hose", "does not match"},
		{"short", "short", "8 to 72 characters"},
	} {
		resp, err := client.PostForm(app.URL+path, url.Values{"password": {c.password}, "confirm": {c.confirm}, "_csrf": {csrfOf(t, app, client)}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnprocessableEntity || !contains(string(b), c.want) {
			t.Fatalf("%q/%q: %d", c.password, c.confirm, resp.StatusCode)
		}
	}
	if got := loadUser(t, app, u.Email); got.State != models.UserInvited {
		t.Fatalf("a refused form changed the user: %+v", got)
	}

	status, browser := acceptInvite(t, app, path, "correct horse battery")
	if status != http.StatusSeeOther {
		t.Fatalf("accept: %d", status)
	}
	if status, page := getPage(t, browser, app.URL+"/teams"); status != 200 || !contains(page, `href="/teams/ml"`) {
		t.Fatalf("signed in after accepting: %d", status)
	}
	if got := loadUser(t, app, u.Email); got.State != models.UserActive {
		t.Fatalf("after accepting: %+v", got)
	}
	if status := signInStatus(t, app, u.Email, "correct horse battery"); status != http.StatusSeeOther {
		t.Fatalf("sign in with the new password: %d", status)
	}
	// Single use.
	assertInviteDead(t, app, path, u.Email)
	// An unknown token gets the same answer.
	assertInviteDead(t, app, "/invite/"+strings.Repeat("A", 43), "")

	// Adding an existing active account invites no one.
	status, body = app.API(t, key, "POST", "/api/v1/registries/models/members", map[string]string{"email": "other@example.com", "role": "viewer"})
	if status != 201 || body["invite_url"] != nil {
		t.Fatalf("add existing user: %d %v", status, body)
	}
}

// A registry admin adds an unknown email with the HTML form: the next page
// shows the link with a Copy button, and the link works.
func TestInviteThroughRegistryForm(t *testing.T) {
	f := newTeamFixture(t)
	app := f.app
	admin := app.SignInHTTP(t, "admin@example.com")
	status, _, loc := admin.PostFormRedirect(t, "/registries/models/members", url.Values{"email": {"reg@example.com"}, "role": {"viewer"}})
	if status != http.StatusSeeOther || loc != "/registries/models/members" {
		t.Fatalf("add by form: %d → %q", status, loc)
	}
	_, page := admin.Get(t, loc)
	m := regexp.MustCompile(`data-copy="([^"]+)"`).FindStringSubmatch(page)
	if m == nil || !contains(page, `data-testid="invite-link"`) || !contains(page, "reg@example.com has no password yet") {
		t.Fatalf("no invitation link on the page:\n%s", page)
	}
	path := invitePath(t, app, m[1])
	// The link is shown once: the next page load has no flash.
	if _, again := admin.Get(t, loc); contains(again, m[1]) {
		t.Fatal("the link is shown again on the next page")
	}
	var e audit.Entry
	if err := app.DB.Where("kind = ? AND target = ?", "user.invite", "reg@example.com").Take(&e).Error; err != nil {
		t.Fatal(err)
	}
	if e.RegistryID == nil || *e.RegistryID != f.registry.ID || e.TeamID != nil {
		t.Fatalf("audit entry: %+v", e)
	}
	status, browser := acceptInvite(t, app, path, "registry password")
	if status != http.StatusSeeOther {
		t.Fatalf("accept: %d", status)
	}
	if status, page := getPage(t, browser, app.URL+"/registries/models/members"); status != 200 || !contains(page, `data-testid="member-reg@example.com"`) {
		t.Fatalf("the new viewer sees the registry: %d", status)
	}
}

// An expired link does not work and changes nothing.
func TestExpiredInvitationDoesNotWork(t *testing.T) {
	f := newTeamFixture(t)
	app := f.app
	status, body := app.API(t, app.APIKey(t, f.site), "POST", "/api/v1/teams/ml/members", map[string]string{"email": "late@example.com", "role": "viewer"})
	if status != 201 {
		t.Fatalf("invite: %d %v", status, body)
	}
	path := invitePath(t, app, body["invite_url"].(string))
	u := loadUser(t, app, "late@example.com")
	if err := app.DB.Model(&people.Invitation{}).Where("user_id = ?", u.ID).
		Update("expires_at", time.Now().UTC().Add(-time.Minute)).Error; err != nil {
		t.Fatal(err)
	}
	assertInviteDead(t, app, path, u.Email)
	if got := loadUser(t, app, u.Email); got.State != models.UserInvited || got.PasswordHash != "" {
		t.Fatalf("expired link changed the user: %+v", got)
	}
}

// Inviting an invited account again (here: to a registry after a team)
// issues a fresh link; the older one stops working. Deactivating the
// account kills its link; reactivating gives it a fresh one.
func TestReinviteReplacesLinkAndDeactivationKillsIt(t *testing.T) {
	f := newTeamFixture(t)
	app := f.app
	key := app.APIKey(t, f.admin)
	siteKey := app.APIKey(t, f.site)
	_, first := app.API(t, key, "POST", "/api/v1/teams/ml/members", map[string]string{"email": "twice@example.com", "role": "member"})
	_, second := app.API(t, key, "POST", "/api/v1/registries/models/members", map[string]string{"email": "twice@example.com", "role": "viewer"})
	firstPath := invitePath(t, app, first["invite_url"].(string))
	secondPath := invitePath(t, app, second["invite_url"].(string))
	if firstPath == secondPath {
		t.Fatal("the second invitation reused the first link")
	}
	assertInviteDead(t, app, firstPath, "twice@example.com")

	if status, _ := app.API(t, siteKey, "DELETE", "/api/v1/users/twice@example.com", nil); status != 204 {
		t.Fatalf("deactivate: %d", status)
	}
	assertInviteDead(t, app, secondPath, "twice@example.com")
	// Adding a deactivated account to another team neither invites nor
	// reactivates it.
	status, body := app.API(t, siteKey, "POST", "/api/v1/teams", map[string]string{"name": "other"})
	if status != 201 {
		t.Fatalf("team: %d %v", status, body)
	}
	status, body = app.API(t, siteKey, "POST", "/api/v1/teams/other/members", map[string]string{"email": "twice@example.com", "role": "viewer"})
	if status != 201 || body["invite_url"] != nil || loadUser(t, app, "twice@example.com").State != models.UserDeactivated {
		t.Fatalf("add deactivated user: %d %v", status, body)
	}

	status, body = app.API(t, siteKey, "PATCH", "/api/v1/users/twice@example.com", map[string]any{"active": true})
	link, _ := body["invite_url"].(string)
	if status != 200 || body["state"] != "invited" || link == "" {
		t.Fatalf("reactivate an account without a password: %d %v", status, body)
	}
	assertInviteDead(t, app, secondPath, "twice@example.com")
	if status, _ := acceptInvite(t, app, invitePath(t, app, link), "finally in"); status != http.StatusSeeOther {
		t.Fatalf("fresh link after reactivation: %d", status)
	}
	if kinds := auditKinds(t, app, "twice@example.com"); strings.Join(kinds, ",") != "user.invite,user.invite,user.deactivate,user.reactivate,user.invite,user.invite_accepted" {
		t.Fatalf("audit: %v", kinds)
	}
}

// smtpServer is a real SMTP server on loopback (github.com/emersion/go-smtp)
// that requires AUTH PLAIN and keeps what it receives.
type smtpServer struct {
	addr     string
	messages chan smtpMessage
}

type smtpMessage struct {
	From string
	To   []string
	Data string
}

func startSMTP(t *testing.T, user, pass string) *smtpServer {
	t.Helper()
	s := &smtpServer{messages: make(chan smtpMessage, 10)}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &smtpSession{server: s, user: user, pass: pass}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			t.Errorf("smtp server: %v", err)
		}
	})
	return s
}

// next waits for the next message; a mail sent during a request has been
// accepted before that request answered.
func (s *smtpServer) next(t *testing.T) smtpMessage {
	t.Helper()
	select {
	case m := <-s.messages:
		return m
	default:
		t.Fatal("no mail was received")
		return smtpMessage{}
	}
}

type smtpSession struct {
	server     *smtpServer
	user, pass string
	authed     bool
	msg        smtpMessage
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.user || pass != s.pass {
			return errors.New("invalid credentials")
		}
		s.authed = true
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	s.msg = smtpMessage{From: from}
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.Data = string(b)
	s.server.messages <- s.msg
	return nil
}

func (s *smtpSession) Reset()        { s.msg = smtpMessage{} }
func (s *smtpSession) Logout() error { return nil }

// With SMTP_URL set, the invitation is also mailed: to the invited person,
// from SMTP_FROM, naming the team and who invited, with the link, which
// works.
func TestInvitationIsMailed(t *testing.T) {
	mail := startSMTP(t, "mailer", "s3cret")
	f := newTeamFixture(t, webtest.WithConfig(func(c *web.Config) {
		c.SMTPURL = "smtp://mailer:s3cret@" + mail.addr
		c.SMTPFrom = "Automations <noreply@automations.test>"
	}))
	app := f.app
	status, body := app.API(t, app.APIKey(t, f.admin), "POST", "/api/v1/teams/ml/members", map[string]string{"email": "mailed@example.com", "role": "member"})
	if status != 201 {
		t.Fatalf("invite: %d %v", status, body)
	}
	link := body["invite_url"].(string)
	m := mail.next(t)
	if m.From != "noreply@automations.test" || len(m.To) != 1 || m.To[0] != "mailed@example.com" {
		t.Fatalf("envelope: from %q to %v", m.From, m.To)
	}
	for _, want := range []string{link, `the team "ml"`, "admin@example.com", "To: mailed@example.com", "From: \"Automations\" <noreply@automations.test>"} {
		if !contains(m.Data, want) {
			t.Errorf("mail lacks %q:\n%s", want, m.Data)
		}
	}
	if status, _ := acceptInvite(t, app, invitePath(t, app, link), "mailed password"); status != http.StatusSeeOther {
		t.Fatalf("the mailed link: %d", status)
	}

	// The HTML form says it was mailed and still shows the link.
	admin := app.SignInHTTP(t, "admin@example.com")
	admin.PostForm(t, "/teams/ml/members", url.Values{"email": {"form@example.com"}, "role": {"viewer"}})
	_, page := admin.Get(t, "/teams/ml")
	m = mail.next(t)
	if !contains(page, "The invitation was mailed to form@example.com") || m.To[0] != "form@example.com" {
		t.Fatalf("form invite: mailed to %v; page says mailed: %v", m.To, contains(page, "was mailed"))
	}
	link = regexp.MustCompile(`data-copy="([^"]+)"`).FindStringSubmatch(page)[1]
	if !contains(m.Data, link) {
		t.Fatalf("the mail and the page show different links: %s", link)
	}
}

// A mail server that cannot be reached does not fail the invitation: the
// link is returned (and shown) anyway and works.
func TestInvitationSurvivesMailFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	f := newTeamFixture(t, webtest.WithConfig(func(c *web.Config) { c.SMTPURL = "smtp://" + closed }))
	app := f.app
	status, body := app.API(t, app.APIKey(t, f.admin), "POST", "/api/v1/teams/ml/members", map[string]string{"email": "unmailed@example.com", "role": "member"})
	link, _ := body["invite_url"].(string)
	if status != 201 || link == "" {
		t.Fatalf("invite with a dead mail server: %d %v", status, body)
	}
	admin := app.SignInHTTP(t, "admin@example.com")
	admin.PostForm(t, "/teams/ml/members", url.Values{"email": {"form@example.com"}, "role": {"viewer"}})
	if _, page := admin.Get(t, "/teams/ml"); !contains(page, "form@example.com has no password yet") || !contains(page, `data-testid="invite-link"`) {
		t.Fatal("the form invite does not show the link after a mail failure")
	}
	if status, _ := acceptInvite(t, app, invitePath(t, app, link), "no mail needed"); status != http.StatusSeeOther {
		t.Fatalf("link after a mail failure: %d", status)
	}
}
