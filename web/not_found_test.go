package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/web/webtest"
)

// A team, registry, project, member, automation or delivery that does not
// exist and one that exists but the caller may not see get byte-identical
// answers, so names, emails and ids cannot be probed.
func TestMissingAndHiddenAnswerAlike(t *testing.T) {
	f := newAutomationFixture(t, func(int) int { return http.StatusOK }, webtest.WithoutWorker())
	app := f.app
	ctx := context.Background()
	auto := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", projectAutomation("on create", "CREATE_ARTIFACT", `{"v": "${event_type}"}`))
	autoID := fmt.Sprint(auto["id"])
	f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "data", "type": "dataset"})
	ds := f.must(t, http.StatusOK, "GET", "/api/v1/automations/"+autoID+"/deliveries", nil)["deliveries"].([]any)
	if len(ds) != 1 {
		t.Fatalf("deliveries %v", ds)
	}
	uid := ds[0].(map[string]any)["id"].(string)
	f.must(t, http.StatusCreated, "POST", "/api/v1/registries", map[string]any{"name": "hidden"})

	// The caller administers a team and a registry of their own; bob has
	// an account but is in neither.
	outsider := app.User(t, "outsider@example.com", false)
	bob := app.User(t, "bob@example.com", false)
	mine, err := models.CreateTeam(ctx, app.DB, "mine", outsider)
	if err != nil {
		t.Fatal(err)
	}
	minep, err := models.CreateProject(ctx, app.DB, mine, "p", outsider)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := models.CreateQueue(ctx, app.DB, mine, "q", outsider); err != nil {
		t.Fatal(err)
	}
	if _, _, err := models.LogArtifact(ctx, app.DB, mine, minep, models.NewArtifact{Name: "train", Type: "job"}, outsider); err != nil {
		t.Fatal(err)
	}
	if _, err := models.CreateRegistry(ctx, app.DB, "myreg", "", outsider); err != nil {
		t.Fatal(err)
	}
	key := app.APIKey(t, outsider)

	api := []struct {
		method, missing, hidden string
		body                    any
	}{
		{"GET", "/api/v1/teams/nosuch/members", "/api/v1/teams/ml/members", nil},
		{"POST", "/api/v1/teams/nosuch/members", "/api/v1/teams/ml/members", map[string]any{"email": "bob@example.com", "role": "member"}},
		{"PATCH", "/api/v1/teams/nosuch/members/admin@example.com", "/api/v1/teams/ml/members/admin@example.com", map[string]any{"role": "viewer"}},
		{"GET", "/api/v1/teams/nosuch/projects", "/api/v1/teams/ml/projects", nil},
		{"GET", "/api/v1/teams/nosuch/queues", "/api/v1/teams/ml/queues", nil},
		{"GET", "/api/v1/teams/nosuch/secrets", "/api/v1/teams/ml/secrets", nil},
		{"GET", "/api/v1/projects/nosuch/mnist/artifacts", "/api/v1/projects/ml/mnist/artifacts", nil},
		{"GET", "/api/v1/registries/nosuch/members", "/api/v1/registries/hidden/members", nil},
		{"DELETE", "/api/v1/registries/nosuch/members/admin@example.com", "/api/v1/registries/hidden/members/admin@example.com", nil},
		{"GET", "/api/v1/registries/nosuch/collections", "/api/v1/registries/hidden/collections", nil},
		{"PATCH", "/api/v1/teams/mine/members/nobody@example.com", "/api/v1/teams/mine/members/bob@example.com", map[string]any{"role": "viewer"}},
		{"DELETE", "/api/v1/teams/mine/members/nobody@example.com", "/api/v1/teams/mine/members/bob@example.com", nil},
		{"PATCH", "/api/v1/registries/myreg/members/nobody@example.com", "/api/v1/registries/myreg/members/bob@example.com", map[string]any{"role": "viewer"}},
		{"DELETE", "/api/v1/registries/myreg/members/nobody@example.com", "/api/v1/registries/myreg/members/bob@example.com", nil},
		{"GET", "/api/v1/automations/999999", "/api/v1/automations/" + autoID, nil},
		{"PATCH", "/api/v1/automations/999999", "/api/v1/automations/" + autoID, map[string]any{"enabled": false}},
		{"DELETE", "/api/v1/automations/999999", "/api/v1/automations/" + autoID, nil},
		{"GET", "/api/v1/automations/999999/deliveries", "/api/v1/automations/" + autoID + "/deliveries", nil},
		{"POST", "/api/v1/deliveries/dlv_nosuch/redeliver", "/api/v1/deliveries/" + uid + "/redeliver", nil},
	}
	for _, c := range api {
		t.Run(c.method+" "+c.hidden, func(t *testing.T) {
			ms, mb := app.APIRaw(t, key, c.method, c.missing, c.body)
			hs, hb := app.APIRaw(t, key, c.method, c.hidden, c.body)
			if ms != http.StatusNotFound || hs != ms || string(hb) != string(mb) {
				t.Fatalf("missing: %d %s\nhidden:  %d %s", ms, mb, hs, hb)
			}
		})
	}
	// Creating an automation in a scope one cannot see.
	for _, scope := range []struct{ missing, hidden map[string]any }{
		{map[string]any{"type": "project", "project": "nosuch/mnist"}, map[string]any{"type": "project", "project": "ml/mnist"}},
		{map[string]any{"type": "registry", "registry": "nosuch"}, map[string]any{"type": "registry", "registry": "hidden"}},
	} {
		body := func(s map[string]any) map[string]any {
			b := projectAutomation("x", "CREATE_ARTIFACT", `{}`)
			b["scope"] = s
			return b
		}
		ms, mb := app.APIRaw(t, key, "POST", "/api/v1/automations", body(scope.missing))
		hs, hb := app.APIRaw(t, key, "POST", "/api/v1/automations", body(scope.hidden))
		mb = []byte(strings.ReplaceAll(string(mb), "nosuch", "NAME"))
		hb = []byte(strings.ReplaceAll(strings.ReplaceAll(string(hb), "ml", "NAME"), "hidden", "NAME"))
		if ms != http.StatusNotFound || hs != ms || string(hb) != string(mb) {
			t.Errorf("automation scope %v:\nmissing: %d %s\nhidden:  %d %s", scope.hidden, ms, mb, hs, hb)
		}
	}

	// Naming another team's integration or project inside an automation.
	inMine := func(action map[string]any) map[string]any {
		return map[string]any{
			"name": "x", "enabled": true,
			"scope":  map[string]any{"type": "project", "project": "mine/p"},
			"event":  map[string]any{"type": "CREATE_ARTIFACT"},
			"action": action,
		}
	}
	launch := func(dest string) map[string]any {
		return map[string]any{"type": "launch", "team": "mine", "queue": "q", "job": "mine/p/train", "job_version": "latest", "destination_project": dest}
	}
	for _, c := range []struct{ missing, hidden map[string]any }{
		{inMine(map[string]any{"type": "webhook", "team": "nosuch", "webhook": "ci", "payload": "{}"}),
			inMine(map[string]any{"type": "webhook", "team": "ml", "webhook": "ci", "payload": "{}"})},
		{inMine(launch("nosuch/mnist")), inMine(launch("ml/mnist"))},
	} {
		ms, mb := app.APIRaw(t, key, "POST", "/api/v1/automations", c.missing)
		hs, hb := app.APIRaw(t, key, "POST", "/api/v1/automations", c.hidden)
		mb = []byte(strings.ReplaceAll(string(mb), "nosuch", "NAME"))
		hb = []byte(strings.ReplaceAll(string(hb), `ml`, "NAME"))
		if ms != http.StatusUnprocessableEntity || hs != ms || string(hb) != string(mb) {
			t.Errorf("automation action %v:\nmissing: %d %s\nhidden:  %d %s", c.hidden["action"], ms, mb, hs, hb)
		}
	}

	s := app.SignInHTTP(t, "outsider@example.com")
	bobID := fmt.Sprint(bob.ID)
	pages := []struct {
		method, missing, hidden string
		form                    url.Values
	}{
		{"GET", "/teams/nosuch", "/teams/ml", nil},
		{"GET", "/registries/nosuch", "/registries/hidden", nil},
		{"GET", "/registries/nosuch/members", "/registries/hidden/members", nil},
		{"GET", "/projects/nosuch/mnist", "/projects/ml/mnist", nil},
		{"POST", "/teams/nosuch/members", "/teams/ml/members", url.Values{"email": {"bob@example.com"}, "role": {"member"}}},
		{"POST", "/teams/mine/members/999999/role", "/teams/mine/members/" + bobID + "/role", url.Values{"role": {"viewer"}}},
		{"POST", "/teams/mine/members/999999/remove", "/teams/mine/members/" + bobID + "/remove", url.Values{}},
		{"POST", "/teams/mine/members/x/remove", "/teams/mine/members/" + bobID + "/remove", url.Values{}},
		{"POST", "/registries/myreg/members/999999/role", "/registries/myreg/members/" + bobID + "/role", url.Values{"role": {"viewer"}}},
		{"POST", "/registries/myreg/members/999999/remove", "/registries/myreg/members/" + bobID + "/remove", url.Values{}},
		{"GET", "/automations/999999", "/automations/" + autoID, nil},
		{"GET", "/automations/999999/deliveries", "/automations/" + autoID + "/deliveries", nil},
		{"POST", "/automations/999999/toggle", "/automations/" + autoID + "/toggle", url.Values{}},
		{"POST", "/deliveries/dlv_nosuch/redeliver", "/deliveries/" + uid + "/redeliver", url.Values{}},
	}
	for _, c := range pages {
		t.Run(c.method+" "+c.hidden, func(t *testing.T) {
			get := func(path string) (int, string) {
				if c.method == "GET" {
					return s.Get(t, path)
				}
				return s.PostForm(t, path, c.form)
			}
			ms, mb := get(c.missing)
			hs, hb := get(c.hidden)
			if ms != http.StatusNotFound || hs != ms || hb != mb {
				t.Fatalf("missing: %d %s\nhidden:  %d %s", ms, mb, hs, hb)
			}
		})
	}
	// Nothing changed: bob is still in no team, the automation still on.
	if teams, err := models.TeamsOf(ctx, app.DB, bob); err != nil || len(teams) != 0 {
		t.Fatalf("bob's teams %v, %v", teams, err)
	}
	if a, err := models.AutomationByID(ctx, app.DB, int64(auto["id"].(float64))); err != nil || !a.Enabled {
		t.Fatalf("automation %+v, %v", a, err)
	}
}
