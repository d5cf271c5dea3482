package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/secretbox"
	"github.com/automations-dev/automations/web"
	"github.com/automations-dev/automations/web/slacktest"
	"github.com/automations-dev/automations/web/webtest"
)

// slackFixture is a server whose Slack app is the fake, with team ml
// (admin alice, member bob, viewer vera; olga is in no team) and project
// ml/vision.
type slackFixture struct {
	app   *webtest.App
	fake  *slacktest.Server
	box   *secretbox.Box
	alice *models.User
	team  *models.Team
}

func newSlackFixture(t *testing.T, opts ...webtest.Option) *slackFixture {
	t.Helper()
	fake := slacktest.New(t)
	opts = append([]webtest.Option{webtest.WithConfig(func(c *web.Config) {
		c.SlackClientID, c.SlackClientSecret, c.SlackAPIURL = fake.ClientID, fake.ClientSecret, fake.URL
	})}, opts...)
	app := webtest.Start(t, opts...)
	ctx := context.Background()
	box, err := secretbox.Open(ctx, "", app.Keys.Encryption)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { box.Close() })
	alice := app.User(t, "alice@example.com", false)
	team, err := models.CreateTeam(ctx, app.DB, "ml", alice)
	if err != nil {
		t.Fatal(err)
	}
	for email, role := range map[string]models.Role{"bob@example.com": models.RoleMember, "vera@example.com": models.RoleViewer} {
		app.User(t, email, false)
		if _, err := models.AddTeamMember(ctx, app.DB, team.ID, email, role); err != nil {
			t.Fatal(err)
		}
	}
	app.User(t, "olga@example.com", false)
	if _, err := models.CreateProject(ctx, app.DB, team, "vision", alice); err != nil {
		t.Fatal(err)
	}
	return &slackFixture{app: app, fake: fake, box: box, alice: alice, team: team}
}

// integration connects a channel of the fake workspace directly.
func (f *slackFixture) integration(t *testing.T, channelID, channel string) *models.SlackIntegration {
	t.Helper()
	s, err := models.CreateSlackIntegration(context.Background(), f.app.DB, f.box, f.team.ID, f.fake.WorkspaceID, f.fake.WorkspaceName, channelID, channel, f.fake.BotToken, f.alice)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *slackFixture) integrations(t *testing.T) []models.SlackIntegration {
	t.Helper()
	all, err := models.SlackIntegrationsOf(context.Background(), f.app.DB, f.team.ID)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// connect clicks Connect Slack and checks the redirect to Slack's consent
// screen; it returns the state to come back with.
func (f *slackFixture) connect(t *testing.T, s *webtest.Session) string {
	t.Helper()
	status, _, loc := s.GetRedirect(t, "/teams/ml/slack/connect")
	if status != http.StatusSeeOther {
		t.Fatalf("Connect Slack: status %d", status)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme+"://"+u.Host != f.fake.URL || u.Path != "/oauth/v2/authorize" || q.Get("client_id") != f.fake.ClientID ||
		q.Get("scope") != "chat:write,channels:read,groups:read" || q.Get("redirect_uri") != f.app.URL+"/slack/callback" || len(q.Get("state")) < 32 {
		t.Fatalf("Connect Slack redirects to %s", loc)
	}
	return q.Get("state")
}

func callbackPath(code, state string) string {
	return "/slack/callback?" + url.Values{"code": {code}, "state": {state}}.Encode()
}

func TestConnectSlackEndToEnd(t *testing.T) {
	f := newSlackFixture(t)
	s := f.app.SignInHTTP(t, "alice@example.com")

	state := f.connect(t, s)
	code := f.fake.IssueCode()
	status, _, loc := s.GetRedirect(t, callbackPath(code, state))
	if status != http.StatusSeeOther || loc != "/teams/ml/slack/channels" {
		t.Fatalf("callback: %d to %q", status, loc)
	}
	ex := f.fake.Requests("oauth.v2.access")
	if len(ex) != 1 || ex[0].Form.Get("code") != code || ex[0].Form.Get("client_secret") != f.fake.ClientSecret ||
		ex[0].Form.Get("redirect_uri") != f.app.URL+"/slack/callback" {
		t.Fatalf("code exchange = %+v", ex)
	}

	status, page := s.Get(t, "/teams/ml/slack/channels")
	if status != http.StatusOK || !strings.Contains(page, "Search for a channel") || !strings.Contains(page, "Acme Corp") {
		t.Fatalf("Choose a channel: %d\n%s", status, page)
	}
	for _, ch := range []string{"general", "alerts", "random", "ml-team"} {
		if !strings.Contains(page, `data-testid="slack-channel-`+ch+`"`) {
			t.Errorf("the channel list lacks #%s", ch)
		}
	}
	if strings.Contains(page, f.fake.BotToken) {
		t.Fatal("the page holds the bot token")
	}
	status, frag := s.GetHTMX(t, "/teams/ml/slack/channels?q=ALE")
	if status != http.StatusOK || strings.Contains(frag, "<html") || !strings.Contains(frag, "slack-channel-alerts") || strings.Contains(frag, "slack-channel-general") {
		t.Fatalf("search for ALE: %d\n%s", status, frag)
	}
	if lists := f.fake.Requests("conversations.list"); len(lists) != 2 || lists[0].Authorization != "Bearer "+f.fake.BotToken || lists[0].Form.Has("token") {
		t.Fatalf("conversations.list calls = %+v, want 2 with the bot token as Bearer only", lists)
	}

	status, _ = s.PostForm(t, "/teams/ml/slack/integrations", url.Values{"channel": {"C0ALERTS"}})
	if status != http.StatusSeeOther {
		t.Fatalf("choose #alerts: status %d", status)
	}
	all := f.integrations(t)
	if len(all) != 1 || all[0].ChannelID != "C0ALERTS" || all[0].ChannelName != "alerts" || all[0].WorkspaceID != "T0ACME" || all[0].CreatedBy != "alice@example.com" {
		t.Fatalf("integrations = %+v", all)
	}
	var raw []byte
	if err := f.app.DB.Table("slack_integrations").Select("bot_token").Where("id = ?", all[0].ID).Row().Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if len(raw) == 0 || bytes.Contains(raw, []byte(f.fake.BotToken)) {
		t.Fatalf("bot_token column = %q, want the sealed token", raw)
	}
	if tok, err := models.SlackBotToken(context.Background(), f.app.DB, f.box, all[0].ID); err != nil || tok != f.fake.BotToken {
		t.Fatalf("unsealed token = %q, %v", tok, err)
	}
	// Seed 002: the channel gets a post saying the integration was added.
	if msgs := f.fake.Messages(); len(msgs) != 1 || msgs[0].Channel != "C0ALERTS" ||
		!strings.Contains(msgs[0].Text, "added an integration to this channel: Automations (team ml)") {
		t.Fatalf("confirmation messages = %+v", msgs)
	}
	status, settings := s.Get(t, "/teams/ml")
	if status != http.StatusOK || !strings.Contains(settings, `data-testid="slack-alerts"`) || !strings.Contains(settings, "connected, and a confirmation was posted there.") ||
		!strings.Contains(settings, `data-testid="new-integration-T0ACME"`) {
		t.Fatalf("Team Settings after connecting: %d\n%s", status, settings)
	}

	// The pending workspace was used up; New integration reuses the stored token.
	if status, _ := s.PostForm(t, "/teams/ml/slack/integrations", url.Values{"channel": {"C0GENERAL"}}); status != http.StatusConflict {
		t.Fatalf("choose again without a pending workspace: status %d, want 409", status)
	}
	status, page = s.Get(t, "/teams/ml/slack/channels?workspace=T0ACME")
	if status != http.StatusOK || !strings.Contains(between(page, `data-testid="slack-channel-alerts"`, "</tr>"), "connected") ||
		!strings.Contains(page, `data-testid="choose-general"`) {
		t.Fatalf("New integration page: %d\n%s", status, page)
	}
	if status, _ := s.PostForm(t, "/teams/ml/slack/integrations", url.Values{"channel": {"C0GENERAL"}, "workspace": {"T0ACME"}}); status != http.StatusSeeOther {
		t.Fatalf("New integration #general: status %d", status)
	}
	if status, body := s.PostForm(t, "/teams/ml/slack/integrations", url.Values{"channel": {"C0ALERTS"}, "workspace": {"T0ACME"}}); status != http.StatusConflict || !strings.Contains(body, "#alerts is already connected") {
		t.Fatalf("connect #alerts twice: %d", status)
	}
	if status, body := s.PostForm(t, "/teams/ml/slack/integrations", url.Values{"channel": {"C0NOPE"}, "workspace": {"T0ACME"}}); status != http.StatusUnprocessableEntity || !strings.Contains(body, "Choose a channel from the list") {
		t.Fatalf("connect an unknown channel: %d", status)
	}
	if status, _ := s.Get(t, "/teams/ml/slack/channels?workspace=T0OTHER"); status != http.StatusNotFound {
		t.Fatalf("New integration for a workspace the team has not connected: status %d, want 404", status)
	}
	if got := len(f.integrations(t)); got != 2 {
		t.Fatalf("%d integrations, want 2", got)
	}

	// Delete, with the htmx confirmation's request.
	general := f.integrations(t)[1]
	if general.ChannelName != "general" {
		general = f.integrations(t)[0]
	}
	if status, _ := s.PostFormHTMX(t, fmt.Sprintf("/teams/ml/slack/integrations/%d/delete", general.ID), url.Values{}); status != http.StatusOK {
		t.Fatalf("delete #general: status %d", status)
	}
	if all := f.integrations(t); len(all) != 1 || all[0].ChannelName != "alerts" {
		t.Fatalf("after delete: %+v", all)
	}
}

func between(s, from, to string) string {
	_, after, _ := strings.Cut(s, from)
	before, _, _ := strings.Cut(after, to)
	return before
}

// The callback is refused, and exchanges nothing, unless it carries the
// state this session was given, once.
func TestSlackCallbackRefusesAStateItDidNotIssue(t *testing.T) {
	f := newSlackFixture(t)
	ctx := context.Background()
	s := f.app.SignInHTTP(t, "alice@example.com")
	refused := func(what, path string, s *webtest.Session) {
		t.Helper()
		status, body := s.Get(t, path)
		if status != http.StatusBadRequest || !strings.Contains(body, "state did not match") {
			t.Errorf("%s: status %d, want 400 saying the state did not match", what, status)
		}
	}

	refused("no state issued", callbackPath(f.fake.IssueCode(), "made-up"), s)
	state := f.connect(t, s)
	refused("no state", "/slack/callback?code="+f.fake.IssueCode(), s)
	refused("the state after a failed try", callbackPath(f.fake.IssueCode(), state), s)

	state = f.connect(t, s)
	refused("another state", callbackPath(f.fake.IssueCode(), state+"x"), s)

	state = f.connect(t, s)
	other := f.app.SignInHTTP(t, "bob@example.com")
	refused("another session", callbackPath(f.fake.IssueCode(), state), other)
	if len(f.fake.Requests("oauth.v2.access")) != 0 {
		t.Fatal("a refused callback exchanged its code")
	}
	if status, _ := s.Get(t, "/teams/ml/slack/channels"); status != http.StatusConflict {
		t.Fatalf("a channel chooser after refused callbacks: status %d, want 409", status)
	}

	// The issued state works once; its replay is refused.
	if status, _, _ := s.GetRedirect(t, callbackPath(f.fake.IssueCode(), state)); status != http.StatusSeeOther {
		t.Fatalf("the right state: status %d", status)
	}
	refused("a replay", callbackPath(f.fake.IssueCode(), state), s)
	if n := len(f.fake.Requests("oauth.v2.access")); n != 1 {
		t.Fatalf("%d code exchanges, want 1", n)
	}

	// Cancelled on Slack's screen: nothing is exchanged or stored.
	state = f.connect(t, s)
	if status, _, loc := s.GetRedirect(t, "/slack/callback?error=access_denied&state="+url.QueryEscape(state)); status != http.StatusSeeOther || loc != "/teams/ml#slack" {
		t.Fatalf("cancelled: %d to %q", status, loc)
	}
	// Slack refusing the code is a clear error.
	state = f.connect(t, s)
	if status, body := s.Get(t, callbackPath("not-a-code", state)); status != http.StatusBadGateway || !strings.Contains(body, "invalid_code") {
		t.Fatalf("a code Slack refuses: status %d", status)
	}
	if n := len(f.fake.Requests("oauth.v2.access")); n != 2 {
		t.Fatalf("%d code exchanges, want 2", n)
	}
	if got := f.integrations(t); len(got) != 0 {
		t.Fatalf("integrations stored by the callback alone: %+v", got)
	}

	// An admin demoted between Connect and the callback is refused.
	state = f.connect(t, s)
	bob, err := models.UserByEmail(ctx, f.app.DB, "bob@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if err := models.SetTeamRole(ctx, f.app.DB, f.team.ID, bob.ID, models.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if err := models.SetTeamRole(ctx, f.app.DB, f.team.ID, f.alice.ID, models.RoleMember); err != nil {
		t.Fatal(err)
	}
	if status, _ := s.Get(t, callbackPath(f.fake.IssueCode(), state)); status != http.StatusForbidden {
		t.Fatalf("callback after losing admin: status %d, want 403", status)
	}
	if n := len(f.fake.Requests("oauth.v2.access")); n != 2 {
		t.Fatalf("%d code exchanges after the demoted callback, want 2", n)
	}
}

// Slack integrations are for team admins (DESIGN.md §9): members and
// viewers get 403, others 404, and nothing changes or reaches Slack.
func TestSlackRoutesRefuseNonAdmins(t *testing.T) {
	f := newSlackFixture(t)
	alerts := f.integration(t, "C0ALERTS", "alerts")
	del := fmt.Sprintf("/teams/ml/slack/integrations/%d/delete", alerts.ID)
	for _, who := range []struct {
		email string
		want  int
	}{{"bob@example.com", http.StatusForbidden}, {"vera@example.com", http.StatusForbidden}, {"olga@example.com", http.StatusNotFound}} {
		s := f.app.SignInHTTP(t, who.email)
		if status, _, loc := s.GetRedirect(t, "/teams/ml/slack/connect"); status != who.want {
			t.Errorf("%s: Connect Slack: %d (to %q), want %d", who.email, status, loc, who.want)
		}
		if status, _ := s.Get(t, "/teams/ml/slack/channels?workspace=T0ACME"); status != who.want {
			t.Errorf("%s: channel chooser: %d, want %d", who.email, status, who.want)
		}
		if status, _ := s.PostForm(t, "/teams/ml/slack/integrations", url.Values{"channel": {"C0GENERAL"}, "workspace": {"T0ACME"}}); status != who.want {
			t.Errorf("%s: New integration: %d, want %d", who.email, status, who.want)
		}
		if status, _ := s.PostForm(t, del, url.Values{}); status != who.want {
			t.Errorf("%s: delete: %d, want %d", who.email, status, who.want)
		}
		if who.want == http.StatusForbidden {
			if status, page := s.Get(t, "/teams/ml"); status != http.StatusOK || strings.Contains(page, "slack-section") {
				t.Errorf("%s sees the Slack section (status %d)", who.email, status)
			}
		}
	}
	if all := f.integrations(t); len(all) != 1 || all[0].ID != alerts.ID {
		t.Fatalf("integrations changed: %+v", all)
	}
	if reqs := f.fake.Requests(""); len(reqs) != 0 {
		t.Fatalf("refused requests reached Slack: %+v", reqs)
	}

	// Another team's admin cannot delete ml's integration through their team.
	other := f.app.User(t, "otto@example.com", false)
	if _, err := models.CreateTeam(context.Background(), f.app.DB, "other", other); err != nil {
		t.Fatal(err)
	}
	s := f.app.SignInHTTP(t, "otto@example.com")
	if status, _ := s.PostForm(t, fmt.Sprintf("/teams/other/slack/integrations/%d/delete", alerts.ID), url.Values{}); status != http.StatusNotFound {
		t.Fatalf("delete through another team: status %d, want 404", status)
	}
	if status, _ := s.Get(t, "/teams/other/slack/channels?workspace=T0ACME"); status != http.StatusNotFound {
		t.Fatalf("another team's workspace: status %d, want 404", status)
	}
	if len(f.integrations(t)) != 1 {
		t.Fatal("the integration was deleted through another team")
	}
}

func TestSlackDeleteRefusedWhileAnAutomationPostsThere(t *testing.T) {
	f := newSlackFixture(t)
	ctx := context.Background()
	alerts := f.integration(t, "C0ALERTS", "alerts")
	project, err := models.ProjectByName(ctx, f.app.DB, f.team.ID, "vision")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := models.CreateAutomation(ctx, f.app.DB, models.AutomationSpec{
		Name: "notify-alerts", Enabled: true, Scope: models.ScopeProject, ProjectID: &project.ID,
		EventType: models.EventCreateArtifact, ActionType: models.ActionSlack, TeamID: f.team.ID,
		ActionConfig: fmt.Sprintf(`{"integration_id": %d, "channel": "alerts"}`, alerts.ID),
	}, f.alice); err != nil {
		t.Fatal(err)
	}
	s := f.app.SignInHTTP(t, "alice@example.com")
	if status, _, loc := s.PostFormRedirect(t, fmt.Sprintf("/teams/ml/slack/integrations/%d/delete", alerts.ID), url.Values{}); status != http.StatusSeeOther || loc != "/teams/ml#slack" {
		t.Fatalf("delete: %d to %q", status, loc)
	}
	_, page := s.Get(t, "/teams/ml")
	if !strings.Contains(page, "#alerts is used by automation notify-alerts") {
		t.Fatal("the refusal flash does not name the automation")
	}
	if len(f.integrations(t)) != 1 {
		t.Fatal("the used integration was deleted")
	}
}

func TestSlackSetupExplainedWithoutAClientID(t *testing.T) {
	f := newSlackFixture(t, webtest.WithConfig(func(c *web.Config) { c.SlackClientID = "" }))
	s := f.app.SignInHTTP(t, "alice@example.com")
	for _, path := range []string{"/teams/ml", "/teams/ml/slack/connect"} {
		status, page := s.Get(t, path)
		if status != http.StatusOK {
			t.Fatalf("%s: status %d", path, status)
		}
		for _, want := range []string{`data-testid="slack-setup"`, "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", f.app.URL + "/slack/callback", "chat:write, channels:read, groups:read"} {
			if !strings.Contains(page, want) {
				t.Errorf("%s does not explain %q", path, want)
			}
		}
		if strings.Contains(page, `data-testid="connect-slack"`) {
			t.Errorf("%s offers Connect Slack without a Slack app", path)
		}
	}
}

// A Slack automation created through the API posts its message through the
// worker; a rate-limit answer is recorded and retried after Slack's
// Retry-After.
func TestSlackAutomationRetriedAfterRateLimit(t *testing.T) {
	f := newSlackFixture(t, webtest.WithConfig(func(c *web.Config) { c.RetrySchedule = "20ms,20ms,20ms" }))
	f.integration(t, "C0ALERTS", "alerts")
	key := f.app.APIKey(t, f.alice)
	af := &automationFixture{app: f.app, key: key}
	a := af.must(t, http.StatusCreated, "POST", "/api/v1/automations", map[string]any{
		"name": "notify-alerts", "enabled": true,
		"scope":  map[string]any{"type": "project", "project": "ml/vision"},
		"event":  map[string]any{"type": "CREATE_ARTIFACT"},
		"action": map[string]any{"type": "slack", "team": "ml", "channel": "#alerts"},
	})
	f.fake.RateLimitNext("chat.postMessage", 1)
	af.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/vision/artifacts", map[string]any{"name": "dataset", "type": "dataset"})
	ds := af.deliveries(t, a["id"], allIn("succeeded", 1))
	attempts := ds[0]["attempts_detail"].([]any)
	if len(attempts) != 2 {
		t.Fatalf("attempts = %d, want 2", len(attempts))
	}
	first, second := attempts[0].(map[string]any), attempts[1].(map[string]any)
	if first["response_status"] != float64(429) || !strings.Contains(fmt.Sprint(first["error"]), "rate limit") || second["response_status"] != float64(200) {
		t.Fatalf("attempts = %v / %v", first, second)
	}
	if first["request_url"] != f.fake.URL+"/api/chat.postMessage" || strings.Contains(fmt.Sprint(first["request_body"], first["request_headers"]), f.fake.BotToken) {
		t.Fatalf("attempt request = %v %v", first["request_url"], first["request_body"])
	}
	msgs := f.fake.Messages()
	if len(msgs) != 1 || msgs[0].Channel != "C0ALERTS" || !strings.Contains(msgs[0].Text, f.app.URL+"/projects/ml/vision/artifacts/dataset/v0") ||
		!strings.Contains(msgs[0].Text, "ml/vision/dataset:v0") {
		t.Fatalf("messages = %+v", msgs)
	}
}

// Connecting a channel the app is not in says so at once: the confirmation
// post is refused with not_in_channel, and the flash tells how to fix it.
func TestSlackConnectNotInChannelSaysSoAtOnce(t *testing.T) {
	f := newSlackFixture(t)
	f.fake.SetChannels([]slacktest.Channel{{ID: "C0QUIET", Name: "quiet", IsMember: false}})
	s := f.app.SignInHTTP(t, "alice@example.com")
	state := f.connect(t, s)
	if status, _, _ := s.GetRedirect(t, callbackPath(f.fake.IssueCode(), state)); status != http.StatusSeeOther {
		t.Fatalf("callback: %d", status)
	}
	if status, _ := s.PostForm(t, "/teams/ml/slack/integrations", url.Values{"channel": {"C0QUIET"}}); status != http.StatusSeeOther {
		t.Fatalf("choose #quiet: status %d", status)
	}
	if posts := f.fake.Requests("chat.postMessage"); len(posts) != 1 || posts[0].Form.Get("channel") != "C0QUIET" {
		t.Fatalf("chat.postMessage calls = %+v, want the one confirmation", posts)
	}
	if len(f.fake.Messages()) != 0 {
		t.Fatalf("a message was accepted in a channel the app is not in: %+v", f.fake.Messages())
	}
	if all := f.integrations(t); len(all) != 1 || all[0].ChannelID != "C0QUIET" {
		t.Fatalf("integrations = %+v (the integration stays; inviting the app fixes it)", all)
	}
	_, settings := s.Get(t, "/teams/ml")
	if !strings.Contains(settings, "flash-error") || !strings.Contains(settings, "the app is not in the channel") || !strings.Contains(settings, "/invite") {
		t.Fatalf("Team Settings after connecting #quiet:\n%s", between(settings, `data-testid="flash"`, "</div>"))
	}
}

// A channel name connected in two workspaces must be named with its
// workspace; the API then shows every Slack action as Workspace/#channel.
func TestSlackChannelNamedWithItsWorkspaceWhenAmbiguous(t *testing.T) {
	f := newSlackFixture(t)
	f.integration(t, "C0GENERAL", "general")
	if _, err := models.CreateSlackIntegration(context.Background(), f.app.DB, f.box, f.team.ID, "T0OTHER", "Other Corp",
		"C9GENERAL", "general", "xoxb-other", f.alice); err != nil {
		t.Fatal(err)
	}
	af := &automationFixture{app: f.app, key: f.app.APIKey(t, f.alice)}
	body := func(channel string) map[string]any {
		return map[string]any{
			"name": "notify", "scope": map[string]any{"type": "project", "project": "ml/vision"},
			"event":  map[string]any{"type": "CREATE_ARTIFACT"},
			"action": map[string]any{"type": "slack", "team": "ml", "channel": channel},
		}
	}
	out := af.must(t, http.StatusUnprocessableEntity, "POST", "/api/v1/automations", body("#general"))
	if out["field"] != "action.channel" || !strings.Contains(fmt.Sprint(out["error"]), "Other Corp/#general") {
		t.Fatalf("ambiguous channel: %v", out)
	}
	a := af.must(t, http.StatusCreated, "POST", "/api/v1/automations", body("Other Corp/#general"))
	if got := a["action"].(map[string]any)["channel"]; got != "Other Corp/#general" {
		t.Fatalf("channel shown as %v", got)
	}
	listed := af.must(t, http.StatusOK, "GET", "/api/v1/automations?project=ml/vision", nil)["automations"].([]any)
	if len(listed) != 1 || listed[0].(map[string]any)["action"].(map[string]any)["channel"] != "Other Corp/#general" {
		t.Fatalf("listed as %v", listed)
	}
	var cfg models.SlackActionConfig
	auto, err := models.AutomationByID(context.Background(), f.app.DB, int64(a["id"].(float64)))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(auto.ActionConfig), &cfg); err != nil || cfg.Channel != "general" {
		t.Fatalf("stored config %s (%v)", auto.ActionConfig, err)
	}
	for _, si := range f.integrations(t) {
		if si.ID == cfg.IntegrationID && si.WorkspaceName != "Other Corp" {
			t.Fatalf("the automation posts to %s's #general", si.WorkspaceName)
		}
	}
}
