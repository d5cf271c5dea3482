package web_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/audit"
	"github.com/automations-dev/automations/web/webtest"
)

func loadUser(t *testing.T, app *webtest.App, email string) *models.User {
	t.Helper()
	u, err := models.UserByEmail(context.Background(), app.DB, email)
	if err != nil {
		t.Fatalf("load %s: %v", email, err)
	}
	return u
}

// signInStatus posts the sign-in form from a fresh browser and returns the
// status (303 signed in, 401 refused).
func signInStatus(t *testing.T, app *webtest.App, email, password string) int {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(app.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	u, _ := url.Parse(app.URL)
	csrf := ""
	for _, c := range jar.Cookies(u) {
		if c.Name == "_csrf" {
			csrf = c.Value
		}
	}
	resp, err = client.PostForm(app.URL+"/login", url.Values{"email": {email}, "password": {password}, "_csrf": {csrf}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func auditKinds(t *testing.T, app *webtest.App, target string) []string {
	t.Helper()
	var kinds []string
	if err := app.DB.Model(&audit.Entry{}).Where("target = ? AND kind LIKE 'user.%'", target).Order("id").Pluck("kind", &kinds).Error; err != nil {
		t.Fatal(err)
	}
	return kinds
}

// Only site admins may list, create, change or deactivate users, through
// the API and the Admin → Users page; team admins, members and viewers get
// 403 and nothing changes.
func TestUsersRoutesOnlyForSiteAdmins(t *testing.T) {
	f := newTeamFixture(t)
	app := f.app
	target := f.other
	idPath := "/admin/users/" + strconv.FormatInt(target.ID, 10)
	type call struct {
		method, path string
		body         any
		siteStatus   int
	}
	api := []call{
		{"GET", "/api/v1/users", nil, 200},
		{"POST", "/api/v1/users", map[string]string{"email": "made@example.com", "name": "Made"}, 201},
		{"PATCH", "/api/v1/users/" + target.Email, map[string]any{"name": "Renamed"}, 200},
		{"DELETE", "/api/v1/users/" + target.Email, nil, 204},
	}
	html := []struct {
		path       string
		form       url.Values
		siteStatus int
	}{
		{"/admin/users", url.Values{"email": {"form@example.com"}, "name": {"Form"}}, 303},
		{idPath + "/reactivate", url.Values{}, 303},
		{idPath + "/make-site-admin", url.Values{}, 303},
		{idPath + "/remove-site-admin", url.Values{}, 303},
		{idPath + "/deactivate", url.Values{}, 303},
		{idPath + "/invite", url.Values{}, 303}, // refused: not invited
	}
	for _, who := range []string{"admin@example.com", "member@example.com", "viewer@example.com"} {
		u := loadUser(t, app, who)
		key := app.APIKey(t, u)
		for _, c := range api {
			if status, body := app.API(t, key, c.method, c.path, c.body); status != http.StatusForbidden {
				t.Errorf("%s: %s %s = %d %v, want 403", who, c.method, c.path, status, body)
			}
		}
		s := app.SignInHTTP(t, who)
		if status, _ := s.Get(t, "/admin/users"); status != http.StatusForbidden {
			t.Errorf("%s: GET /admin/users = %d, want 403", who, status)
		}
		if _, page := s.Get(t, "/teams"); contains(page, `data-testid="nav-admin-users"`) {
			t.Errorf("%s sees the Admin link", who)
		}
		for _, c := range html {
			if status, _ := s.PostForm(t, c.path, c.form); status != http.StatusForbidden {
				t.Errorf("%s: POST %s = %d, want 403", who, c.path, status)
			}
		}
	}
	// Nothing changed.
	if got := loadUser(t, app, target.Email); got.State != models.UserActive || got.SiteAdmin || got.Name != target.Name {
		t.Fatalf("refused calls changed %s: %+v", target.Email, got)
	}
	for _, email := range []string{"made@example.com", "form@example.com"} {
		if _, err := models.UserByEmail(context.Background(), app.DB, email); err == nil {
			t.Fatalf("refused create made %s", email)
		}
	}

	siteKey := app.APIKey(t, f.site)
	for _, c := range api {
		if status, body := app.API(t, siteKey, c.method, c.path, c.body); status != c.siteStatus {
			t.Errorf("site admin: %s %s = %d %v, want %d", c.method, c.path, status, body, c.siteStatus)
		}
	}
	site := app.SignInHTTP(t, "site@example.com")
	status, page := site.Get(t, "/admin/users")
	if status != 200 || !contains(page, `data-testid="nav-admin-users"`) || !contains(page, `data-testid="user-admin@example.com"`) {
		t.Fatalf("site admin's Admin → Users: %d", status)
	}
	for _, c := range html {
		if status, body := site.PostForm(t, c.path, c.form); status != c.siteStatus {
			t.Errorf("site admin: POST %s = %d, want %d: %s", c.path, status, c.siteStatus, body)
		}
	}
	if got := loadUser(t, app, target.Email); got.State != models.UserDeactivated || got.SiteAdmin || got.Name != "Renamed" {
		t.Fatalf("after the site admin's changes %s is %+v", target.Email, got)
	}
	if got := loadUser(t, app, "form@example.com"); got.State != models.UserInvited || got.SiteAdmin {
		t.Fatalf("form-created user: %+v", got)
	}
	want := []string{"user.rename", "user.deactivate", "user.reactivate", "user.site_admin", "user.site_admin", "user.deactivate"}
	if got := auditKinds(t, app, target.Email); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("audit of %s = %v, want %v", target.Email, got, want)
	}
}

// The users API: list shows people (not service accounts) with their state;
// create with a password is active at once, without one it is invited with
// a link; PATCH changes any subset; errors name the field.
func TestUsersAPI(t *testing.T) {
	app := webtest.Start(t)
	site := app.User(t, "site@example.com", true)
	key := app.APIKey(t, site)
	team := models.Team{Name: "ci"}
	if err := app.DB.Create(&team).Error; err != nil {
		t.Fatal(err)
	}
	robot := models.User{Email: "robot@ci.service", Name: "robot", Username: "robot", State: models.UserActive, ServiceTeamID: &team.ID}
	if err := app.DB.Create(&robot).Error; err != nil {
		t.Fatal(err)
	}

	status, body := app.API(t, key, "POST", "/api/v1/users", map[string]string{"email": "Ada@Example.com", "name": "Ada", "password": "correct horse"})
	if status != 201 || body["email"] != "ada@example.com" || body["state"] != "active" || body["invite_url"] != nil || body["id"] == nil {
		t.Fatalf("create with password: %d %v", status, body)
	}
	status, body = app.API(t, key, "POST", "/api/v1/users", map[string]string{"email": "bo@example.com"})
	link, _ := body["invite_url"].(string)
	if status != 201 || body["state"] != "invited" || body["name"] != "bo" || !strings.HasPrefix(link, app.Config.BaseURL+"/invite/") {
		t.Fatalf("create without password: %d %v", status, body)
	}
	for _, c := range []struct {
		body       any
		wantStatus int
		wantField  string
	}{
		{map[string]string{"email": "ada@example.com", "password": "correct horse"}, 409, "email"},
		{map[string]string{"email": "nope"}, 422, "email"},
		{map[string]string{"email": "short@example.com", "password": "short"}, 422, "password"},
		{map[string]string{"email": "nul@example.com", "name": "a\x00b"}, 422, "name"},
		{map[string]any{"email": "x@example.com", "site_admin": true}, 400, "site_admin"},
	} {
		status, body := app.API(t, key, "POST", "/api/v1/users", c.body)
		if status != c.wantStatus || body["field"] != c.wantField {
			t.Errorf("create %v: %d %v, want %d on %s", c.body, status, body, c.wantStatus, c.wantField)
		}
	}

	status, body = app.API(t, key, "GET", "/api/v1/users", nil)
	users, _ := body["users"].([]any)
	var emails []string
	for _, u := range users {
		m := u.(map[string]any)
		emails = append(emails, m["email"].(string)+":"+m["state"].(string))
	}
	if status != 200 || strings.Join(emails, " ") != "ada@example.com:active bo@example.com:invited site@example.com:active" {
		t.Fatalf("list: %d %v", status, emails)
	}

	status, body = app.API(t, key, "PATCH", "/api/v1/users/ada@example.com", map[string]any{"name": "Ada L."})
	if status != 200 || body["name"] != "Ada L." || body["state"] != "active" || body["site_admin"] != false {
		t.Fatalf("rename: %d %v", status, body)
	}
	status, body = app.API(t, key, "PATCH", "/api/v1/users/ada@example.com", map[string]any{"site_admin": true, "active": true})
	if status != 200 || body["site_admin"] != true || body["name"] != "Ada L." {
		t.Fatalf("make site admin: %d %v", status, body)
	}
	for _, path := range []string{"/api/v1/users/robot@ci.service", "/api/v1/users/nobody@example.com"} {
		if status, body := app.API(t, key, "PATCH", path, map[string]any{"active": false}); status != 404 {
			t.Errorf("PATCH %s: %d %v, want 404", path, status, body)
		}
		if status, _ := app.API(t, key, "DELETE", path, nil); status != 404 {
			t.Errorf("DELETE %s: %d, want 404", path, status)
		}
	}
	if got := loadUser(t, app, "robot@ci.service"); got.State != models.UserActive {
		t.Fatalf("service account changed: %+v", got)
	}
	if kinds := auditKinds(t, app, "bo@example.com"); strings.Join(kinds, ",") != "user.create,user.invite" {
		t.Fatalf("audit of an invited create: %v", kinds)
	}
	var e audit.Entry
	if err := app.DB.Where("target = ? AND kind = ?", "ada@example.com", "user.site_admin").Take(&e).Error; err != nil {
		t.Fatal(err)
	}
	if e.TeamID != nil || e.RegistryID != nil || e.ActorID == nil || *e.ActorID != site.ID || !contains(e.After, `"site_admin":true`) || contains(e.After+e.Before, "password") {
		t.Fatalf("audit entry: %+v", e)
	}
}

// Deactivating a user stops their signed-in browser and their API key on
// the very next request; they cannot sign in again. Reactivating lets them
// sign in with their password again.
func TestDeactivateStopsSessionAndAPIKeyAtOnce(t *testing.T) {
	f := newTeamFixture(t)
	app := f.app
	memberKey := app.APIKey(t, f.member)
	browser := app.SignInHTTP(t, "member@example.com")
	if status, _ := browser.Get(t, "/teams/ml"); status != 200 {
		t.Fatalf("member's session before: %d", status)
	}
	if status, _ := app.API(t, memberKey, "GET", "/api/v1/teams", nil); status != 200 {
		t.Fatalf("member's key before: %d", status)
	}

	siteKey := app.APIKey(t, f.site)
	if status, body := app.API(t, siteKey, "DELETE", "/api/v1/users/member@example.com", nil); status != 204 {
		t.Fatalf("deactivate: %d %v", status, body)
	}
	if status, _, loc := browser.GetRedirect(t, "/teams/ml"); status != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
		t.Fatalf("deactivated member's session: %d → %q, want the sign-in page", status, loc)
	}
	if status, _ := browser.PostForm(t, "/teams/ml/members", url.Values{"email": {"new@example.com"}, "role": {"viewer"}}); status != http.StatusUnauthorized {
		t.Fatalf("deactivated member's session posted: %d, want 401", status)
	}
	if status, _ := app.API(t, memberKey, "GET", "/api/v1/teams", nil); status != http.StatusUnauthorized {
		t.Fatalf("deactivated member's key: %d, want 401", status)
	}
	if status := signInStatus(t, app, "member@example.com", webtest.Password); status != http.StatusUnauthorized {
		t.Fatalf("deactivated member signed in: %d", status)
	}
	if got := loadUser(t, app, "member@example.com"); got.State != models.UserDeactivated || got.Name != "member@example.com" {
		t.Fatalf("deactivated user: %+v", got)
	}
	// History keeps the name: the member is still listed in the team.
	if _, page := app.SignInHTTP(t, "admin@example.com").Get(t, "/teams/ml"); !contains(page, `data-testid="member-member@example.com"`) {
		t.Fatal("deactivated member vanished from the team page")
	}

	status, body := app.API(t, siteKey, "PATCH", "/api/v1/users/member@example.com", map[string]any{"active": true})
	if status != 200 || body["state"] != "active" || body["invite_url"] != nil {
		t.Fatalf("reactivate: %d %v", status, body)
	}
	again := app.SignInHTTP(t, "member@example.com")
	if status, _ := again.Get(t, "/teams/ml"); status != 200 {
		t.Fatalf("reactivated member's new session: %d", status)
	}
}

// The Deactivate button does the same as the API for a signed-in browser.
func TestDeactivateButtonSignsTheUserOut(t *testing.T) {
	f := newTeamFixture(t)
	app := f.app
	browser := app.SignInHTTP(t, "viewer@example.com")
	site := app.SignInHTTP(t, "site@example.com")
	status, _, loc := site.PostFormRedirect(t, "/admin/users/"+strconv.FormatInt(f.viewer.ID, 10)+"/deactivate", url.Values{})
	if status != http.StatusSeeOther || loc != "/admin/users" {
		t.Fatalf("deactivate button: %d → %q", status, loc)
	}
	_, page := site.Get(t, "/admin/users")
	if !contains(page, "Deactivated viewer@example.com") {
		t.Fatal("no confirmation flash")
	}
	if status, _, _ := browser.GetRedirect(t, "/teams/ml"); status != http.StatusSeeOther {
		t.Fatalf("deactivated viewer's session: %d", status)
	}
}

// No change may leave the site without an active site admin: the last one
// can neither deactivate nor demote themselves (409 with a message); with a
// second site admin both work.
func TestLastSiteAdminCannotStepDown(t *testing.T) {
	app := webtest.Start(t)
	site := app.User(t, "site@example.com", true)
	key := app.APIKey(t, site)
	for _, c := range []struct {
		method string
		body   any
	}{
		{"PATCH", map[string]any{"site_admin": false}},
		{"PATCH", map[string]any{"active": false}},
		{"DELETE", nil},
	} {
		status, body := app.API(t, key, c.method, "/api/v1/users/site@example.com", c.body)
		if status != http.StatusConflict || !contains(body["error"].(string), "last active site admin") {
			t.Errorf("%s %v on the last site admin: %d %v", c.method, c.body, status, body)
		}
	}
	browser := app.SignInHTTP(t, "site@example.com")
	status, _, loc := browser.PostFormRedirect(t, "/admin/users/"+strconv.FormatInt(site.ID, 10)+"/remove-site-admin", url.Values{})
	if status != http.StatusSeeOther || loc != "/admin/users" {
		t.Fatalf("remove site admin button: %d → %q", status, loc)
	}
	if _, page := browser.Get(t, "/admin/users"); !contains(page, "last active site admin") {
		t.Fatal("the refusal is not shown")
	}
	if got := loadUser(t, app, "site@example.com"); !got.SiteAdmin || got.State != models.UserActive {
		t.Fatalf("last site admin changed: %+v", got)
	}

	// A deactivated site admin does not count.
	app.User(t, "gone@example.com", true)
	if status, _ := app.API(t, key, "DELETE", "/api/v1/users/gone@example.com", nil); status != 204 {
		t.Fatalf("deactivate another site admin: %d", status)
	}
	if status, _ := app.API(t, key, "PATCH", "/api/v1/users/site@example.com", map[string]any{"site_admin": false}); status != http.StatusConflict {
		t.Fatalf("demote with only a deactivated second admin: %d", status)
	}
	app.User(t, "second@example.com", true)
	if status, body := app.API(t, key, "PATCH", "/api/v1/users/site@example.com", map[string]any{"site_admin": false}); status != 200 || body["site_admin"] != false {
		t.Fatalf("step down with a second site admin: %d %v", status, body)
	}
	secondKey := app.APIKey(t, loadUser(t, app, "second@example.com"))
	if status, _ := app.API(t, secondKey, "DELETE", "/api/v1/users/second@example.com", nil); status != http.StatusConflict {
		t.Fatalf("the new last site admin deactivated themselves: %d", status)
	}
}

// Admin → Users: the form creates active users (with a password) or
// invited ones (the link shows with a Copy button); bad input comes back
// beside the field with the email kept and the password not echoed.
func TestAdminUsersPage(t *testing.T) {
	app := webtest.Start(t)
	app.User(t, "site@example.com", true)
	site := app.SignInHTTP(t, "site@example.com")
	status, _, loc := site.PostFormRedirect(t, "/admin/users", url.Values{"email": {"cy@example.com"}, "name": {"Cy"}, "password": {"correct horse"}})
	if status != http.StatusSeeOther || loc != "/admin/users" {
		t.Fatalf("create with password: %d %q", status, loc)
	}
	if u := loadUser(t, app, "cy@example.com"); u.State != models.UserActive || u.SiteAdmin || u.Name != "Cy" {
		t.Fatalf("created: %+v", u)
	}
	site.PostForm(t, "/admin/users", url.Values{"email": {"di@example.com"}})
	_, page := site.Get(t, "/admin/users")
	if !contains(page, `data-testid="invite-link"`) || !contains(page, `data-copy="`+app.Config.BaseURL+`/invite/`) {
		t.Fatalf("no invitation link with a copy button:\n%s", page)
	}
	if !contains(page, `data-testid="user-di@example.com"`) || !contains(page, ">invited<") {
		t.Fatal("the invited user is not listed as invited")
	}
	firstLink := regexp.MustCompile(`data-copy="([^"]+)"`).FindStringSubmatch(page)[1]

	// A lost link: New invitation link issues a fresh one and retires the old.
	di := loadUser(t, app, "di@example.com")
	site.PostForm(t, "/admin/users/"+strconv.FormatInt(di.ID, 10)+"/invite", url.Values{})
	_, page = site.Get(t, "/admin/users")
	m := regexp.MustCompile(`data-copy="([^"]+)"`).FindStringSubmatch(page)
	if m == nil || m[1] == firstLink {
		t.Fatal("no fresh invitation link")
	}
	assertInviteDead(t, app, invitePath(t, app, firstLink), "di@example.com")
	if status, _ := acceptInvite(t, app, invitePath(t, app, m[1]), "di's password"); status != http.StatusSeeOther {
		t.Fatalf("fresh link: %d", status)
	}
	cy := loadUser(t, app, "cy@example.com")
	site.PostForm(t, "/admin/users/"+strconv.FormatInt(cy.ID, 10)+"/invite", url.Values{})
	if _, page = site.Get(t, "/admin/users"); !contains(page, "only invited users get invitation links") || contains(page, `data-testid="invite-link"`) {
		t.Fatal("an active user got an invitation link")
	}
	status, page = site.PostForm(t, "/admin/users", url.Values{"email": {"cy@example.com"}, "password": {"another secret"}})
	if status != http.StatusConflict || !contains(page, "already exists") || !contains(page, `value="cy@example.com"`) || contains(page, "another secret") {
		t.Fatalf("duplicate: %d", status)
	}
	status, page = site.PostForm(t, "/admin/users", url.Values{"email": {"ed@example.com"}, "password": {"short"}})
	if status != http.StatusUnprocessableEntity || !contains(page, "at least 8") || !contains(page, `value="ed@example.com"`) {
		t.Fatalf("short password: %d", status)
	}
	if status, _ := site.PostForm(t, "/admin/users/999999/deactivate", url.Values{}); status != 404 {
		t.Fatalf("unknown user: %d", status)
	}
	if status, _ := site.PostFormWithoutCSRF(t, "/admin/users", url.Values{"email": {"fo@example.com"}}); status != http.StatusForbidden {
		t.Fatalf("create without CSRF token: %d", status)
	}
}
