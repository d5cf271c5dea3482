package web_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/audit"
	"github.com/automations-dev/automations/models/secretbox"
	"github.com/automations-dev/automations/web"
	"github.com/automations-dev/automations/web/slacktest"
	"github.com/automations-dev/automations/web/webtest"
)

// flakyReceiver answers 503 until healed, then 200, and remembers the
// delivery ids it accepted.
type flakyReceiver struct {
	*httptest.Server
	healed   atomic.Bool
	mu       sync.Mutex
	accepted map[string]int
	arrived  chan string
}

func newFlakyReceiver(t *testing.T) *flakyReceiver {
	r := &flakyReceiver{accepted: map[string]int{}, arrived: make(chan string, 100)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !r.healed.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		id := req.Header.Get("webhook-id")
		r.mu.Lock()
		r.accepted[id]++
		r.mu.Unlock()
		w.WriteHeader(http.StatusOK)
		r.arrived <- id
	}))
	t.Cleanup(r.Close)
	return r
}

// fakeSMTP accepts mail on loopback and hands each message's data on mails.
type fakeSMTP struct {
	addr  string
	mails chan string
}

func newFakeSMTP(t *testing.T) *fakeSMTP {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s := &fakeSMTP{addr: ln.Addr().String(), mails: make(chan string, 10)}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(conn)
		}
	}()
	return s
}

func (s *fakeSMTP) serve(conn net.Conn) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	say := func(line string) { _, _ = conn.Write([]byte(line + "\r\n")) }
	say("220 fake ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250 fake")
		case strings.HasPrefix(cmd, "DATA"):
			say("354 go on")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(l)
			}
			s.mails <- data.String()
			say("250 queued")
		case strings.HasPrefix(cmd, "QUIT"):
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

// A receiver that keeps failing drives its webhook to disabled under a low
// policy: the audit log records it, the team's healthy Slack channel and
// the team admins' mail are told, Team Settings and the automation's page
// show a banner, and new deliveries are held (not sent, not failed). After
// Re-enable with "send", the held deliveries arrive with their own ids.
func TestFailingWebhookIsDisabledAndHeldDeliveriesSentAfterReenable(t *testing.T) {
	rcv := newFlakyReceiver(t)
	slack := slacktest.New(t)
	smtp := newFakeSMTP(t)
	app := webtest.Start(t, webtest.WithAllowedTargets("127.0.0.1"), webtest.WithConfig(func(c *web.Config) {
		c.RetrySchedule = "0s" // two quick attempts, then failed
		c.EndpointDisableAfter = 0
		c.EndpointDisableMinFailures = 3
		c.SlackAPIURL = slack.URL
		c.SMTPURL = "smtp://" + smtp.addr
		c.SMTPFrom = "automations@example.com"
	}))
	ctx := context.Background()
	admin := app.User(t, "admin@example.com", false)
	site := app.User(t, "site@example.com", true)
	key := app.APIKey(t, site)
	must := func(want int, method, path string, body any) map[string]any {
		t.Helper()
		status, out := app.API(t, key, method, path, body)
		if status != want {
			t.Fatalf("%s %s: %d, want %d: %v", method, path, status, want, out)
		}
		return out
	}
	team, err := models.CreateTeam(ctx, app.DB, "ml", admin)
	if err != nil {
		t.Fatal(err)
	}
	must(http.StatusCreated, "POST", "/api/v1/teams/ml/projects", map[string]any{"name": "p"})
	must(http.StatusCreated, "POST", "/api/v1/teams/ml/webhooks", map[string]any{"name": "ci", "url": rcv.URL})
	a := must(http.StatusCreated, "POST", "/api/v1/automations", map[string]any{
		"name": "to-ci", "scope": map[string]any{"type": "project", "project": "ml/p"},
		"event":  map[string]any{"type": "CREATE_ARTIFACT"},
		"action": map[string]any{"type": "webhook", "team": "ml", "webhook": "ci", "payload": `{"v": "${artifact_version_string}"}`},
	})
	automationID := int64(a["id"].(float64))
	box, err := secretbox.Open(ctx, "", app.Keys.Encryption)
	if err != nil {
		t.Fatal(err)
	}
	defer box.Close()
	if _, err := models.CreateSlackIntegration(ctx, app.DB, box, team.ID, slack.WorkspaceID, slack.WorkspaceName, "C0ALERTS", "alerts", slack.BotToken, admin); err != nil {
		t.Fatal(err)
	}
	logEvent := func() {
		must(http.StatusCreated, "POST", "/api/v1/projects/ml/p/artifacts", map[string]any{"name": "m", "type": "model"})
	}
	states := func() map[models.DeliveryState]int {
		ds, err := models.DeliveriesOfAutomation(ctx, app.DB, automationID, 100)
		if err != nil {
			t.Fatal(err)
		}
		out := map[models.DeliveryState]int{}
		for _, d := range ds {
			out[d.State]++
		}
		return out
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not after 30s (deliveries %v)", what, states())
			}
			time.Sleep(20 * time.Millisecond) // poll interval; the loop waits on the condition
		}
	}

	for range 3 {
		logEvent()
	}
	waitFor("webhook disabled", func() bool {
		w := must(http.StatusOK, "GET", "/api/v1/teams/ml/webhooks/ci", nil)
		return w["health"].(map[string]any)["disabled"] == true
	})
	if s := states(); s[models.DeliveryFailed] != 3 {
		t.Fatalf("before the disable: %v, want 3 failed", s)
	}
	var entries []audit.Entry
	if err := app.DB.Where("team_id = ? AND kind = ?", team.ID, "webhook.disable").Find(&entries).Error; err != nil || len(entries) != 1 || entries[0].Target != "ci" {
		t.Fatalf("audit entries %+v (%v), want one webhook.disable of ci", entries, err)
	}
	select {
	case mail := <-smtp.mails:
		if !strings.Contains(mail, "To: admin@example.com") || !strings.Contains(mail, "Webhook ci of team ml was disabled") {
			t.Errorf("mail:\n%s", mail)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no mail to the team admins")
	}
	waitFor("a Slack notice", func() bool { return len(slack.Messages()) > 0 })
	if m := slack.Messages()[0]; m.Channel != "C0ALERTS" || !strings.Contains(m.Text, "Webhook ci of team ml was disabled") {
		t.Errorf("Slack notice %+v", m)
	}

	// New deliveries are held: not sent, not failed.
	logEvent()
	logEvent()
	waitFor("two held deliveries", func() bool { return states()[models.DeliveryHeld] == 2 })
	rcv.mu.Lock()
	if len(rcv.accepted) != 0 {
		t.Errorf("the receiver accepted %d deliveries while down", len(rcv.accepted))
	}
	rcv.mu.Unlock()

	session := app.SignInHTTP(t, "admin@example.com")
	if status, body := session.Get(t, "/teams/ml"); status != http.StatusOK || !strings.Contains(body, `data-testid="disabled-banner-webhook-ci"`) ||
		!strings.Contains(body, "2 held deliveries waiting") {
		t.Errorf("Team Settings (%d) shows no banner with 2 held deliveries", status)
	}
	if status, body := session.Get(t, fmt.Sprintf("/automations/%d", automationID)); status != http.StatusOK || !strings.Contains(body, `data-testid="automation-disabled-banner"`) {
		t.Errorf("the automation's page (%d) shows no banner", status)
	}

	rcv.healed.Store(true)
	if status, out := app.API(t, key, "POST", "/api/v1/teams/ml/webhooks/ci/enable", map[string]any{"held": "later"}); status != http.StatusUnprocessableEntity || out["field"] != "held" {
		t.Errorf("held=later: %d %v, want 422 on held", status, out)
	}
	out := must(http.StatusOK, "POST", "/api/v1/teams/ml/webhooks/ci/enable", map[string]any{"held": "send"})
	if out["held_sent"] != float64(2) {
		t.Errorf("enable answered %v, want held_sent 2", out)
	}
	waitFor("held deliveries sent", func() bool { return states()[models.DeliverySucceeded] == 2 })
	rcv.mu.Lock()
	if len(rcv.accepted) != 2 {
		t.Errorf("the receiver accepted %v, want the 2 held deliveries once each", rcv.accepted)
	}
	rcv.mu.Unlock()
	w := must(http.StatusOK, "GET", "/api/v1/teams/ml/webhooks/ci", nil)
	if h := w["health"].(map[string]any); h["disabled"] != false || h["failure_streak"] != float64(0) {
		t.Errorf("after re-enable: health %v", h)
	}
}

// A Slack integration whose posts keep failing is disabled too: its new
// deliveries are held (found through the automation's revision), its own
// failing channel gets no notice but the team's healthy one does, and
// Re-enable through the API sends what it held.
func TestFailingSlackIntegrationIsDisabledAndReenabled(t *testing.T) {
	slack := slacktest.New(t)
	app := webtest.Start(t, webtest.WithConfig(func(c *web.Config) {
		c.RetrySchedule = "0s"
		c.EndpointDisableAfter = 0
		c.EndpointDisableMinFailures = 2
		c.SlackAPIURL = slack.URL
	}))
	ctx := context.Background()
	admin := app.User(t, "admin@example.com", false)
	key := app.APIKey(t, admin)
	must := func(want int, method, path string, body any) map[string]any {
		t.Helper()
		status, out := app.API(t, key, method, path, body)
		if status != want {
			t.Fatalf("%s %s: %d, want %d: %v", method, path, status, want, out)
		}
		return out
	}
	team, err := models.CreateTeam(ctx, app.DB, "ml", admin)
	if err != nil {
		t.Fatal(err)
	}
	box, err := secretbox.Open(ctx, "", app.Keys.Encryption)
	if err != nil {
		t.Fatal(err)
	}
	defer box.Close()
	alerts, err := models.CreateSlackIntegration(ctx, app.DB, box, team.ID, slack.WorkspaceID, slack.WorkspaceName, "C0ALERTS", "alerts", slack.BotToken, admin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := models.CreateSlackIntegration(ctx, app.DB, box, team.ID, slack.WorkspaceID, slack.WorkspaceName, "C0GENERAL", "general", slack.BotToken, admin); err != nil {
		t.Fatal(err)
	}
	must(http.StatusCreated, "POST", "/api/v1/teams/ml/projects", map[string]any{"name": "p"})
	a := must(http.StatusCreated, "POST", "/api/v1/automations", map[string]any{
		"name": "notify", "scope": map[string]any{"type": "project", "project": "ml/p"},
		"event":  map[string]any{"type": "CREATE_ARTIFACT"},
		"action": map[string]any{"type": "slack", "team": "ml", "channel": "#alerts"},
	})
	automationID := int64(a["id"].(float64))
	count := func(state models.DeliveryState) int {
		ds, err := models.DeliveriesOfAutomation(ctx, app.DB, automationID, 100)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, d := range ds {
			if d.State == state {
				n++
			}
		}
		return n
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not after 30s", what)
			}
			time.Sleep(20 * time.Millisecond) // poll interval; the loop waits on the condition
		}
	}
	for range 4 { // two deliveries, two attempts each
		slack.FailNext("chat.postMessage", "internal_error")
	}
	for range 2 {
		must(http.StatusCreated, "POST", "/api/v1/projects/ml/p/artifacts", map[string]any{"name": "m", "type": "model"})
	}
	waitFor("the notice on #general", func() bool {
		for _, m := range slack.Messages() {
			if m.Channel == "C0GENERAL" && strings.Contains(m.Text, "Slack integration #alerts (Acme Corp) of team ml was disabled") {
				return true
			}
		}
		return false
	})
	must(http.StatusCreated, "POST", "/api/v1/projects/ml/p/artifacts", map[string]any{"name": "m", "type": "model"})
	waitFor("one held delivery", func() bool { return count(models.DeliveryHeld) == 1 })
	for _, m := range slack.Messages() {
		if m.Channel == "C0ALERTS" {
			t.Errorf("a message reached the disabled channel: %+v", m)
		}
	}
	path := fmt.Sprintf("/api/v1/teams/ml/slack/integrations/%d/enable", alerts.ID)
	out := must(http.StatusOK, "POST", path, map[string]any{"held": "send"})
	if out["held_sent"] != float64(1) {
		t.Errorf("enable answered %v, want held_sent 1", out)
	}
	waitFor("the held delivery posted", func() bool { return count(models.DeliverySucceeded) == 1 })
	var entries []audit.Entry
	app.DB.Where("team_id = ? AND kind IN ?", team.ID, []string{"slack.disable", "slack.enable"}).Order("id").Find(&entries)
	if len(entries) != 2 || entries[0].Kind != "slack.disable" || entries[1].Kind != "slack.enable" || entries[1].ActorName != "admin@example.com" {
		t.Errorf("audit entries %+v", entries)
	}
}
