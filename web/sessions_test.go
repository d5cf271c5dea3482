package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/people"
	"github.com/automations-dev/automations/web"
	"github.com/automations-dev/automations/web/webtest"
)

// signedIn reports whether s's cookie still signs someone in: /settings
// answers the page, or sends an anonymous browser to the sign-in form.
func signedIn(t *testing.T, s *webtest.Session) bool {
	t.Helper()
	status, _, loc := s.GetRedirect(t, "/settings")
	switch {
	case status == http.StatusOK:
		return true
	case status == http.StatusSeeOther && strings.HasPrefix(loc, "/login"):
		return false
	}
	t.Fatalf("GET /settings: %d → %q", status, loc)
	return false
}

// cookieValues decodes the session cookie s holds, with the server's key.
func cookieValues(t *testing.T, app *webtest.App, s *webtest.Session) map[any]any {
	t.Helper()
	raw := s.Cookie("automations_session")
	if raw == "" {
		t.Fatal("no session cookie")
	}
	values := map[any]any{}
	if err := securecookie.New(app.Keys.Session, web.CookieBlockKey(app.Keys.Session)).Decode("automations_session", raw, &values); err != nil {
		t.Fatalf("decode session cookie: %v", err)
	}
	return values
}

// sessionRow is the sessions row s's cookie names.
func sessionRow(t *testing.T, app *webtest.App, s *webtest.Session) people.Session {
	t.Helper()
	token, _ := cookieValues(t, app, s)["sid"].(string)
	var row people.Session
	if err := app.DB.Where("token_hash = ?", people.HashToken(token)).Take(&row).Error; err != nil {
		t.Fatalf("session row for the cookie: %v", err)
	}
	return row
}

func setSessionTimes(t *testing.T, app *webtest.App, id int64, cols map[string]any) {
	t.Helper()
	if err := app.DB.Model(&people.Session{}).Where("id = ?", id).Updates(cols).Error; err != nil {
		t.Fatal(err)
	}
}

func sessionExists(t *testing.T, app *webtest.App, id int64) bool {
	t.Helper()
	var n int64
	if err := app.DB.Model(&people.Session{}).Where("id = ?", id).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func TestSessionCookieHoldsOnlyARandomTokenStoredAsItsHash(t *testing.T) {
	app := webtest.Start(t)
	u := app.User(t, "ada@example.com", false)
	s := app.SignInHTTP(t, "ada@example.com")
	values := cookieValues(t, app, s)
	token, _ := values["sid"].(string)
	if len(token) < 40 || len(values) != 1 {
		t.Fatalf("cookie values %v: want only a random sid", values)
	}
	row := sessionRow(t, app, s)
	if row.UserID != u.ID || row.TokenHash == token || strings.Contains(row.TokenHash, token) {
		t.Fatalf("row %+v: want user %d and only the token's hash", row, u.ID)
	}
	if row.IP != "127.0.0.1" || row.UserAgent == "" {
		t.Errorf("row IP %q, user agent %q: want the peer and the client's agent", row.IP, row.UserAgent)
	}
}

func TestLogoutEndsASavedCopyOfTheCookie(t *testing.T) {
	app := webtest.Start(t)
	app.User(t, "ada@example.com", false)
	s := app.SignInHTTP(t, "ada@example.com")
	saved := s.Copy(t)
	if !signedIn(t, saved) {
		t.Fatal("the copied cookie should work before logout")
	}
	if status, _ := s.PostForm(t, "/logout", url.Values{}); status != http.StatusSeeOther {
		t.Fatalf("logout: %d", status)
	}
	if signedIn(t, saved) {
		t.Fatal("a cookie saved before logout still signs in")
	}
	var n int64
	app.DB.Model(&people.Session{}).Count(&n)
	if n != 0 {
		t.Fatalf("%d session rows after logout, want 0", n)
	}
}

func TestPasswordChangeEndsEveryEarlierCookie(t *testing.T) {
	app := webtest.Start(t)
	u := app.User(t, "ada@example.com", false)
	s := app.SignInHTTP(t, "ada@example.com")
	other := app.SignInHTTP(t, "ada@example.com")
	saved := s.Copy(t)

	status, _, loc := s.PostFormRedirect(t, "/settings/password", url.Values{
		"current_password": {webtest.Password}, "new_password": {"a new long password"}, "confirm_password": {"a new long password"},
	})
	if status != http.StatusSeeOther || loc != "/settings" {
		t.Fatalf("change password: %d → %q", status, loc)
	}
	// The browser that changed the password has a new session.
	if status, page := s.Get(t, "/settings"); status != http.StatusOK || !contains(page, "Password changed") {
		t.Fatalf("after the change: %d, confirmation shown: %v", status, contains(page, "Password changed"))
	}
	if signedIn(t, saved) || signedIn(t, other) {
		t.Fatal("a cookie from before the password change still signs in")
	}
	ctx := context.Background()
	if _, err := models.Authenticate(ctx, app.DB, u.Email, "a new long password"); err != nil {
		t.Fatalf("new password: %v", err)
	}
	if _, err := models.Authenticate(ctx, app.DB, u.Email, webtest.Password); !errors.Is(err, models.ErrBadCredentials) {
		t.Fatalf("old password: %v, want refused", err)
	}
}

func TestPasswordChangeRefusesBadInputBesideTheField(t *testing.T) {
	app := webtest.Start(t)
	u := app.User(t, "ada@example.com", false)
	s := app.SignInHTTP(t, "ada@example.com")
	other := app.SignInHTTP(t, "ada@example.com")
	cases := []struct {
		name                   string
		current, next, confirm string
		wantField, wantMessage string
	}{
		{"wrong current password", "not-my-password", "a new long password", "a new long password", "current_password", "is incorrect"},
		{"no current password", "", "a new long password", "a new long password", "current_password", "is required"},
		{"too short", webtest.Password, "short", "short", "new_password", "must be 8 to 72 characters"},
		{"confirmation differs", webtest.Password, "a new long password", "a new long passwore", "confirm_password", "does not match"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, page := s.PostForm(t, "/settings/password", url.Values{
				"current_password": {c.current}, "new_password": {c.next}, "confirm_password": {c.confirm},
			})
			if status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", status)
			}
			// The message sits in the field's own block.
			i := strings.Index(page, `id="f-`+c.wantField+`"`)
			if i < 0 || !strings.Contains(page[i:min(len(page), i+600)], c.wantMessage) {
				t.Fatalf("no %q beside %s", c.wantMessage, c.wantField)
			}
			if c.next != "" && strings.Contains(page, `value="`+c.next+`"`) {
				t.Error("a password was written back into the form")
			}
		})
	}
	if _, err := models.Authenticate(context.Background(), app.DB, u.Email, webtest.Password); err != nil {
		t.Fatalf("password changed by a refused form: %v", err)
	}
	if !signedIn(t, s) || !signedIn(t, other) {
		t.Fatal("a refused change ended sessions")
	}
}

func TestPasswordResetEndsSessions(t *testing.T) {
	app := webtest.Start(t)
	u := app.User(t, "ada@example.com", false)
	s := app.SignInHTTP(t, "ada@example.com")
	bystander := app.User(t, "bob@example.com", false)
	b := app.SignInHTTP(t, bystander.Email)
	// What `automations admin reset-password` runs.
	if err := people.ResetPassword(context.Background(), app.DB, u.ID, "reset by the admin"); err != nil {
		t.Fatal(err)
	}
	if signedIn(t, s) {
		t.Fatal("a cookie from before the reset still signs in")
	}
	if !signedIn(t, b) {
		t.Fatal("another user's session ended too")
	}
}

func TestIdleTimeoutEndsASession(t *testing.T) {
	app := webtest.Start(t, webtest.WithConfig(func(c *web.Config) { c.SessionIdleTimeout = time.Hour }))
	app.User(t, "ada@example.com", false)
	idle := app.SignInHTTP(t, "ada@example.com")
	recent := app.SignInHTTP(t, "ada@example.com")
	idleRow, recentRow := sessionRow(t, app, idle), sessionRow(t, app, recent)
	now := time.Now().UTC()
	setSessionTimes(t, app, idleRow.ID, map[string]any{"last_seen_at": now.Add(-61 * time.Minute)})
	setSessionTimes(t, app, recentRow.ID, map[string]any{"last_seen_at": now.Add(-59 * time.Minute)})
	if signedIn(t, idle) {
		t.Fatal("a session idle for longer than SESSION_IDLE_TIMEOUT still works")
	}
	if sessionExists(t, app, idleRow.ID) {
		t.Error("the expired session's row was kept")
	}
	if !signedIn(t, recent) {
		t.Fatal("a session idle for less than SESSION_IDLE_TIMEOUT ended")
	}
}

func TestMaxAgeEndsASessionHoweverActive(t *testing.T) {
	app := webtest.Start(t, webtest.WithConfig(func(c *web.Config) { c.SessionMaxAge = 24 * time.Hour }))
	app.User(t, "ada@example.com", false)
	old := app.SignInHTTP(t, "ada@example.com")
	pastExpiry := app.SignInHTTP(t, "ada@example.com")
	young := app.SignInHTTP(t, "ada@example.com")
	now := time.Now().UTC()
	// Seen a moment ago, but signed in more than SESSION_MAX_AGE ago.
	setSessionTimes(t, app, sessionRow(t, app, old).ID, map[string]any{"created_at": now.Add(-25 * time.Hour), "last_seen_at": now})
	// The row's own end (set at sign-in) has passed.
	setSessionTimes(t, app, sessionRow(t, app, pastExpiry).ID, map[string]any{"expires_at": now.Add(-time.Second), "last_seen_at": now})
	setSessionTimes(t, app, sessionRow(t, app, young).ID, map[string]any{"created_at": now.Add(-23 * time.Hour), "last_seen_at": now})
	if signedIn(t, old) {
		t.Fatal("a session older than SESSION_MAX_AGE still works")
	}
	if signedIn(t, pastExpiry) {
		t.Fatal("a session past its expires_at still works")
	}
	if !signedIn(t, young) {
		t.Fatal("a session younger than SESSION_MAX_AGE ended")
	}
}

func TestLastSeenIsWrittenAtMostOnceAMinute(t *testing.T) {
	app := webtest.Start(t)
	app.User(t, "ada@example.com", false)
	s := app.SignInHTTP(t, "ada@example.com")
	row := sessionRow(t, app, s)
	now := time.Now().UTC()
	recent := now.Add(-20 * time.Second).Truncate(time.Second)
	setSessionTimes(t, app, row.ID, map[string]any{"last_seen_at": recent})
	signedIn(t, s)
	if got := sessionRow(t, app, s).LastSeenAt; !got.Equal(recent) {
		t.Fatalf("last_seen_at %v rewritten 20s after the last write, want %v kept", got, recent)
	}
	setSessionTimes(t, app, row.ID, map[string]any{"last_seen_at": now.Add(-5 * time.Minute)})
	signedIn(t, s)
	if got := sessionRow(t, app, s).LastSeenAt; got.Before(now.Add(-time.Second)) {
		t.Fatalf("last_seen_at %v not bumped after 5 minutes", got)
	}
}

func TestRevokingOneSessionEndsExactlyThatOne(t *testing.T) {
	app := webtest.Start(t)
	app.User(t, "ada@example.com", false)
	app.User(t, "bob@example.com", false)
	a := app.SignInHTTP(t, "ada@example.com")
	b := app.SignInHTTP(t, "ada@example.com")
	c := app.SignInHTTP(t, "ada@example.com")
	bob := app.SignInHTTP(t, "bob@example.com")
	aRow, bRow, bobRow := sessionRow(t, app, a), sessionRow(t, app, b), sessionRow(t, app, bob)

	_, page := a.Get(t, "/settings")
	if n := strings.Count(page, `data-testid="revoke-session"`); n != 3 {
		t.Fatalf("%d sessions listed, want ada's 3", n)
	}
	if n := strings.Count(page, `data-testid="this-session"`); n != 1 {
		t.Fatalf("%d 'this session' markers, want 1", n)
	}
	i := strings.Index(page, fmt.Sprintf(`data-testid="session-%d"`, aRow.ID))
	if i < 0 || !strings.Contains(page[i:i+800], "this session") || !strings.Contains(page[i:i+800], "127.0.0.1") {
		t.Fatal("the marker, or the IP, is not on the current session's row")
	}

	if status, _, loc := a.PostFormRedirect(t, fmt.Sprintf("/settings/sessions/%d/revoke", bRow.ID), url.Values{}); status != http.StatusSeeOther || loc != "/settings" {
		t.Fatalf("revoke: %d → %q", status, loc)
	}
	if signedIn(t, b) {
		t.Fatal("the revoked session still works")
	}
	if !signedIn(t, a) || !signedIn(t, c) {
		t.Fatal("revoking one session ended another")
	}
	// Someone else's session is not found, and keeps working.
	if status, _ := a.PostForm(t, fmt.Sprintf("/settings/sessions/%d/revoke", bobRow.ID), url.Values{}); status != http.StatusNotFound {
		t.Fatalf("revoke another user's session: %d, want 404", status)
	}
	if !signedIn(t, bob) {
		t.Fatal("another user's session was revoked")
	}
	// Revoking the current session signs this browser out.
	if status, _, loc := a.PostFormRedirect(t, fmt.Sprintf("/settings/sessions/%d/revoke", aRow.ID), url.Values{}); status != http.StatusSeeOther || loc != "/login" {
		t.Fatalf("revoke this session: %d → %q", status, loc)
	}
	if signedIn(t, a) || !signedIn(t, c) {
		t.Fatal("revoking the current session should end it and only it")
	}
}

func TestSignOutEverywhereElseAndEverywhere(t *testing.T) {
	app := webtest.Start(t)
	app.User(t, "ada@example.com", false)
	app.User(t, "bob@example.com", false)
	a := app.SignInHTTP(t, "ada@example.com")
	b := app.SignInHTTP(t, "ada@example.com")
	bob := app.SignInHTTP(t, "bob@example.com")
	if status, _ := a.PostForm(t, "/settings/sessions/revoke-others", url.Values{}); status != http.StatusSeeOther {
		t.Fatalf("sign out everywhere else: %d", status)
	}
	if !signedIn(t, a) || signedIn(t, b) {
		t.Fatal("everywhere else: want this browser kept and the other ended")
	}
	c := app.SignInHTTP(t, "ada@example.com")
	saved := a.Copy(t)
	if status, _, loc := a.PostFormRedirect(t, "/settings/sessions/revoke-all", url.Values{}); status != http.StatusSeeOther || loc != "/login" {
		t.Fatalf("sign out everywhere: %d → %q", status, loc)
	}
	if signedIn(t, a) || signedIn(t, saved) || signedIn(t, c) {
		t.Fatal("everywhere: a session of the user survived")
	}
	if !signedIn(t, bob) {
		t.Fatal("another user's session ended")
	}
}

func TestDeactivatedUserLosesTheSessionAtOnce(t *testing.T) {
	app := webtest.Start(t)
	u := app.User(t, "ada@example.com", false)
	s := app.SignInHTTP(t, "ada@example.com")
	row := sessionRow(t, app, s)
	setState := func(state models.UserState) {
		if err := app.DB.Model(&models.User{}).Where("id = ?", u.ID).Update("state", state).Error; err != nil {
			t.Fatal(err)
		}
	}
	setState(models.UserDeactivated)
	if signedIn(t, s) {
		t.Fatal("a deactivated user's session still works")
	}
	if sessionExists(t, app, row.ID) {
		t.Error("the deactivated user's session row was kept")
	}
	setState(models.UserActive)
	if signedIn(t, s) {
		t.Fatal("reactivation revived the old session")
	}
}

func TestSignInGoesOnlyToALocalNext(t *testing.T) {
	app := webtest.Start(t)
	app.User(t, "ada@example.com", false)
	for next, want := range map[string]string{
		"/teams/ml?x=1":        "/teams/ml?x=1",
		"/\t/evil.example":     "/",
		"/%09/evil.example":    "/",
		"//evil.example":       "/",
		"https://evil.example": "/",
	} {
		s := app.Anonymous(t)
		status, _, loc := s.PostFormRedirect(t, "/login", url.Values{"email": {"ada@example.com"}, "password": {webtest.Password}, "next": {next}})
		if status != http.StatusSeeOther || loc != want {
			t.Errorf("next %q: %d → %q, want %q", next, status, loc, want)
		}
	}
}

func TestStrictTransportSecurityOnlyForHTTPSSites(t *testing.T) {
	for _, c := range []struct {
		base string
		want string
	}{
		{"https://automations.example.com", "max-age=31536000; includeSubDomains"},
		{"", ""},
	} {
		app := webtest.Start(t, webtest.WithConfig(func(cfg *web.Config) {
			if c.base != "" {
				cfg.BaseURL = c.base
			}
		}))
		for _, path := range []string{"/login", "/static/app.css", "/no-such-page", "/api/v1/teams"} {
			resp, err := http.Get(app.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("Strict-Transport-Security"); got != c.want {
				t.Errorf("base %q, %s (%d): Strict-Transport-Security %q, want %q", c.base, path, resp.StatusCode, got, c.want)
			}
		}
	}
}
