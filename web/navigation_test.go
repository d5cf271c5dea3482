package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/web"
	"github.com/automations-dev/automations/web/webtest"
)

// count is how many times pattern occurs in a page.
func count(page, pattern string) int {
	return len(regexp.MustCompile(pattern).FindAllStringIndex(page, -1))
}

// logVersions logs n versions of collection "mnist-model" in ml/mnist.
func (f *automationFixture) logVersions(t *testing.T, n int) {
	t.Helper()
	for range n {
		f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "mnist-model", "type": "model"})
	}
}

// The home page answers "is anything broken?": an automation whose
// delivery is retrying is listed for a member of its team, with its
// counts and a link to the project's Automations history; someone in no
// team of it sees that nothing is broken.
func TestHomeListsAutomationsWithRetryingDeliveries(t *testing.T) {
	f := newAutomationFixture(t, func(int) int { return http.StatusInternalServerError },
		webtest.WithConfig(func(c *web.Config) { c.RetrySchedule = "1h" }))
	a := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", projectAutomation("broken-hook", "CREATE_ARTIFACT", `{"v": "${artifact_version_string}"}`))
	f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "mnist-model", "type": "model"})
	f.receiver.next(t)
	f.deliveries(t, a["id"], allIn("retrying", 1))

	viewer := f.app.User(t, "viewer@example.com", false)
	f.must(t, http.StatusCreated, "POST", "/api/v1/teams/ml/members", map[string]any{"email": viewer.Email, "role": "viewer"})
	f.app.User(t, "stranger@example.com", false)

	status, page := f.app.SignInHTTP(t, "viewer@example.com").Get(t, "/")
	if status != http.StatusOK {
		t.Fatalf("GET / = %d", status)
	}
	row := regexp.MustCompile(`(?s)<tr data-testid="troubled-broken-hook">.*?</tr>`).FindString(page)
	if row == "" {
		t.Fatalf("home does not list broken-hook:\n%s", page)
	}
	for _, want := range []string{
		`href="/automations/` + fmt.Sprint(a["id"]) + `"`, `href="/projects/ml/mnist/history"`,
		`<td data-testid="troubled-retrying">1</td>`, `<td data-testid="troubled-failed">0</td>`,
	} {
		if !strings.Contains(row, want) {
			t.Errorf("troubled row lacks %s:\n%s", want, row)
		}
	}
	if strings.Contains(page, `data-testid="all-clear"`) {
		t.Error("home says all clear while a delivery is retrying")
	}
	if !strings.Contains(page, `href="/projects/ml/mnist/artifacts/mnist-model/v0"`) {
		t.Error("recent events do not link the version")
	}

	_, page = f.app.SignInHTTP(t, "stranger@example.com").Get(t, "/")
	if !strings.Contains(page, `data-testid="all-clear"`) || strings.Contains(page, "broken-hook") || strings.Contains(page, "mnist-model") {
		t.Errorf("a user in no team of the automation sees it on the home page:\n%s", page)
	}
}

// Retry now makes a retrying delivery go out at once (its next attempt was
// an hour away); htmx gets the row back open, saying so. On a delivery
// that is not retrying it is refused in the row; a viewer may not.
func TestRetryNowSendsARetryingDeliveryAtOnce(t *testing.T) {
	f := newAutomationFixture(t, func(int) int { return http.StatusServiceUnavailable },
		webtest.WithConfig(func(c *web.Config) { c.RetrySchedule = "1h,1h" }))
	a := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", projectAutomation("flaky", "CREATE_ARTIFACT", `{"v": "${artifact_version_string}"}`))
	f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "mnist-model", "type": "model"})
	f.receiver.next(t)
	ds := f.deliveries(t, a["id"], allIn("retrying", 1))
	uid := ds[0]["id"].(string)

	viewer := f.app.User(t, "viewer@example.com", false)
	f.must(t, http.StatusCreated, "POST", "/api/v1/teams/ml/members", map[string]any{"email": viewer.Email, "role": "viewer"})
	if status, _ := f.app.SignInHTTP(t, viewer.Email).PostFormHTMX(t, "/deliveries/"+uid+"/retry-now", url.Values{}); status != http.StatusForbidden {
		t.Errorf("a viewer's Retry now: status %d, want 403", status)
	}

	admin := f.app.SignInHTTP(t, "admin@example.com")
	_, page := admin.Get(t, fmt.Sprintf("/automations/%v", a["id"]))
	if !strings.Contains(page, `data-testid="retry-now"`) || !strings.Contains(page, `data-testid="delivery-next"`) {
		t.Fatalf("a retrying delivery shows no Retry now or next attempt:\n%s", page)
	}
	status, row := admin.PostFormHTMX(t, "/deliveries/"+uid+"/retry-now", url.Values{})
	if status != http.StatusOK || !strings.Contains(row, `id="delivery-`+uid+`"`) || !strings.Contains(row, " open") ||
		!strings.Contains(row, "Retrying now") {
		t.Fatalf("Retry now answered %d:\n%s", status, row)
	}
	f.receiver.next(t) // the second attempt, long before the hour
	f.deliveries(t, a["id"], func(ds []map[string]any) bool {
		return len(ds) == 1 && ds[0]["attempts"] == float64(2) && ds[0]["state"] == "retrying"
	})

	// Redeliver is refused while it is still retrying: said in the row.
	status, row = admin.PostFormHTMX(t, "/deliveries/"+uid+"/redeliver", url.Values{})
	if status != http.StatusOK || !strings.Contains(row, `data-testid="delivery-notice"`) || !strings.Contains(row, "Not done: this delivery is still retrying") {
		t.Errorf("Redeliver of a retrying delivery answered %d:\n%s", status, row)
	}
}

// Delivery history comes in pages of 25, newest first, with Older/Newer
// links keeping the filters; rows name their event's version (linked);
// the state filter and search narrow it; the project's Automations
// history lists the same deliveries naming their automation.
func TestDeliveryHistoryPagesFiltersAndScopeTab(t *testing.T) {
	f := newAutomationFixture(t, nil)
	a := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", projectAutomation("notify", "CREATE_ARTIFACT", `{"v": "${artifact_version_string}"}`))
	f.logVersions(t, 30)
	f.deliveries(t, a["id"], func(ds []map[string]any) bool { return len(ds) == 30 && allIn("succeeded", 30)(ds) })

	s := f.app.SignInHTTP(t, "admin@example.com")
	path := fmt.Sprintf("/automations/%v", a["id"])
	_, page := s.Get(t, path)
	if n := count(page, `data-testid="delivery" `); n != 25 {
		t.Errorf("first page lists %d deliveries, want 25", n)
	}
	if !strings.Contains(page, `data-testid="delivery-version">ml/mnist/mnist-model:v29</span>`) ||
		!strings.Contains(page, `href="/projects/ml/mnist/artifacts/mnist-model/v29" data-testid="delivery-version-link">ml/mnist/mnist-model:v29</a>`) {
		t.Errorf("the newest row does not name and link v29:\n%s", page)
	}
	if !strings.Contains(page, `href="`+path+`?page=2"`) || strings.Contains(page, `data-testid="page-newer"`) {
		t.Errorf("first page: no Older link or a Newer one")
	}
	_, page = s.Get(t, path+"?page=2")
	if n := count(page, `data-testid="delivery" `); n != 5 || !strings.Contains(page, `data-testid="page-newer"`) || strings.Contains(page, `data-testid="page-older"`) {
		t.Errorf("second page: %d deliveries, want 5 with a Newer link and no Older", n)
	}
	if !strings.Contains(page, "mnist-model:v0<") {
		t.Error("the oldest delivery is not on the last page")
	}
	_, page = s.Get(t, path+"?state=failed")
	if n := count(page, `data-testid="delivery" `); n != 0 || !strings.Contains(page, "No deliveries match.") {
		t.Errorf("state=failed lists %d deliveries", n)
	}
	_, page = s.Get(t, path+"?q=mnist-model:v17&state=succeeded")
	if n := count(page, `data-testid="delivery" `); n != 1 || !strings.Contains(page, "mnist-model:v17<") {
		t.Errorf("search for v17 lists %d deliveries", n)
	}

	_, page = s.Get(t, "/projects/ml/mnist/history")
	if n := count(page, `data-testid="delivery-automation-link">notify</a>`); n != 25 {
		t.Errorf("Automations history names the automation in %d rows, want 25", n)
	}
	if !strings.Contains(page, `href="/projects/ml/mnist/history?page=2"`) {
		t.Error("Automations history has no second page")
	}
	for _, crumb := range []string{`<a href="/">Home</a>`, `<a href="/projects">Projects</a>`, `<a href="/teams/ml">ml</a>`, `<a href="/projects/ml/mnist/history" aria-current="page">Automations history</a>`} {
		if !strings.Contains(page, crumb) {
			t.Errorf("breadcrumbs lack %s", crumb)
		}
	}
	// Times are written in UTC without the reader's zone, in theirs with it.
	if !regexp.MustCompile(`<time datetime="[0-9T:-]+Z" data-local>[0-9 :-]+ UTC</time>`).MatchString(page) {
		t.Error("no UTC <time> in the history")
	}
}

// Events and versions lists come in pages, and search finds one version
// by vN or an alias.
func TestEventsAndVersionsSearchAndPages(t *testing.T) {
	f := newAutomationFixture(t, nil)
	f.logVersions(t, 27)
	f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "mnist-model", "type": "model", "aliases": []string{"champion"}})
	s := f.app.SignInHTTP(t, "admin@example.com")
	_, page := s.Get(t, "/projects/ml/mnist/events")
	if n := count(page, `<tr data-testid="event-`); n != 25 || !strings.Contains(page, `href="/projects/ml/mnist/events?page=2"`) {
		t.Errorf("events page 1: %d rows", n)
	}
	_, page = s.Get(t, "/projects/ml/mnist/events?page=2")
	// 28 versions and the alias added with the last one: 29 events.
	if n := count(page, `<tr data-testid="event-`); n != 4 {
		t.Errorf("events page 2: %d rows, want 4", n)
	}
	_, page = s.Get(t, "/projects/ml/mnist/events?q=mnist-model:v3")
	if n := count(page, `<tr data-testid="event-`); n != 1 {
		t.Errorf("events search for mnist-model:v3 finds %d", n)
	}

	coll := "/projects/ml/mnist/artifacts/mnist-model"
	_, page = s.Get(t, coll)
	if n := count(page, `<tr data-testid="version-`); n != 25 || !strings.Contains(page, `href="`+coll+`?page=2"`) {
		t.Errorf("versions page 1: %d rows", n)
	}
	_, page = s.Get(t, coll+"?page=2")
	if n := count(page, `<tr data-testid="version-`); n != 3 || !strings.Contains(page, `data-testid="version-v0"`) {
		t.Errorf("versions page 2: %d rows", n)
	}
	_, page = s.Get(t, coll+"?q=v12")
	if n := count(page, `<tr data-testid="version-`); n != 1 || !strings.Contains(page, `data-testid="version-v12"`) {
		t.Errorf("search v12 finds %d versions", n)
	}
	_, page = s.Get(t, coll+"?q=CHAMP")
	if n := count(page, `<tr data-testid="version-`); n != 1 || !strings.Contains(page, `data-testid="version-v27"`) {
		t.Errorf("search for the alias finds %d versions", n)
	}
	_, page = s.Get(t, coll+"?q=100%25")
	if !strings.Contains(page, `data-testid="no-versions"`) {
		t.Error("a search with % matched something")
	}
}

// Automations lists: search by name, pages, and a Scope column saying
// registry-wide or which collection (linked).
func TestAutomationListsSearchPagesAndScope(t *testing.T) {
	f := newAutomationFixture(t, nil)
	for i := range 27 {
		f.must(t, http.StatusCreated, "POST", "/api/v1/automations", projectAutomation(fmt.Sprintf("hook-%02d", i), "CREATE_ARTIFACT", `{}`))
	}
	s := f.app.SignInHTTP(t, "admin@example.com")
	_, page := s.Get(t, "/projects/ml/mnist/automations")
	if n := count(page, `<tr data-testid="automation-`); n != 25 || !strings.Contains(page, `?page=2"`) {
		t.Errorf("automations page 1: %d rows", n)
	}
	_, page = s.Get(t, "/projects/ml/mnist/automations?q=HOOK-2")
	if n := count(page, `<tr data-testid="automation-`); n != 7 {
		t.Errorf("search hook-2 finds %d, want 7 (hook-20…hook-26)", n)
	}

	f.must(t, http.StatusCreated, "POST", "/api/v1/registries", map[string]any{"name": "models"})
	v := f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "m", "type": "model"})
	f.must(t, http.StatusCreated, "POST", fmt.Sprintf("/api/v1/artifacts/%v/links", v["id"]), map[string]any{"registry": "models", "collection": "clf"})
	reg := func(name string, scope map[string]any) map[string]any {
		return map[string]any{"name": name, "scope": scope, "event": map[string]any{"type": "LINK_ARTIFACT"},
			"action": map[string]any{"type": "webhook", "team": "ml", "webhook": "ci", "payload": `{}`}}
	}
	f.must(t, http.StatusCreated, "POST", "/api/v1/automations", reg("everywhere", map[string]any{"type": "registry", "registry": "models"}))
	f.must(t, http.StatusCreated, "POST", "/api/v1/automations", reg("only-clf", map[string]any{"type": "registry_collection", "registry": "models", "collection": "clf"}))
	_, page = s.Get(t, "/registries/models/automations")
	for name, want := range map[string]string{
		"everywhere": `<td data-testid="automation-scope">Registry-wide</td>`,
		"only-clf":   `<td data-testid="automation-scope"><a href="/registries/models/collections/clf">Collection clf</a></td>`,
	} {
		row := regexp.MustCompile(`(?s)<tr data-testid="automation-` + name + `">.*?</tr>`).FindString(page)
		if !strings.Contains(row, want) {
			t.Errorf("%s row lacks %s:\n%s", name, want, row)
		}
	}
}

// A second automation with the same name (in any case) in the same
// project or registry is refused with 409 on name, by the API and the
// wizard; another project may reuse the name.
func TestDuplicateAutomationNamesRefusedPerScope(t *testing.T) {
	f := newAutomationFixture(t, nil)
	f.must(t, http.StatusCreated, "POST", "/api/v1/automations", projectAutomation("Deploy", "CREATE_ARTIFACT", `{}`))
	status, out := f.app.API(t, f.key, "POST", "/api/v1/automations", projectAutomation("deploy", "CREATE_ARTIFACT", `{}`))
	if status != http.StatusConflict || out["field"] != "name" {
		t.Errorf("duplicate name: %d %v", status, out)
	}
	f.must(t, http.StatusCreated, "POST", "/api/v1/teams/ml/projects", map[string]any{"name": "other"})
	other := projectAutomation("deploy", "CREATE_ARTIFACT", `{}`)
	other["scope"] = map[string]any{"type": "project", "project": "ml/other"}
	f.must(t, http.StatusCreated, "POST", "/api/v1/automations", other)
	// Renaming another automation onto the name is refused too.
	b := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", projectAutomation("second", "CREATE_ARTIFACT", `{}`))
	status, out = f.app.API(t, f.key, "PATCH", fmt.Sprintf("/api/v1/automations/%v", b["id"]), map[string]any{"name": "DEPLOY"})
	if status != http.StatusConflict || out["field"] != "name" {
		t.Errorf("rename onto a taken name: %d %v", status, out)
	}

	// The wizard shows it with every other problem of the form at once.
	s := f.app.SignInHTTP(t, "admin@example.com")
	status, page := s.PostForm(t, "/projects/ml/mnist/automations/new", url.Values{
		"step": {"3"}, "go": {"save"}, "event_type": {"CREATE_ARTIFACT"}, "team": {"ml"}, "action_type": {"webhook"},
		"webhook": {"ci"}, "payload": {`{"x": "${no_such_variable}"}`}, "name": {"DEPLOY"}, "enabled": {"on"},
	})
	if status != http.StatusConflict {
		t.Errorf("wizard duplicate: status %d, want 409", status)
	}
	for _, want := range []string{"already has an automation named DEPLOY", "no_such_variable", `data-testid="error-summary"`, "Fix these 2 problems"} {
		if !strings.Contains(page, want) {
			t.Errorf("wizard answer lacks %q", want)
		}
	}
	if !strings.Contains(page, `data-testid="step-action"`) {
		t.Error("the wizard does not show the first step with an error (Action)")
	}
}

// Edit automation saves from its first step; a long bad alias regex is
// quoted shortened, in the user's own terms.
func TestEditSavesFromAnyStepAndRegexErrorsQuoteTheInput(t *testing.T) {
	f := newAutomationFixture(t, nil)
	a := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", projectAutomation("first", "CREATE_ARTIFACT", `{"v": "${artifact_version_string}"}`))
	s := f.app.SignInHTTP(t, "admin@example.com")
	edit := fmt.Sprintf("/automations/%v/edit", a["id"])
	_, page := s.Get(t, edit)
	if !strings.Contains(page, `data-testid="save-now"`) {
		t.Fatal("Edit automation has no Save button on its first step")
	}
	form := url.Values{
		"step": {"1"}, "go": {"save"}, "event_type": {"CREATE_ARTIFACT"}, "team": {"ml"}, "action_type": {"webhook"},
		"webhook": {"ci"}, "payload": {`{"v": "${artifact_version_string}"}`}, "name": {"renamed"}, "enabled": {"on"},
	}
	if status, _ := s.PostForm(t, edit, form); status != http.StatusSeeOther {
		t.Fatalf("save from step 1: status %d", status)
	}
	got := f.must(t, http.StatusOK, "GET", fmt.Sprintf("/api/v1/automations/%v", a["id"]), nil)
	if got["name"] != "renamed" {
		t.Errorf("name after saving from step 1 = %v", got["name"])
	}

	long := "(" + strings.Repeat("prod|", 40)
	form.Set("event_type", "ADD_ARTIFACT_ALIAS")
	form.Set("alias_regex", long)
	status, page := s.PostForm(t, edit, form)
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("bad regex: status %d", status)
	}
	want := "missing closing ) in “" + long[:models.ExcerptLength] + "…”"
	if !strings.Contains(page, want) {
		t.Errorf("regex error does not quote the input shortened (%s):\n%s", want, page)
	}
	if !strings.Contains(page, `value="`+long+`"`) {
		t.Error("the typed regex is not kept in the field")
	}
	// The variables list shows ${alias} for alias events only.
	form.Set("alias_regex", "prod")
	form.Set("step", "1")
	form.Set("go", "2")
	_, page = s.PostForm(t, edit, form)
	if !strings.Contains(page, "${alias}") {
		t.Error("alias event: the variables list lacks ${alias}")
	}
	form.Set("event_type", "CREATE_ARTIFACT")
	_, page = s.PostForm(t, edit, form)
	if strings.Contains(page, "${alias}") {
		t.Error("create event: the variables list shows ${alias}")
	}
}

// A launch delivery's row shows what it launched: job and version, queue,
// destination project, overrides and the run-queue item it made.
func TestHistoryShowsLaunchDetails(t *testing.T) {
	f := newAutomationFixture(t, nil)
	f.must(t, http.StatusCreated, "POST", "/api/v1/teams/ml/queues", map[string]any{"name": "gpu"})
	f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{
		"name": "train", "type": "job", "metadata": map[string]any{"config": map[string]any{"lr": 0.1}},
	})
	a := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", map[string]any{
		"name": "retrain", "scope": map[string]any{"type": "project", "project": "ml/mnist"},
		"event": map[string]any{"type": "CREATE_ARTIFACT"},
		"action": map[string]any{"type": "launch", "team": "ml", "queue": "gpu", "job": "ml/mnist/train", "job_version": "latest",
			"overrides": map[string]any{"epochs": 3}, "destination_project": "ml/mnist"},
	})
	f.logVersions(t, 1)
	f.deliveries(t, a["id"], allIn("succeeded", 1))
	_, page := f.app.SignInHTTP(t, "admin@example.com").Get(t, fmt.Sprintf("/automations/%v", a["id"]))
	launch := regexp.MustCompile(`(?s)<dl class="config" data-testid="delivery-launch">.*?</dl>`).FindString(page)
	for _, want := range []string{"ml/mnist/train:latest", "gpu", `data-testid="delivery-launch-destination">ml/mnist<`, `&#34;epochs&#34;: 3`, `data-testid="delivery-launch-item">#`} {
		if !strings.Contains(launch, want) {
			t.Errorf("launch details lack %s:\n%s", want, launch)
		}
	}
	if !strings.Contains(page, `<dd data-testid="automation-enabled">yes</dd>`) {
		t.Error("the configuration does not say Enabled: yes")
	}
}
