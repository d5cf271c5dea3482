package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/jobs/slackclient"
	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/views"
)

// slackSource is the workspace whose channels are offered and the bot
// token to list them and to store with the chosen channel: either the one
// just authorized (pending in the session) or, for New integration, one the
// team already connected.
type slackSource struct {
	workspaceID   string // the form's workspace value: "" for the pending one
	workspace     string // its Slack id
	workspaceName string
	token         string
	pending       bool
}

var errNoSlackPending = &Error{Status: http.StatusConflict,
	Message: "No Slack workspace is being connected to this team (a connection waits 30 minutes for a channel). Start again with Connect Slack."}

func (h *Handler) slackSource(c echo.Context, t *models.Team, workspaceID string) (*slackSource, error) {
	ctx := c.Request().Context()
	if workspaceID != "" {
		ws, err := models.SlackWorkspaceOf(ctx, h.db, t.ID, workspaceID)
		if errors.Is(err, models.ErrNotFound) {
			return nil, &Error{Status: http.StatusNotFound, Message: "This team has no Slack workspace " + shortReason(workspaceID) + ".", Cause: err}
		}
		if err != nil {
			return nil, err
		}
		token, err := models.SlackBotToken(ctx, h.db, h.secrets, ws.TokenFrom)
		if err != nil {
			return nil, err
		}
		return &slackSource{workspaceID: ws.ID, workspace: ws.ID, workspaceName: ws.Name, token: token}, nil
	}
	var p slackPending
	if !h.readSessionJSON(c, sessionSlackPending, &p) || p.TeamID != t.ID || time.Now().Unix() > p.Expires {
		return nil, errNoSlackPending
	}
	token, err := h.secrets.Unseal(ctx, p.SealedToken)
	if err != nil {
		return nil, err
	}
	return &slackSource{workspace: p.WorkspaceID, workspaceName: p.WorkspaceName, token: string(token), pending: true}, nil
}

// slackChannels lists the source's channels matching query, marking the
// ones the team already has. A Slack failure is a message for the page.
func (h *Handler) slackChannels(ctx context.Context, t *models.Team, src *slackSource, query string) (views.SlackChannelsProps, []slackclient.Channel) {
	p := views.SlackChannelsProps{Team: t.Name, WorkspaceID: src.workspaceID, WorkspaceName: src.workspaceName, Query: query}
	all, err := h.slack.Channels(ctx, src.token)
	if err != nil {
		h.log.Warn("list slack channels", "team", t.Name, "workspace", src.workspace, "err", err)
		p.Error = "Slack did not list the channels (" + slackReason(err) + "). Try again, or connect the workspace again."
		return p, nil
	}
	connected := map[string]bool{}
	if have, err := models.SlackIntegrationsOf(ctx, h.db, t.ID); err == nil {
		for _, s := range have {
			connected[s.ChannelID] = true
		}
	}
	q := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(query), "#"))
	for _, ch := range all {
		if q == "" || strings.Contains(strings.ToLower(ch.Name), q) {
			p.Channels = append(p.Channels, views.SlackChannel{ID: ch.ID, Name: ch.Name, Private: ch.Private, IsMember: ch.IsMember, Connected: connected[ch.ID]})
		}
	}
	return p, all
}

func slackReason(err error) string {
	if code := slackclient.ErrorCode(err); code != "" {
		return code
	}
	return "no answer from Slack"
}

// renderSlackChannels answers with the channel list alone to htmx (the
// search box) and the whole page otherwise.
func (h *Handler) renderSlackChannels(c echo.Context, status int, p views.SlackChannelsProps) error {
	if isHTMX(c) {
		return h.Render(c, status, views.SlackChannelList(p))
	}
	return h.Render(c, status, views.SlackChannelsPage(p))
}

// SlackChannels is GET /teams/:team/slack/channels[?workspace=W][&q=…]:
// Choose a channel, with Search for a channel.
func (h *Handler) SlackChannels(c echo.Context) error {
	t := currentTeam(c)
	src, err := h.slackSource(c, t, c.QueryParam("workspace"))
	if err != nil {
		return err
	}
	p, _ := h.slackChannels(c.Request().Context(), t, src, c.QueryParam("q"))
	status := http.StatusOK
	if p.Error != "" {
		status = http.StatusBadGateway
	}
	return h.renderSlackChannels(c, status, p)
}

// SlackIntegrationCreate is POST /teams/:team/slack/integrations: the
// chosen channel (checked against Slack's list) becomes an integration with
// the workspace's bot token, sealed.
func (h *Handler) SlackIntegrationCreate(c echo.Context) error {
	ctx := c.Request().Context()
	t := currentTeam(c)
	src, err := h.slackSource(c, t, c.FormValue("workspace"))
	if err != nil {
		return err
	}
	p, all := h.slackChannels(ctx, t, src, "")
	if p.Error != "" {
		return h.renderSlackChannels(c, http.StatusBadGateway, p)
	}
	channelID := c.FormValue("channel")
	var chosen *slackclient.Channel
	for i := range all {
		if all[i].ID == channelID {
			chosen = &all[i]
		}
	}
	if chosen == nil {
		p.Error = "Choose a channel from the list: the workspace has no channel " + shortReason(channelID) + " the app can see."
		return h.renderSlackChannels(c, http.StatusUnprocessableEntity, p)
	}
	s, err := h.createSlackIntegration(c, t, src, chosen.ID, chosen.Name)
	if errs, status, ok := fieldErrors(err); ok {
		for _, msg := range errs {
			p.Error = msg
		}
		return h.renderSlackChannels(c, status, p)
	}
	if err != nil {
		return err
	}
	if src.pending {
		if err := h.dropSession(c, sessionSlackPending); err != nil {
			h.log.Warn("forget the pending slack workspace", "err", err)
		}
	}
	kind, msg := h.confirmSlackChannel(ctx, src.token, s, t.Name, CurrentUser(c))
	h.flash(c, kind, msg)
	return redirect(c, settingsURL(t.Name, "slack"))
}

// SlackIntegrationDelete is POST /teams/:team/slack/integrations/:id/delete.
// A refusal (automations post there) comes back as a flash naming them.
func (h *Handler) SlackIntegrationDelete(c echo.Context) error {
	ctx := c.Request().Context()
	t := currentTeam(c)
	notFound := &Error{Status: http.StatusNotFound, Message: "This team has no such Slack integration."}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return notFound
	}
	s, err := models.SlackIntegrationByID(ctx, h.db, id)
	if errors.Is(err, models.ErrNotFound) || (err == nil && s.TeamID != t.ID) {
		return notFound
	}
	if err != nil {
		return err
	}
	err = h.deleteSlackIntegration(c, t, s)
	if h.flashRefusal(c, err) {
		return redirect(c, settingsURL(t.Name, "slack"))
	}
	if errors.Is(err, models.ErrNotFound) {
		return notFound
	}
	if err != nil {
		return err
	}
	h.flash(c, "success", "Slack integration #"+s.ChannelName+" deleted.")
	return redirect(c, settingsURL(t.Name, "slack"))
}
