package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/web"
	"github.com/automations-dev/automations/web/webtest"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestHealthzFollowsTheDatabase(t *testing.T) {
	app := webtest.Start(t)
	if status, body := app.API(t, "", "GET", "/healthz", nil); status != 200 || body["status"] != "ok" {
		t.Fatalf("healthz: %d %v", status, body)
	}
	sqlDB, err := app.DB.DB()
	if err != nil {
		t.Fatal(err)
	}
	sqlDB.Close()
	if status, _ := app.API(t, "", "GET", "/healthz", nil); status != http.StatusServiceUnavailable {
		t.Fatalf("healthz with the database closed: %d, want 503", status)
	}
}

func TestLoginFailuresDoNotSayWhichFieldWasWrong(t *testing.T) {
	app := webtest.Start(t)
	app.User(t, "ada@example.com", false)
	s := app.SignInHTTP(t, "ada@example.com")
	_, _ = s.Get(t, "/login")
	wrongPassword, bodyA := s.PostForm(t, "/login", url.Values{"email": {"ada@example.com"}, "password": {"nope-nope"}})
	unknownEmail, bodyB := s.PostForm(t, "/login", url.Values{"email": {"bob@example.com"}, "password": {"nope-nope"}})
	if wrongPassword != 401 || unknownEmail != 401 {
		t.Fatalf("statuses %d, %d; want 401", wrongPassword, unknownEmail)
	}
	for _, b := range []string{bodyA, bodyB} {
		if !contains(b, "Email or password is incorrect.") {
			t.Fatalf("missing the one message: %s", b)
		}
	}
}

func TestLoginIsRateLimited(t *testing.T) {
	app := webtest.Start(t)
	app.User(t, "ada@example.com", false)
	s := app.SignInHTTP(t, "ada@example.com")
	for i := 0; i < 10; i++ {
		if status, _ := s.PostForm(t, "/login", url.Values{"email": {"ada@example.com"}, "password": {"guess"}}); status != 401 {
			t.Fatalf("attempt %d: %d", i, status)
		}
	}
	status, body := s.PostForm(t, "/login", url.Values{"email": {"ada@example.com"}, "password": {webtest.Password}})
	if status != http.StatusTooManyRequests || !contains(body, "Too many failed sign-in attempts") {
		t.Fatalf("11th attempt with the right password: %d, want 429", status)
	}
}

func TestPostWithoutCSRFTokenIsForbidden(t *testing.T) {
	app := webtest.Start(t)
	admin := app.User(t, "admin@example.com", false)
	app.User(t, "bob@example.com", false)
	team, err := models.CreateTeam(context.Background(), app.DB, "ml", admin)
	if err != nil {
		t.Fatal(err)
	}
	s := app.SignInHTTP(t, "admin@example.com")
	form := url.Values{"email": {"bob@example.com"}, "role": {"member"}}
	if status, _ := s.PostFormWithoutCSRF(t, "/teams/ml/members", form); status != http.StatusForbidden {
		t.Fatalf("POST without token: %d, want 403", status)
	}
	if ms, _ := models.TeamMembers(context.Background(), app.DB, team.ID); len(ms) != 1 {
		t.Fatalf("members after refused POST: %d, want 1", len(ms))
	}
	if status, _ := s.PostForm(t, "/teams/ml/members", form); status != http.StatusSeeOther {
		t.Fatalf("same POST with the token: %d, want 303", status)
	}
}

func TestSessionCookieFlags(t *testing.T) {
	for _, base := range []string{"", "https://automations.example.com"} {
		app := webtest.Start(t, webtest.WithConfig(func(c *web.Config) {
			if base != "" {
				c.BaseURL = base
			}
		}))
		app.User(t, "ada@example.com", false)
		jarless := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := jarless.Get(app.URL + "/login")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var csrf string
		for _, c := range resp.Cookies() {
			if c.Name == "_csrf" {
				csrf = c.Value
			}
		}
		req, _ := http.NewRequest("POST", app.URL+"/login", strings.NewReader(url.Values{
			"email": {"ada@example.com"}, "password": {webtest.Password}, "_csrf": {csrf},
		}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: "_csrf", Value: csrf})
		resp, err = jarless.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var session *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == "automations_session" {
				session = c
			}
		}
		if session == nil {
			t.Fatalf("no session cookie after sign-in (status %d)", resp.StatusCode)
		}
		if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure != (base != "") {
			t.Errorf("base %q: cookie HttpOnly=%v SameSite=%v Secure=%v", base, session.HttpOnly, session.SameSite, session.Secure)
		}
	}
}

func TestAPIKeys(t *testing.T) {
	app := webtest.Start(t)
	u := app.User(t, "ada@example.com", false)
	s := app.SignInHTTP(t, "ada@example.com")
	status, page := s.PostForm(t, "/settings/api-keys", url.Values{"name": {"ci"}})
	if status != http.StatusCreated {
		t.Fatalf("mint key: %d", status)
	}
	i := strings.Index(page, "ak_")
	if i < 0 {
		t.Fatal("new key not shown")
	}
	key := page[i : i+strings.IndexAny(page[i:], "<\" ")]
	if status, _ := app.API(t, key, "GET", "/api/v1/teams", nil); status != 200 {
		t.Fatalf("API with minted key: %d", status)
	}
	_, again := s.Get(t, "/settings")
	if contains(again, key) {
		t.Fatal("key shown again on the settings page")
	}
	for _, bad := range []string{"", "ak_not-a-key", "Basic abc"} {
		if status, body := app.API(t, bad, "GET", "/api/v1/teams", nil); status != 401 || body["error"] == nil {
			t.Errorf("key %q: %d %v, want 401 with an error", bad, status, body)
		}
	}
	keys, _ := models.APIKeysOf(context.Background(), app.DB, u.ID)
	if len(keys) != 1 || keys[0].KeyHash == key || contains(keys[0].KeyHash, key) {
		t.Fatal("key must be stored only as a hash")
	}
	if status, _ := s.PostForm(t, "/settings/api-keys/"+itoa(keys[0].ID)+"/revoke", url.Values{}); status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", status)
	}
	if status, _ := app.API(t, key, "GET", "/api/v1/teams", nil); status != 401 {
		t.Fatalf("revoked key still works: %d", status)
	}
}

func TestAPIErrorsNameTheField(t *testing.T) {
	app := webtest.Start(t)
	key := app.APIKey(t, app.User(t, "root@example.com", true))
	cases := []struct {
		body       any
		wantStatus int
		wantField  string
	}{
		{`{"name": "bad name!"}`, 422, "name"},
		{`{"name": 3}`, 400, "name"},
		{`{"nmae": "x"}`, 400, "nmae"},
		{`{"name": "x"`, 400, ""},
		{`{"name": "x"} {}`, 400, ""},
		{`{"name": "` + strings.Repeat("a", 3<<20) + `"}`, 413, ""},
	}
	for _, c := range cases {
		status, body := app.API(t, key, "POST", "/api/v1/teams", c.body)
		field, _ := body["field"].(string)
		if status != c.wantStatus || field != c.wantField || body["error"] == nil {
			t.Errorf("%.40s: %d field=%q, want %d field=%q (%v)", c.body, status, field, c.wantStatus, c.wantField, body["error"])
		}
	}
	app.API(t, key, "POST", "/api/v1/teams", map[string]string{"name": "dup"})
	if status, body := app.API(t, key, "POST", "/api/v1/teams", map[string]string{"name": "dup"}); status != 409 || body["field"] != "name" {
		t.Errorf("duplicate team: %d %v", status, body)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
