package handlers

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/jobs/slackclient"
	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/views"
)

// The Connect Slack flow keeps its state in the signed session cookie:
// the OAuth state it issued (single use: taken out on the callback,
// whatever the outcome), then the workspace just authorized with its bot
// token sealed by the secrets box, until a channel is chosen. The token is
// never put in a page.
const (
	sessionSlackState   = "slack_state"
	sessionSlackPending = "slack_pending"
	slackStateTTL       = 10 * time.Minute
	slackPendingTTL     = 30 * time.Minute
)

type slackState struct {
	State   string `json:"state"`
	TeamID  int64  `json:"team"`
	Expires int64  `json:"exp"`
}

type slackPending struct {
	TeamID        int64  `json:"team"`
	WorkspaceID   string `json:"ws"`
	WorkspaceName string `json:"ws_name"`
	SealedToken   []byte `json:"token"`
	Expires       int64  `json:"exp"`
}

// slackSetup is what the operator registers in the Slack app.
func (h *Handler) slackSetup() views.SlackSetup {
	return views.SlackSetup{RedirectURL: h.slackRedirectURL(), Scopes: slackclient.Scopes}
}

func (h *Handler) slackRedirectURL() string { return h.baseURL + "/slack/callback" }

// slackProps is the Slack section of Team Settings.
func (h *Handler) slackProps(ctx context.Context, t *models.Team) (views.SlackProps, error) {
	p := views.SlackProps{Team: t.Name, Configured: h.slackApp.ClientID != "", Setup: h.slackSetup()}
	var err error
	if p.Integrations, err = models.SlackIntegrationsOf(ctx, h.db, t.ID); err != nil {
		return p, err
	}
	p.Workspaces, err = models.SlackWorkspacesOf(ctx, h.db, t.ID)
	return p, err
}

// SlackConnect is GET /teams/:team/slack/connect: it sends the admin to
// Slack's consent screen with a fresh state, or explains what to configure
// when the server has no Slack app.
func (h *Handler) SlackConnect(c echo.Context) error {
	t := currentTeam(c)
	if h.slackApp.ClientID == "" {
		return h.Render(c, http.StatusOK, views.SlackSetupPage(t.Name, h.slackSetup()))
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	st := slackState{State: base64.RawURLEncoding.EncodeToString(raw), TeamID: t.ID, Expires: time.Now().Add(slackStateTTL).Unix()}
	if err := h.setSessionJSON(c, sessionSlackState, st); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, h.slack.AuthorizeURL(h.slackApp.ClientID, h.slackRedirectURL(), st.State))
}

// errSlackState is the answer to a callback whose state this session did
// not issue, already used, or let expire: nothing is stored.
var errSlackState = &Error{Status: http.StatusBadRequest,
	Message: "The Slack connection could not be finished: its state did not match the one this browser started, or it expired. Nothing was connected; start again with Connect Slack in Team Settings."}

// SlackCallback is GET /slack/callback: Slack's redirect after consent. The
// state must be the one this session issued (and is used up here); the
// code is exchanged for the bot token, which waits sealed in the session
// while the admin chooses a channel.
func (h *Handler) SlackCallback(c echo.Context) error {
	ctx := c.Request().Context()
	var st slackState
	issued, err := h.takeSessionJSON(c, sessionSlackState, &st)
	if err != nil {
		return err
	}
	got := c.QueryParam("state")
	if !issued || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(st.State)) != 1 || time.Now().Unix() > st.Expires {
		return errSlackState
	}
	t, err := models.TeamByID(ctx, h.db, st.TeamID)
	if err != nil {
		return err
	}
	role, err := models.TeamRole(ctx, h.db, t.ID, CurrentUser(c).ID)
	if err != nil {
		return err
	}
	if !models.CanAdmin(CurrentUser(c), role) {
		return Forbidden()
	}
	if reason := c.QueryParam("error"); reason != "" {
		h.flash(c, "error", "Slack did not connect ("+shortReason(reason)+"). Nothing was changed.")
		return redirect(c, settingsURL(t.Name, "slack"))
	}
	code := c.QueryParam("code")
	if code == "" {
		return &Error{Status: http.StatusBadRequest, Message: "Slack sent no authorization code. Nothing was connected; start again with Connect Slack."}
	}
	inst, err := h.slack.ExchangeCode(ctx, h.slackApp.ClientID, h.slackApp.ClientSecret, code, h.slackRedirectURL())
	if err != nil {
		reason := slackclient.ErrorCode(err)
		if reason == "" {
			reason = "no answer from Slack"
		}
		return &Error{Status: http.StatusBadGateway, Cause: err,
			Message: "Slack refused to finish the connection (" + shortReason(reason) + "). Nothing was connected; try Connect Slack again."}
	}
	sealed, err := h.secrets.Seal(ctx, []byte(inst.BotToken))
	if err != nil {
		return err
	}
	pending := slackPending{TeamID: t.ID, WorkspaceID: inst.WorkspaceID, WorkspaceName: inst.WorkspaceName,
		SealedToken: sealed, Expires: time.Now().Add(slackPendingTTL).Unix()}
	if err := h.setSessionJSON(c, sessionSlackPending, pending); err != nil {
		return err
	}
	return redirect(c, teamSlackPath(t.Name, "channels"))
}

func teamSlackPath(team, what string) string { return "/teams/" + team + "/slack/" + what }

// shortReason keeps a code from a query string short in messages.
func shortReason(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

func (h *Handler) setSessionJSON(c echo.Context, key string, v any) error {
	s, _ := h.sessions.Get(c.Request(), SessionName)
	if s == nil {
		return &Error{Status: http.StatusBadRequest, Message: "Your session could not be read; sign in again."}
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	s.Values[key] = string(raw)
	return s.Save(c.Request(), c.Response())
}

// readSessionJSON decodes a session value; false when there is none.
func (h *Handler) readSessionJSON(c echo.Context, key string, v any) bool {
	s, _ := h.sessions.Get(c.Request(), SessionName)
	if s == nil {
		return false
	}
	raw, _ := s.Values[key].(string)
	return raw != "" && json.Unmarshal([]byte(raw), v) == nil
}

// takeSessionJSON is readSessionJSON that also removes the value; an error
// means it could not be removed (so it must not be used).
func (h *Handler) takeSessionJSON(c echo.Context, key string, v any) (bool, error) {
	ok := h.readSessionJSON(c, key, v)
	return ok, h.dropSession(c, key)
}

func (h *Handler) dropSession(c echo.Context, key string) error {
	s, _ := h.sessions.Get(c.Request(), SessionName)
	if s == nil {
		return nil
	}
	if _, ok := s.Values[key]; !ok {
		return nil
	}
	delete(s.Values, key)
	if err := s.Save(c.Request(), c.Response()); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	return nil
}
