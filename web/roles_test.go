package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/web/webtest"
)

// teamFixture: a site admin, a team with an admin, a member and a viewer, an
// outsider, and a registry with the same three roles.
type teamFixture struct {
	app                                *webtest.App
	site, admin, member, viewer, other *models.User
	team                               *models.Team
	registry                           *models.Registry
}

func newTeamFixture(t *testing.T, opts ...webtest.Option) *teamFixture {
	t.Helper()
	app := webtest.Start(t, opts...)
	f := &teamFixture{
		app:    app,
		site:   app.User(t, "site@example.com", true),
		admin:  app.User(t, "admin@example.com", false),
		member: app.User(t, "member@example.com", false),
		viewer: app.User(t, "viewer@example.com", false),
		other:  app.User(t, "other@example.com", false),
	}
	ctx := context.Background()
	var err error
	f.team, err = models.CreateTeam(ctx, app.DB, "ml", f.admin)
	if err != nil {
		t.Fatal(err)
	}
	f.registry, err = models.CreateRegistry(ctx, app.DB, "models", "", f.admin)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct {
		u    *models.User
		role models.Role
	}{{f.member, models.RoleMember}, {f.viewer, models.RoleViewer}} {
		if _, err := models.AddTeamMember(ctx, app.DB, f.team.ID, m.u.Email, m.role); err != nil {
			t.Fatal(err)
		}
		if _, err := models.AddRegistryMember(ctx, app.DB, f.registry.ID, m.u.Email, m.role); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *teamFixture) teamRoles(t *testing.T) map[string]models.Role {
	t.Helper()
	ms, err := models.TeamMembers(context.Background(), f.app.DB, f.team.ID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]models.Role{}
	for _, m := range ms {
		out[m.Email] = m.Role
	}
	return out
}

func (f *teamFixture) registryRoles(t *testing.T) map[string]models.Role {
	t.Helper()
	ms, err := models.RegistryMembers(context.Background(), f.app.DB, f.registry.ID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]models.Role{}
	for _, m := range ms {
		out[m.Email] = m.Role
	}
	return out
}

func sameRoles(a, b map[string]models.Role) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// Every forbidden request of DESIGN.md §9 that exists so far, sent directly
// (the buttons are hidden, the server must still refuse), through both the
// HTML forms and the JSON API. Each must answer its status and change nothing.
func TestForbiddenRequestsChangeNothing(t *testing.T) {
	f := newTeamFixture(t)
	otherID := strconv.FormatInt(f.other.ID, 10)
	adminID := strconv.FormatInt(f.admin.ID, 10)
	type form struct {
		as, path   string
		values     url.Values
		wantStatus int
	}
	forms := []form{
		{"member@example.com", "/teams/ml/members", url.Values{"email": {"other@example.com"}, "role": {"admin"}}, 403},
		{"viewer@example.com", "/teams/ml/members", url.Values{"email": {"other@example.com"}, "role": {"viewer"}}, 403},
		{"other@example.com", "/teams/ml/members", url.Values{"email": {"other@example.com"}, "role": {"admin"}}, 404},
		{"member@example.com", "/teams/ml/members/" + adminID + "/role", url.Values{"role": {"viewer"}}, 403},
		{"viewer@example.com", "/teams/ml/members/" + adminID + "/remove", nil, 403},
		{"member@example.com", "/teams", url.Values{"name": {"new-team"}}, 403},
		{"admin@example.com", "/registries", url.Values{"name": {"new-reg"}}, 403},
		{"member@example.com", "/registries/models/members", url.Values{"email": {"other@example.com"}, "role": {"admin"}}, 403},
		{"viewer@example.com", "/registries/models/members/" + adminID + "/role", url.Values{"role": {"viewer"}}, 403},
		{"other@example.com", "/registries/models/members/" + otherID + "/remove", nil, 404},
	}
	teamBefore, regBefore := f.teamRoles(t), f.registryRoles(t)
	for _, c := range forms {
		t.Run("form "+c.as+" "+c.path, func(t *testing.T) {
			s := f.app.SignInHTTP(t, c.as)
			values := c.values
			if values == nil {
				values = url.Values{}
			}
			status, body := s.PostForm(t, c.path, values)
			if status != c.wantStatus {
				t.Fatalf("status %d, want %d: %s", status, c.wantStatus, body)
			}
		})
	}
	type api struct {
		as, method, path string
		body             any
		wantStatus       int
	}
	apis := []api{
		{"member@example.com", "POST", "/api/v1/teams/ml/members", map[string]string{"email": "other@example.com", "role": "admin"}, 403},
		{"viewer@example.com", "PATCH", "/api/v1/teams/ml/members/admin@example.com", map[string]string{"role": "viewer"}, 403},
		{"member@example.com", "DELETE", "/api/v1/teams/ml/members/admin@example.com", nil, 403},
		{"other@example.com", "GET", "/api/v1/teams/ml/members", nil, 404},
		{"admin@example.com", "POST", "/api/v1/teams", map[string]string{"name": "new-team"}, 403},
		{"admin@example.com", "POST", "/api/v1/registries", map[string]string{"name": "new-reg"}, 403},
		{"member@example.com", "POST", "/api/v1/registries/models/members", map[string]string{"email": "other@example.com", "role": "admin"}, 403},
		{"viewer@example.com", "DELETE", "/api/v1/registries/models/members/member@example.com", nil, 403},
	}
	users := map[string]*models.User{"member@example.com": f.member, "viewer@example.com": f.viewer, "other@example.com": f.other, "admin@example.com": f.admin}
	for _, c := range apis {
		t.Run("api "+c.as+" "+c.method+" "+c.path, func(t *testing.T) {
			status, body := f.app.API(t, f.app.APIKey(t, users[c.as]), c.method, c.path, c.body)
			if status != c.wantStatus {
				t.Fatalf("status %d, want %d: %v", status, c.wantStatus, body)
			}
			if body["error"] == "" || body["error"] == nil {
				t.Fatalf("no error message in %v", body)
			}
		})
	}
	if got := f.teamRoles(t); !sameRoles(got, teamBefore) {
		t.Errorf("team members changed: %v, was %v", got, teamBefore)
	}
	if got := f.registryRoles(t); !sameRoles(got, regBefore) {
		t.Errorf("registry members changed: %v, was %v", got, regBefore)
	}
	var teams, regs int64
	f.app.DB.Model(&models.Team{}).Count(&teams)
	f.app.DB.Model(&models.Registry{}).Count(&regs)
	if teams != 1 || regs != 1 {
		t.Errorf("teams=%d registries=%d, want 1 and 1", teams, regs)
	}
}

// The same requests succeed for those §9 allows, so the 403s above are role
// checks and not broken routes.
func TestAllowedRequestsSucceed(t *testing.T) {
	f := newTeamFixture(t)
	admin := f.app.SignInHTTP(t, "admin@example.com")
	if status, body := admin.PostForm(t, "/teams/ml/members", url.Values{"email": {"other@example.com"}, "role": {"viewer"}}); status != http.StatusSeeOther {
		t.Fatalf("team admin adds member: %d %s", status, body)
	}
	otherID := strconv.FormatInt(f.other.ID, 10)
	if status, _ := admin.PostForm(t, "/teams/ml/members/"+otherID+"/role", url.Values{"role": {"member"}}); status != http.StatusSeeOther {
		t.Fatalf("team admin changes role: %d", status)
	}
	if got := f.teamRoles(t)["other@example.com"]; got != models.RoleMember {
		t.Fatalf("role after change = %q", got)
	}
	if status, _ := admin.PostForm(t, "/teams/ml/members/"+otherID+"/remove", url.Values{}); status != http.StatusSeeOther {
		t.Fatalf("team admin removes member: %d", status)
	}
	if _, ok := f.teamRoles(t)["other@example.com"]; ok {
		t.Fatal("member still there after removal")
	}
	site := f.app.APIKey(t, f.site)
	if status, body := f.app.API(t, site, "POST", "/api/v1/teams", map[string]string{"name": "vision"}); status != 201 {
		t.Fatalf("site admin creates team: %d %v", status, body)
	}
	if status, body := f.app.API(t, site, "POST", "/api/v1/registries", map[string]string{"name": "datasets"}); status != 201 {
		t.Fatalf("site admin creates registry: %d %v", status, body)
	}
	// A site admin is admin everywhere, member or not.
	if status, body := f.app.API(t, site, "POST", "/api/v1/registries/models/members", map[string]string{"email": "other@example.com", "role": "member"}); status != 201 {
		t.Fatalf("site admin adds registry member: %d %v", status, body)
	}
	if got := f.registryRoles(t)["other@example.com"]; got != models.RoleMember {
		t.Fatalf("registry role = %q", got)
	}
	viewerKey := f.app.APIKey(t, f.viewer)
	status, body := f.app.API(t, viewerKey, "GET", "/api/v1/teams/ml/members", nil)
	if status != 200 || len(body["members"].([]any)) != 3 {
		t.Fatalf("viewer lists members: %d %v", status, body)
	}
}

func TestLastAdminCannotBeRemovedOrDemoted(t *testing.T) {
	f := newTeamFixture(t)
	key := f.app.APIKey(t, f.admin)
	status, body := f.app.API(t, key, "PATCH", "/api/v1/teams/ml/members/admin@example.com", map[string]string{"role": "member"})
	if status != http.StatusConflict || body["field"] != "role" {
		t.Fatalf("demote last admin: %d %v", status, body)
	}
	status, _ = f.app.API(t, key, "DELETE", "/api/v1/registries/models/members/admin@example.com", nil)
	if status != http.StatusConflict {
		t.Fatalf("remove last registry admin: %d", status)
	}
	// With a second admin, the first may step down.
	if status, _ := f.app.API(t, key, "PATCH", "/api/v1/teams/ml/members/member@example.com", map[string]string{"role": "admin"}); status != 200 {
		t.Fatalf("promote: %d", status)
	}
	if status, _ := f.app.API(t, key, "PATCH", "/api/v1/teams/ml/members/admin@example.com", map[string]string{"role": "viewer"}); status != 200 {
		t.Fatalf("step down with another admin: %d", status)
	}
	if got := f.teamRoles(t); got["admin@example.com"] != models.RoleViewer || got["member@example.com"] != models.RoleAdmin {
		t.Fatalf("roles = %v", got)
	}
}

func TestMemberFormErrorsStayBesideTheField(t *testing.T) {
	f := newTeamFixture(t)
	admin := f.app.SignInHTTP(t, "admin@example.com")
	cases := []struct {
		email, role string
		wantStatus  int
		wantText    string
	}{
		{"not-an-email", "member", 422, "is not an email address"},
		{"member@example.com", "member", 409, "already a member"},
		{"other@example.com", "owner", 422, "is not a role"},
	}
	for _, c := range cases {
		status, body := admin.PostForm(t, "/teams/ml/members", url.Values{"email": {c.email}, "role": {c.role}})
		if status != c.wantStatus || !contains(body, c.wantText) || !contains(body, `value="`+c.email+`"`) {
			t.Errorf("%s/%s: status %d, want %d with %q and the email kept", c.email, c.role, status, c.wantStatus, c.wantText)
		}
	}
}
