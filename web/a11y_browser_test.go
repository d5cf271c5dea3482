package web_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/secretbox"
	"github.com/automations-dev/automations/web"
	"github.com/automations-dev/automations/web/slacktest"
	"github.com/automations-dev/automations/web/webtest"
)

// Every screen at 375 px and 1280 px in headless Chromium (issue 13 items 5
// and 6, DESIGN.md §8): no page is wider than the viewport, and axe-core
// (vendored in testdata/axe) finds no serious or critical violation of
// WCAG 2 A/AA or its best practices. Each screen is checked as loaded and
// again with every <details> (menus, disclosure forms) and <dialog> open, so
// the forms they hide are checked too. The list of screens must name every
// GET route that renders a page: a new screen cannot ship unchecked.

// screenWidths are the viewports every screen is checked at, phone first.
var screenWidths = []int64{375, 1280}

// Who looks at a screen.
const (
	asAdmin     = 1 << iota // a site admin, who may see every screen
	asAnonymous             // signed out
)

// screen is one page to check: the route it belongs to (exactly as
// routes.go registers it), a name for the report, its URL in the fixture
// world, and optional further states reached from it in the browser.
type screen struct {
	route  string
	name   string
	path   func(w *screenWorld) string
	who    int
	status int // the page's expected status; 0 means 200
	states []screenState
}

// screenState is a state of a screen reached by acting on it (a wizard's
// next step, a dialog opened), checked like a page.
type screenState struct {
	name  string
	steps []chromedp.Action[chromedp.Void]
}

// nonPageRoutes are the GET routes that render no page of their own, each
// with the reason; every other GET route must have a screen below.
var nonPageRoutes = map[string]string{
	"GET /healthz":                          "plain-text health check",
	"GET /metrics":                          "Prometheus text format",
	"GET /static*":                          "stylesheet and scripts",
	"GET /auth/oidc/login":                  "redirect to the identity provider (404 without OIDC_*)",
	"GET /auth/oidc/callback":               "redirect back from the identity provider",
	"GET /slack/callback":                   "redirect back from Slack's consent screen",
	"GET /deliveries/:id/row":               "htmx fragment: one delivery history row, polled and swapped in place (checked on the automation pages)",
	"GET /automations/:id/deliveries":       "htmx fragment: the delivery history of the automation page (checked there)",
	"GET /automations/:id/chart":            "htmx fragment: the activity chart of the automation page (checked there)",
	"GET /teams/:team/webhooks/:name/chart": "htmx fragment: the activity chart of the webhook page (checked there)",
	// Every GET under /api/ answers JSON (matched by prefix in screenRoutes).
	"GET /api/*": "JSON API",
}

// screens is every page, in the order of the report.
func screens() []screen {
	wizardNext := func() []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{
			chromedp.Click(webtest.TestID("next-step")),
			chromedp.WaitVisible(webtest.TestID("step-action")),
			webtest.HtmxIdle(),
		}
	}
	actionType := func(value, shows string) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{
			chromedp.SetValue(webtest.TestID("field-action_type"), value),
			jsDo(`document.querySelector('[data-testid="field-action_type"]').dispatchEvent(new Event('change', {bubbles: true}))`),
			chromedp.WaitVisible(webtest.TestID(shows)),
			webtest.HtmxIdle(),
		}
	}
	// A run metric event the world's run r0 crossed (loss 0.4 at step 1):
	// Details shows the dry run's replayed fires.
	runWizardStates := []screenState{
		{name: "run metric event", steps: []chromedp.Action[chromedp.Void]{
			chromedp.SetValue(webtest.TestID("field-event_type"), "RUN_METRIC"),
			jsDo(`document.querySelector('[data-testid="field-event_type"]').dispatchEvent(new Event('change', {bubbles: true}))`),
			chromedp.WaitVisible(webtest.TestID("field-metric")),
			webtest.HtmxIdle(),
			chromedp.SendKeys(webtest.TestID("field-metric"), "loss"),
			chromedp.SendKeys(webtest.TestID("field-window"), "1"),
			chromedp.SetValue(webtest.TestID("field-op"), "<"),
			chromedp.SendKeys(webtest.TestID("field-threshold"), "0.5"),
		}},
		{name: "step 3 with the run dry run", steps: []chromedp.Action[chromedp.Void]{
			chromedp.Click(webtest.TestID("next-step")),
			chromedp.WaitVisible(webtest.TestID("step-action")),
			webtest.HtmxIdle(),
			chromedp.Click(webtest.TestID("next-step")),
			chromedp.WaitVisible(webtest.TestID("dry-run-fire")),
			webtest.HtmxIdle(),
		}},
	}
	wizardStates := []screenState{
		{name: "step 2 (webhook)", steps: wizardNext()},
		{name: "step 2 (Slack)", steps: actionType(models.ActionSlack, "field-channel")},
		{name: "step 2 (launch)", steps: actionType(models.ActionLaunch, "field-queue")},
		{name: "step 2 (webhook again)", steps: actionType(models.ActionWebhook, "field-webhook")},
		{name: "step 3", steps: []chromedp.Action[chromedp.Void]{
			chromedp.Click(webtest.TestID("next-step")),
			chromedp.WaitVisible(webtest.TestID("step-details")),
			webtest.HtmxIdle(),
		}},
		{name: "step 3 with errors", steps: []chromedp.Action[chromedp.Void]{
			chromedp.Click(webtest.TestID("create-automation")),
			chromedp.WaitVisible(`.field-error`),
			webtest.HtmxIdle(),
		}},
	}
	proj := func(w *screenWorld) string { return "/projects/" + w.team + "/mnist" }
	reg := func(w *screenWorld) string { return "/registries/" + w.registry }
	return []screen{
		{route: "GET /login", name: "sign in", path: fixed("/login"), who: asAnonymous,
			states: []screenState{{name: "wrong password", steps: []chromedp.Action[chromedp.Void]{
				chromedp.SendKeys(webtest.TestID("field-email"), "site-admin@example.com"),
				chromedp.SendKeys(webtest.TestID("field-password"), "not-the-password"),
				webtest.ClickNav(webtest.TestID("sign-in")),
				chromedp.WaitVisible(webtest.TestID("login-error")),
			}}}},
		{route: "GET /invite/:token", name: "accept invitation", who: asAnonymous | asAdmin,
			path: func(w *screenWorld) string { return "/invite/" + w.inviteToken }},
		{route: "GET /", name: "home", path: fixed("/"), who: asAdmin},
		{route: "GET /settings", name: "user settings", path: fixed("/settings"), who: asAdmin},
		{route: "GET /admin/users", name: "admin: users", path: fixed("/admin/users"), who: asAdmin},
		{route: "GET /admin/audit-log", name: "admin: audit log", path: fixed("/admin/audit-log"), who: asAdmin},
		{route: "GET /teams", name: "teams", path: fixed("/teams"), who: asAdmin},
		{route: "GET /teams/:team", name: "team settings", who: asAdmin,
			path: func(w *screenWorld) string { return "/teams/" + w.team },
			states: []screenState{{name: "New secret dialog", steps: []chromedp.Action[chromedp.Void]{
				chromedp.WaitVisible(`html[data-dialogs="on"]`),
				chromedp.Click(webtest.TestID("new-secret")),
				chromedp.WaitVisible(webtest.TestID("new-secret-dialog")),
			}}, {name: "New webhook refused (422)", steps: []chromedp.Action[chromedp.Void]{
				chromedp.Reload(), // the modal closed
				chromedp.WaitVisible(webtest.TestID("new-webhook")),
				chromedp.Click(webtest.TestID("new-webhook")),
				webtest.ClickNav(webtest.TestID("create-webhook")),
				chromedp.WaitVisible(`.field-error`),
			}}}},
		{route: "GET /teams/:team/secrets/new", name: "new secret (page)", who: asAdmin,
			path: func(w *screenWorld) string { return "/teams/" + w.team + "/secrets/new" }},
		{route: "GET /teams/:team/webhooks/:name", name: "webhook", who: asAdmin,
			path: func(w *screenWorld) string { return "/teams/" + w.team + "/webhooks/ci" }},
		{route: "GET /teams/:team/webhooks/:name/edit", name: "edit webhook", who: asAdmin,
			path: func(w *screenWorld) string { return "/teams/" + w.team + "/webhooks/ci/edit" }},
		{route: "GET /teams/:team/webhooks/:name/test", name: "test webhook (page)", who: asAdmin,
			path: func(w *screenWorld) string { return "/teams/" + w.team + "/webhooks/ci/test" }},
		{route: "GET /teams/:team/slack/connect", name: "connect Slack (setup)", who: asAdmin,
			path: func(w *screenWorld) string { return "/teams/" + w.team + "/slack/connect" }},
		{route: "GET /teams/:team/slack/channels", name: "Slack channels", who: asAdmin,
			path: func(w *screenWorld) string { return "/teams/" + w.team + "/slack/channels?workspace=T01" }},
		{route: "GET /teams/:team/audit-log", name: "team audit log", who: asAdmin,
			path: func(w *screenWorld) string { return "/teams/" + w.team + "/audit-log" }},
		{route: "GET /teams/:team/queues/:queue", name: "launch queue", who: asAdmin,
			path: func(w *screenWorld) string { return "/teams/" + w.team + "/queues/gpu" }},
		{route: "GET /projects", name: "projects", path: fixed("/projects"), who: asAdmin},
		{route: "GET /projects/:team/:project", name: "project", path: proj, who: asAdmin},
		{route: "GET /projects/:team/:project/automations", name: "project automations", who: asAdmin,
			path: func(w *screenWorld) string { return proj(w) + "/automations" }},
		{route: "GET /projects/:team/:project/automations/new", name: "new automation (project)", who: asAdmin,
			path: func(w *screenWorld) string { return proj(w) + "/automations/new" }, states: wizardStates},
		{route: "GET /projects/:team/:project/automations/new", name: "new run automation (project)", who: asAdmin,
			path: func(w *screenWorld) string { return proj(w) + "/automations/new" }, states: runWizardStates},
		{route: "GET /projects/:team/:project/events", name: "project events", who: asAdmin,
			path: func(w *screenWorld) string { return proj(w) + "/events" }},
		{route: "GET /projects/:team/:project/history", name: "project automations history", who: asAdmin,
			path: func(w *screenWorld) string { return proj(w) + "/history" }},
		{route: "GET /projects/:team/:project/runs", name: "runs", who: asAdmin,
			path: func(w *screenWorld) string { return proj(w) + "/runs" }},
		{route: "GET /projects/:team/:project/runs", name: "runs with metric columns", who: asAdmin,
			path: func(w *screenWorld) string { return proj(w) + "/runs?metrics=loss&metrics=val/acc&metrics=lr" }},
		{route: "GET /projects/:team/:project/runs/:id", name: "run", who: asAdmin,
			path: func(w *screenWorld) string { return proj(w) + "/runs/" + strconv.FormatInt(w.runID, 10) }},
		{route: "GET /projects/:team/:project/artifacts/:collection", name: "artifact collection", who: asAdmin,
			path: func(w *screenWorld) string { return proj(w) + "/artifacts/data" }},
		{route: "GET /projects/:team/:project/artifacts/:collection/:version", name: "artifact version", who: asAdmin,
			path: func(w *screenWorld) string { return proj(w) + "/artifacts/data/v1" }},
		{route: "GET /registries", name: "registries", path: fixed("/registries"), who: asAdmin},
		{route: "GET /registries/:registry", name: "registry", path: reg, who: asAdmin},
		{route: "GET /registries/:registry/automations", name: "registry automations", who: asAdmin,
			path: func(w *screenWorld) string { return reg(w) + "/automations" }},
		{route: "GET /registries/:registry/automations/new", name: "new automation (registry)", who: asAdmin,
			path: func(w *screenWorld) string { return reg(w) + "/automations/new" }},
		{route: "GET /registries/:registry/collections/:collection/automations/new", name: "new automation (collection)", who: asAdmin,
			path: func(w *screenWorld) string { return reg(w) + "/collections/clf/automations/new" }},
		{route: "GET /registries/:registry/events", name: "registry events", who: asAdmin,
			path: func(w *screenWorld) string { return reg(w) + "/events" }},
		{route: "GET /registries/:registry/history", name: "registry automations history", who: asAdmin,
			path: func(w *screenWorld) string { return reg(w) + "/history" }},
		{route: "GET /events/:id", name: "event lineage", who: asAdmin,
			path: func(w *screenWorld) string { return "/events/" + strconv.FormatInt(w.eventID, 10) }},
		{route: "GET /registries/:registry/collections/:collection", name: "registry collection", who: asAdmin,
			path: func(w *screenWorld) string { return reg(w) + "/collections/clf" }},
		{route: "GET /registries/:registry/collections/:collection/:version", name: "registry version", who: asAdmin,
			path: func(w *screenWorld) string { return reg(w) + "/collections/clf/v0" }},
		{route: "GET /registries/:registry/members", name: "registry members", who: asAdmin,
			path: func(w *screenWorld) string { return reg(w) + "/members" }},
		{route: "GET /automations/:id", name: "automation (project, failed delivery)", who: asAdmin,
			path: func(w *screenWorld) string { return automationPath(w, "") }},
		{route: "GET /automations/:id", name: "automation (registry, succeeded delivery)", who: asAdmin,
			path: func(w *screenWorld) string { return automationPath(w, "registry") }},
		{route: "GET /automations/:id", name: "automation (collection, held delivery)", who: asAdmin,
			path: func(w *screenWorld) string { return automationPath(w, "collection") }},
		{route: "GET /automations/:id/edit", name: "edit automation", who: asAdmin,
			path: func(w *screenWorld) string { return automationPath(w, "") + "/edit" }},
	}
}

func fixed(p string) func(*screenWorld) string { return func(*screenWorld) string { return p } }

func automationPath(w *screenWorld, variant string) string {
	return "/automations/" + strconv.FormatInt(w.automation[variant], 10)
}

// screenWorld is the route×role matrix's fixture world (one of everything)
// with a few additions that stress layout and show every state: a version
// with a long digest and metadata; deliveries failed (with long request and
// response bodies), succeeded and held, as the webhook is disabled.
type screenWorld struct {
	*world
	eventID int64 // the project automation's event
}

// newScreenWorld builds the matrix's world through its own fixture code,
// with the people it needs in their roles (none of them signs in here).
func newScreenWorld(t *testing.T, app *webtest.App) *screenWorld {
	t.Helper()
	ctx := context.Background()
	box, err := secretbox.Open(ctx, app.Config.SecretsKeeperURL, app.Keys.Encryption)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = box.Close() })
	m := &matrix{t: t, app: app, box: box, users: map[string]*models.User{}}
	for a := 0; a < actorCount; a++ {
		if a == anonymous || a == serviceAccount {
			continue
		}
		m.users[actorNames[a]] = app.User(t, actorNames[a]+"@example.com", a == siteAdminActor)
	}
	m.builder = app.APIKey(t, m.users["site-admin"])
	w := &screenWorld{world: m.buildWorld()}

	// A second version of the project's collection whose digest and
	// metadata are long unbroken strings, as real ones are.
	digest := "sha256:" + strings.Repeat("9f86d081884c7d659a2feaa0c55ad015", 2)
	m.api(201, "POST", "/api/v1/projects/"+w.team+"/mnist/artifacts", map[string]any{
		"name": "data", "type": "model", "digest": digest,
		"metadata": map[string]any{"source_uri": "s3://an-unusually-long-bucket-name-for-training-data/" + strings.Repeat("path-segment/", 12) + "file.parquet", "rows": 123456789},
	})

	// Each automation's one delivery gets an outcome: the project's failed
	// after an attempt whose request and response are long single lines,
	// the registry's succeeded; then the webhook is disabled, holding the
	// collection automation's.
	now := time.Now().UTC()
	long := `{"event_type":"CREATE_ARTIFACT","artifact_version":"` + w.team + `/mnist/data:v0","metadata":"` + strings.Repeat("x", 400) + `"}`
	for variant, outcome := range map[string]struct {
		state  models.DeliveryState
		status int
		body   string
	}{
		"":         {models.DeliveryFailed, 500, strings.Repeat("Internal-Server-Error-", 30)},
		"registry": {models.DeliverySucceeded, 200, "ok"},
	} {
		var d models.Delivery
		if err := app.DB.Where("uid = ?", w.delivery[variant]).First(&d).Error; err != nil {
			t.Fatal(err)
		}
		if variant == "" {
			w.eventID = d.EventID
		}
		status, errText := outcome.status, ""
		if status >= 400 {
			errText = "HTTP " + strconv.Itoa(status)
		}
		if err := app.DB.Create(&models.DeliveryAttempt{DeliveryID: d.ID, AutomationID: d.AutomationID, WebhookID: d.WebhookID, Number: 1,
			StartedAt: now, DurationMS: 120, RequestURL: "https://hooks.example.com/ci?" + strings.Repeat("query=parameter&", 20),
			RequestHeaders: `{"Content-Type":["application/json"]}`, RequestBody: long,
			ResponseStatus: &status, ResponseHeaders: `{"Content-Type":["text/plain"]}`, ResponseBody: outcome.body,
			Error: errText, Outcome: string(outcome.state)}).Error; err != nil {
			t.Fatal(err)
		}
		if err := app.DB.Model(&models.Delivery{}).Where("id = ?", d.ID).Updates(map[string]any{
			"state": outcome.state, "attempts": 1, "last_status": status, "last_error": errText, "completed_at": now,
		}).Error; err != nil {
			t.Fatal(err)
		}
	}
	if err := app.DB.Exec(`UPDATE webhooks SET disabled_at = ?, disabled_reason = ? WHERE name = 'ci'`,
		now, "5 deliveries in a row failed since "+now.Add(-time.Hour).Format(time.RFC3339)).Error; err != nil {
		t.Fatal(err)
	}
	if err := app.DB.Model(&models.Delivery{}).Where("uid = ?", w.delivery["collection"]).Update("state", models.DeliveryHeld).Error; err != nil {
		t.Fatal(err)
	}
	return w
}

// screenRoutes are the server's GET routes that render a page: all but
// nonPageRoutes.
func screenRoutes(app *webtest.App) map[string]bool {
	out := map[string]bool{}
	for _, r := range app.Server.Routes() {
		key := r.Method + " " + r.Path
		if r.Method != http.MethodGet {
			continue
		}
		if _, skip := nonPageRoutes[key]; skip || strings.HasPrefix(r.Path, "/api/") {
			continue
		}
		out[key] = true
	}
	return out
}

// axeViolation is what the test keeps of one axe-core violation.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
	Count  int      `json:"count"`
}

// screenResult is one line of the report.
type screenResult struct {
	name, who, url string
	width          map[int64][2]int // viewport → scrollWidth as loaded, with everything open
	axe            map[int64][]axeViolation
}

func (r screenResult) counts(width int64) (serious, critical, total int) {
	for _, v := range r.axe[width] {
		switch v.Impact {
		case "serious":
			serious++
		case "critical":
			critical++
		}
		total++
	}
	return
}

// axeRun runs axe-core on the document and keeps up to five nodes per
// violation; it injects axe first when this document has none.
const axeRun = `(async () => {
	const r = await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'], resultTypes: ['violations']});
	return r.violations.map(v => ({id: v.id, impact: v.impact || '', help: v.help, count: v.nodes.length,
		nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' → ' + (n.failureSummary || '').replace(/\s+/g, ' ').slice(0, 300))}));
})()`

// openAll opens every closed <details> and <dialog> (marking them), and
// closeAll closes what openAll opened.
const openAll = `(() => {
	for (const d of document.querySelectorAll('details:not([open])')) { d.dataset.a11yOpened = '1'; d.open = true; }
	for (const d of document.querySelectorAll('dialog:not([open])')) { d.dataset.a11yOpened = '1'; d.show(); }
	return true;
})()`

const closeAll = `(() => {
	for (const d of document.querySelectorAll('[data-a11y-opened]')) {
		delete d.dataset.a11yOpened;
		if (d.tagName === 'DIALOG') { d.close(); } else { d.open = false; }
	}
	return true;
})()`

func TestScreensLayoutAndAccessibility(t *testing.T) {
	start := time.Now()
	axeSrc, err := os.ReadFile(filepath.Join("testdata", "axe", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	fake := slacktest.New(t)
	fake.BotToken = "xoxb-matrix" // the matrix fixture's integration token
	app := webtest.Start(t, webtest.WithoutWorker(), webtest.WithConfig(func(c *web.Config) { c.SlackAPIURL = fake.URL }))
	w := newScreenWorld(t, app)

	// Coverage: every page route has a screen, every screen a real route.
	all := screens()
	routes := screenRoutes(app)
	covered := map[string]bool{}
	for _, s := range all {
		if !routes[s.route] {
			t.Errorf("screen %q names route %q, which is not a page route of the server: fix the screen list", s.name, s.route)
		}
		covered[s.route] = true
	}
	registered := map[string]bool{}
	for _, r := range app.Server.Routes() {
		registered[r.Method+" "+r.Path] = true
	}
	for r := range nonPageRoutes {
		if r != "GET /api/*" && !registered[r] {
			t.Errorf("nonPageRoutes names %q, which the server does not have: remove it", r)
		}
	}
	var missing []string
	for r := range routes {
		if !covered[r] {
			missing = append(missing, r)
		}
	}
	sort.Strings(missing)
	for _, r := range missing {
		t.Errorf("GET route %q renders a page but has no screen in a11y_browser_test.go: add it to screens() (or, if it renders no page, to nonPageRoutes with the reason)", r)
	}

	// One browser and one tab for every screen; about 30 s on an idle
	// machine, so a generous limit for busy ones.
	ctx := webtest.NewBrowserFor(t, 6*time.Minute)
	var results []screenResult
	check := func(who string, s screen, state *screenState) {
		t.Helper()
		name := s.name
		if state != nil {
			name += ": " + state.name
		}
		res := screenResult{name: name, who: who, width: map[int64][2]int{}, axe: map[int64][]axeViolation{}}
		if state == nil {
			want := s.status
			if want == 0 {
				want = http.StatusOK
			}
			resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(app.URL+s.path(w)))
			if err != nil {
				t.Fatalf("%s: open %s: %v", name, s.path(w), err)
			}
			if int(resp.Status) != want {
				t.Errorf("%s: %s answered %d, want %d", name, resp.URL, resp.Status, want)
			}
			webtest.Do(t, ctx, name+": settle", chromedp.Poll[chromedp.Void](`document.readyState === 'complete'`), webtest.HtmxIdle())
		} else {
			webtest.Do(t, ctx, name, state.steps...)
		}
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		res.url = strings.TrimPrefix(loc, app.URL)
		hasAxe, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe !== 'undefined'`))
		if err != nil {
			t.Fatal(err)
		}
		if !hasAxe {
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](string(axeSrc)+"\n;true")); err != nil {
				t.Fatalf("%s: inject axe-core: %v", name, err)
			}
		}
		for _, width := range screenWidths {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900)); err != nil {
				t.Fatal(err)
			}
			var widths [2]int
			for i, js := range []string{closeAll, openAll} {
				if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js)); err != nil {
					t.Fatal(err)
				}
				sw, err := chromedp.Run(ctx, chromedp.Evaluate[[2]int](`[document.documentElement.scrollWidth, window.innerWidth]`))
				if err != nil {
					t.Fatal(err)
				}
				widths[i] = sw[0]
				if sw[0] > sw[1] {
					what := "as loaded"
					if i == 1 {
						what = "with menus, disclosures and dialogs open"
					}
					wide, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](widestElements))
					t.Errorf("%s (%s) at %d px, %s: the page is %d px wide, wider than the viewport (%d px); too wide: %s",
						name, res.url, width, what, sw[0], sw[1], strings.Join(wide, "; "))
				}
			}
			res.width[width] = widths
			if width == screenWidths[0] {
				dups, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](ambiguousLabels))
				if err != nil {
					t.Fatal(err)
				}
				if len(dups) > 0 {
					t.Errorf("%s (%s): labels or ARIA references point at an id that several elements share, so they name the wrong one: %s",
						name, res.url, strings.Join(dups, "; "))
				}
			}
			if width < 600 {
				unlabelled, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](unlabelledCells))
				if err != nil {
					t.Fatal(err)
				}
				if len(unlabelled) > 0 {
					t.Errorf("%s (%s) at %d px: table cells shown as cards without their column's label: %s",
						name, res.url, width, strings.Join(unlabelled, "; "))
				}
			}
			vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](axeRun, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatalf("%s: axe.run: %v", name, err)
			}
			res.axe[width] = vs
			for _, v := range vs {
				if v.Impact == "serious" || v.Impact == "critical" {
					t.Errorf("%s (%s) at %d px: axe %s violation %s (%s) on %d node(s):\n\t%s",
						name, res.url, width, v.Impact, v.ID, v.Help, v.Count, strings.Join(v.Nodes, "\n\t"))
				}
			}
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](closeAll)); err != nil {
				t.Fatal(err)
			}
		}
		results = append(results, res)
	}

	// Signed out first, then as a site admin in the same tab.
	for _, s := range all {
		if s.who&asAnonymous != 0 {
			check("anonymous", s, nil)
		}
	}
	app.SignIn(t, ctx, "site-admin@example.com")
	for _, s := range all {
		if s.who&asAdmin == 0 {
			continue
		}
		check("site admin", s, nil)
		for i := range s.states {
			check("site admin", s, &s.states[i])
		}
	}
	// Not a route, but a screen everyone meets: the not-found page.
	check("site admin", screen{name: "not found (404)", path: fixed("/teams/no-such-team"), status: http.StatusNotFound}, nil)

	var b strings.Builder
	fmt.Fprintf(&b, "%-52s %-10s %-11s %-10s %-10s  %s\n", "screen", "as", "375px width", "axe@375", "axe@1280", "url")
	for _, r := range results {
		s375, c375, t375 := r.counts(375)
		s1280, c1280, t1280 := r.counts(1280)
		fmt.Fprintf(&b, "%-52s %-10s %4d/%-6d %-10s %-10s  %s\n", r.name, r.who, r.width[375][0], r.width[375][1],
			fmt.Sprintf("%d/%d/%d", s375, c375, t375), fmt.Sprintf("%d/%d/%d", s1280, c1280, t1280), r.url)
		for _, width := range screenWidths {
			for _, v := range r.axe[width] {
				if v.Impact != "serious" && v.Impact != "critical" {
					fmt.Fprintf(&b, "    %d px: %s %s (%s) ×%d\n", width, v.Impact, v.ID, v.Help, v.Count)
				}
			}
		}
	}
	t.Logf("%d screens and states; widths as loaded/with everything open; axe counts serious/critical/total; %s\n%s",
		len(results), time.Since(start).Round(time.Millisecond), b.String())
}

// widestElements names the elements that stick out past the viewport, for
// the failure message.
const widestElements = `(() => {
	const out = [];
	for (const el of document.querySelectorAll('body *')) {
		const r = el.getBoundingClientRect();
		if (r.right > window.innerWidth + 0.5 && r.width > 0) {
			let name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : '');
			const tid = el.getAttribute('data-testid');
			if (tid) name += '[data-testid=' + tid + ']';
			out.push(name + ' right=' + Math.round(r.right));
		}
	}
	return out.slice(0, 8);
})()`

// jsDo evaluates expr for its effect.
func jsDo(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("("+expr+", true)"))
		return err
	})
}

// unlabelledCells lists the body cells of .table tables whose column has a
// visible heading but which do not carry it as data-label (static/enhance.js
// sets it; the phone layout shows it above the cell).
const unlabelledCells = `(() => {
	const out = [];
	for (const table of document.querySelectorAll('table.table')) {
		const head = table.tHead && table.tHead.rows[0];
		if (!head) continue;
		const labels = [];
		for (const th of head.cells) {
			const copy = th.cloneNode(true);
			copy.querySelectorAll('.visually-hidden').forEach(el => el.remove());
			for (let i = 0; i < th.colSpan; i++) labels.push(copy.textContent.replace(/\s+/g, ' ').trim());
		}
		for (const body of table.tBodies) for (const row of body.rows) {
			let col = 0;
			for (const cell of row.cells) {
				const want = labels[col];
				if (want && cell.getAttribute('data-label') !== want) {
					out.push((table.dataset.testid || 'table') + ' column "' + want + '": data-label=' + JSON.stringify(cell.getAttribute('data-label')));
				}
				col += cell.colSpan;
			}
		}
	}
	return out.slice(0, 5);
})()`

// ambiguousLabels lists the ids that a label's for or an aria-labelledby,
// aria-describedby or aria-controls names but that more than one element
// has: the label then names the first of them only (axe-core 4 no longer
// checks duplicate ids).
const ambiguousLabels = `(() => {
	const count = {};
	for (const el of document.querySelectorAll('[id]')) count[el.id] = (count[el.id] || 0) + 1;
	const out = new Set();
	for (const l of document.querySelectorAll('label[for]')) {
		if (count[l.htmlFor] > 1) out.add('label "' + l.textContent.trim().slice(0, 40) + '" for #' + l.htmlFor + ' (' + count[l.htmlFor] + ' elements)');
	}
	for (const el of document.querySelectorAll('[aria-labelledby], [aria-describedby], [aria-controls]')) {
		for (const attr of ['aria-labelledby', 'aria-describedby', 'aria-controls']) {
			for (const id of (el.getAttribute(attr) || '').split(/\s+/)) {
				if (id && count[id] > 1) out.add(attr + ' #' + id + ' (' + count[id] + ' elements)');
			}
		}
	}
	return [...out];
})()`
