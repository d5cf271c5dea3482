package jobs_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/jobs"
	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/modeltest"
	"github.com/automations-dev/automations/models/secretbox"
	"github.com/automations-dev/automations/web/slacktest"
)

const slackBaseURL = "https://automations.example.com"

type slackFixture struct {
	db     *gorm.DB
	fake   *slacktest.Server
	action *jobs.SlackAction
	integ  *models.SlackIntegration
	// delivery is the queued delivery of the automation for a new version
	// of ml/vision/dataset by alice.
	delivery models.Delivery
}

// newSlackFixture connects #alerts of the fake workspace to team ml, makes
// a Slack automation for project ml/vision and logs a dataset version,
// which queues one delivery.
func newSlackFixture(t *testing.T) *slackFixture {
	t.Helper()
	ctx := context.Background()
	db := modeltest.Open(t)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	box, err := secretbox.Open(ctx, "", key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { box.Close() })
	fake := slacktest.New(t)
	alice := modeltest.User(t, db, "alice@example.com", false)
	team := modeltest.Team(t, db, "ml", alice)
	project, err := models.CreateProject(ctx, db, team, "vision", alice)
	if err != nil {
		t.Fatal(err)
	}
	integ, err := models.CreateSlackIntegration(ctx, db, box, team.ID, fake.WorkspaceID, fake.WorkspaceName, "C0ALERTS", "alerts", fake.BotToken, alice)
	if err != nil {
		t.Fatal(err)
	}
	_, err = models.CreateAutomation(ctx, db, models.AutomationSpec{
		Name: "tell #alerts", Enabled: true, Scope: models.ScopeProject, ProjectID: &project.ID,
		EventType: models.EventCreateArtifact, ActionType: models.ActionSlack, TeamID: team.ID,
		ActionConfig: fmt.Sprintf(`{"integration_id": %d, "channel": "alerts"}`, integ.ID),
	}, alice)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := models.LogArtifact(ctx, db, team, project, models.NewArtifact{Name: "dataset", Type: "dataset"}, alice); err != nil {
		t.Fatal(err)
	}
	f := &slackFixture{db: db, fake: fake, integ: integ,
		action: &jobs.SlackAction{DB: db, Secrets: box, APIURL: fake.URL, BaseURL: slackBaseURL + "/"}}
	if err := db.Where("action_type = ?", models.ActionSlack).First(&f.delivery).Error; err != nil {
		t.Fatalf("the slack delivery was not queued: %v", err)
	}
	var rev models.AutomationRevision
	if err := db.First(&rev, f.delivery.RevisionID).Error; err != nil {
		t.Fatalf("the slack delivery's revision: %v", err)
	}
	f.delivery.ActionConfig = rev.ActionConfig // as the runner's claim fills it in
	return f
}

func TestSlackActionPostsTheEventWithTheBotToken(t *testing.T) {
	f := newSlackFixture(t)
	out := f.action.Perform(context.Background(), &f.delivery)
	if out.Err != nil {
		t.Fatalf("Perform: %v", out.Err)
	}
	reqs := f.fake.Requests("chat.postMessage")
	if len(reqs) != 1 {
		t.Fatalf("chat.postMessage calls = %d, want 1", len(reqs))
	}
	if reqs[0].Authorization != "Bearer "+f.fake.BotToken || reqs[0].Form.Has("token") {
		t.Errorf("token sent as Authorization %q and form token %q, want only the Bearer header", reqs[0].Authorization, reqs[0].Form.Get("token"))
	}
	msgs := f.fake.Messages()
	if len(msgs) != 1 || msgs[0].Channel != "C0ALERTS" {
		t.Fatalf("messages = %+v, want one in C0ALERTS", msgs)
	}
	link := slackBaseURL + "/projects/ml/vision/artifacts/dataset/v0"
	for _, want := range []string{"CREATE_ARTIFACT", "ml/vision/dataset:v0", "alice", link} {
		if !strings.Contains(msgs[0].Text, want) {
			t.Errorf("message text %q lacks %q", msgs[0].Text, want)
		}
	}
	blocks := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(msgs[0].Blocks)
	for _, want := range []string{"CREATE_ARTIFACT", "ml/vision/dataset:v0", "alice", "<" + link + "|", "tell #alerts"} {
		if !strings.Contains(blocks, want) {
			t.Errorf("message blocks %s lack %q", msgs[0].Blocks, want)
		}
	}

	at := out.Attempt
	if at.RequestURL != f.fake.URL+"/api/chat.postMessage" {
		t.Errorf("attempt URL = %q", at.RequestURL)
	}
	var body struct {
		Channel string            `json:"channel"`
		Text    string            `json:"text"`
		Blocks  []json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal([]byte(at.RequestBody), &body); err != nil || body.Channel != "C0ALERTS" || body.Text != msgs[0].Text || len(body.Blocks) == 0 {
		t.Errorf("attempt body = %s (%v), want the message JSON", at.RequestBody, err)
	}
	if strings.Contains(at.RequestBody+at.RequestHeaders, f.fake.BotToken) {
		t.Errorf("the attempt record holds the bot token: %s %s", at.RequestHeaders, at.RequestBody)
	}
	if at.ResponseStatus == nil || *at.ResponseStatus != 200 || !strings.Contains(at.ResponseBody, `"ok":true`) {
		t.Errorf("attempt response = %v %s", at.ResponseStatus, at.ResponseBody)
	}
}

func TestSlackActionHonoursRateLimits(t *testing.T) {
	f := newSlackFixture(t)
	f.fake.RateLimitNext("chat.postMessage", 7)
	out := f.action.Perform(context.Background(), &f.delivery)
	if out.Err == nil || out.Permanent || out.RetryAfter != 7*time.Second {
		t.Fatalf("rate limited: err %v, permanent %v, retry after %s; want a retry after 7s", out.Err, out.Permanent, out.RetryAfter)
	}
	if out.Attempt.ResponseStatus == nil || *out.Attempt.ResponseStatus != 429 || !strings.Contains(out.Attempt.ResponseHeaders, "Retry-After: 7") {
		t.Errorf("attempt response = %v %q", out.Attempt.ResponseStatus, out.Attempt.ResponseHeaders)
	}
	if len(f.fake.Messages()) != 0 {
		t.Fatal("a rate-limited call posted a message")
	}
	if out := f.action.Perform(context.Background(), &f.delivery); out.Err != nil || len(f.fake.Messages()) != 1 {
		t.Fatalf("the retry: %v, %d messages", out.Err, len(f.fake.Messages()))
	}
}

func TestSlackActionClassifiesSlackErrors(t *testing.T) {
	for _, tc := range []struct {
		code      string
		permanent bool
		say       string
	}{
		{"invalid_auth", true, "invalid_auth"},
		{"channel_not_found", true, "channel_not_found"},
		{"not_in_channel", false, "invite the app to #alerts"},
		{"internal_error", false, "internal_error"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			f := newSlackFixture(t)
			f.fake.FailNext("chat.postMessage", tc.code)
			out := f.action.Perform(context.Background(), &f.delivery)
			if out.Err == nil || out.Permanent != tc.permanent || !strings.Contains(out.Err.Error(), tc.say) {
				t.Fatalf("err %v, permanent %v; want an error saying %q, permanent %v", out.Err, out.Permanent, tc.say, tc.permanent)
			}
			if out.Attempt.ResponseStatus == nil || !strings.Contains(out.Attempt.ResponseBody, tc.code) {
				t.Errorf("attempt response = %v %s", out.Attempt.ResponseStatus, out.Attempt.ResponseBody)
			}
		})
	}
}

func TestSlackActionWithoutTheIntegrationOrSlack(t *testing.T) {
	f := newSlackFixture(t)
	ctx := context.Background()

	gone := f.delivery
	gone.ActionConfig = fmt.Sprintf(`{"integration_id": %d}`, f.integ.ID+100)
	if out := f.action.Perform(ctx, &gone); out.Err == nil || !out.Permanent || !strings.Contains(out.Err.Error(), "deleted") {
		t.Errorf("deleted integration: err %v, permanent %v; want a permanent error", out.Err, out.Permanent)
	}
	otherTeam := f.delivery
	otherTeam.TeamID = f.integ.TeamID + 100
	if out := f.action.Perform(ctx, &otherTeam); out.Err == nil || !out.Permanent {
		t.Errorf("another team's integration: err %v, permanent %v; want a permanent error", out.Err, out.Permanent)
	}

	down := *f.action
	down.APIURL = "http://127.0.0.1:1"
	out := down.Perform(ctx, &f.delivery)
	if out.Err == nil || out.Permanent || out.Attempt.ResponseStatus != nil {
		t.Errorf("Slack unreachable: err %v, permanent %v, status %v; want a retryable error without a response", out.Err, out.Permanent, out.Attempt.ResponseStatus)
	}
	if len(f.fake.Requests("")) != 0 {
		t.Errorf("the fake got %d requests", len(f.fake.Requests("")))
	}
}

// The message escapes Slack's control characters in names, so a
// collection or author cannot add links or mentions.
func TestSlackMessageEscapesNames(t *testing.T) {
	m := jobs.SlackMessage("C1", "a <!channel>", models.EventVars{
		EventType: models.EventAddArtifactAlias, Alias: "prod", ArtifactCollectionName: "x<@U1>",
		ArtifactVersionString: "ml/p/x<@U1>:prod", EventAuthor: "eve&co",
	}, "https://a.example.com/v")
	raw, err := json.Marshal(m.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	blocks := string(raw) + m.Text
	for _, bad := range []string{"<@U1>", "<!channel>", "eve&co", `\u003c@U1`, `\u003c!channel`, `eve\u0026co`} {
		if strings.Contains(blocks, bad) {
			t.Errorf("blocks hold %q unescaped: %s", bad, blocks)
		}
	}
	for _, want := range []string{`x\u0026lt;@U1\u0026gt;`, "prod", "ADD_ARTIFACT_ALIAS"} {
		if !strings.Contains(blocks, want) {
			t.Errorf("blocks lack %q: %s", want, blocks)
		}
	}
}
