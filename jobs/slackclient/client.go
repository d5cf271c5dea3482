// Package slackclient is the small part of the Slack Web API this project
// uses, through github.com/slack-go/slack: the OAuth v2 code exchange
// (oauth.v2.access), listing a workspace's channels (conversations.list)
// and posting a message (chat.postMessage). The API base URL is
// configurable (SLACK_API_URL) so tests talk to a fake on loopback.
//
// Bot tokens travel only in the Authorization header: slack-go puts them
// in the form body, and this package's transport moves them out, so a
// request body can be recorded without a token in it.
package slackclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// Scopes are the bot scopes the Connect Slack flow asks for: post
// messages, and list public and private channels to choose from.
var Scopes = []string{"chat:write", "channels:read", "groups:read"}

// DefaultAPIURL is Slack's own API host.
const DefaultAPIURL = "https://slack.com"

// MaxResponseBody caps how much of an answer an Exchange keeps.
const MaxResponseBody = 64 << 10

// maxAnswer bounds how much of one answer is read at all.
const maxAnswer = 16 << 20

// maxChannels bounds how many channels Channels reads (pages of 200).
const maxChannels = 2000

// Client talks to one Slack API base URL. It is safe for concurrent use.
type Client struct {
	apiURL string
	http   *http.Client
}

// New returns a client for apiURL (e.g. https://slack.com, without /api).
// httpClient nil means a client with a 15-second timeout.
func New(apiURL string, httpClient *http.Client) *Client {
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 15 * time.Second}
	}
	return &Client{apiURL: strings.TrimRight(apiURL, "/"), http: httpClient}
}

// Endpoint is the URL of a Web API method, e.g. Endpoint("chat.postMessage").
func (c *Client) Endpoint(method string) string { return c.apiURL + "/api/" + method }

// AuthorizeURL is where a browser goes to install the app in a workspace:
// Slack's consent screen, which then redirects to redirectURI with a code
// and the state.
func (c *Client) AuthorizeURL(clientID, redirectURI, state string) string {
	q := url.Values{
		"client_id":    {clientID},
		"scope":        {strings.Join(Scopes, ",")},
		"redirect_uri": {redirectURI},
		"state":        {state},
	}
	return c.apiURL + "/oauth/v2/authorize?" + q.Encode()
}

// Installation is what oauth.v2.access answers for a bot install.
type Installation struct {
	BotToken      string
	WorkspaceID   string
	WorkspaceName string
	BotUserID     string
	Scope         string
}

// ExchangeCode trades an OAuth code for the workspace's bot token.
func (c *Client) ExchangeCode(ctx context.Context, clientID, clientSecret, code, redirectURI string) (*Installation, error) {
	resp, err := slack.GetOAuthV2ResponseContext(ctx, c.http, clientID, clientSecret, code, redirectURI,
		slack.OAuthOptionAPIURL(c.apiURL+"/api/"))
	if err != nil {
		return nil, fmt.Errorf("slack oauth.v2.access: %w", err)
	}
	if resp.AccessToken == "" || resp.Team.ID == "" {
		return nil, errors.New("slack oauth.v2.access: the answer has no bot token or workspace")
	}
	return &Installation{
		BotToken: resp.AccessToken, WorkspaceID: resp.Team.ID, WorkspaceName: resp.Team.Name,
		BotUserID: resp.BotUserID, Scope: resp.Scope,
	}, nil
}

// Channel is a conversation a message can be posted to.
type Channel struct {
	ID       string
	Name     string
	Private  bool
	IsMember bool // the app's bot is in it (chat:write needs that)
}

// Channels lists the workspace's unarchived public and private channels the
// token can see, sorted by name.
func (c *Client) Channels(ctx context.Context, token string) ([]Channel, error) {
	api, _ := c.api(token)
	var out []Channel
	cursor := ""
	for len(out) < maxChannels {
		page, next, err := api.GetConversationsContext(ctx, &slack.GetConversationsParameters{
			Cursor: cursor, ExcludeArchived: true, Limit: 200, Types: []string{"public_channel", "private_channel"},
		})
		if err != nil {
			return nil, fmt.Errorf("slack conversations.list: %w", err)
		}
		for _, ch := range page {
			out = append(out, Channel{ID: ch.ID, Name: ch.Name, Private: ch.IsPrivate, IsMember: ch.IsMember})
		}
		if next == "" {
			break
		}
		cursor = next
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Message is what chat.postMessage sends.
type Message struct {
	Channel string        `json:"channel"`
	Text    string        `json:"text"`
	Blocks  []slack.Block `json:"blocks,omitempty"`
}

// Exchange is the last HTTP request and answer of a call, for delivery
// history. The request's token is never in it.
type Exchange struct {
	Status    int // 0 when no answer came
	Header    http.Header
	Body      []byte
	Truncated bool
	Duration  time.Duration
}

// PostMessage posts m with the bot token and reports the HTTP exchange
// along with slack-go's error (a *slack.RateLimitedError, a
// slack.SlackErrorResponse carrying Slack's error code, a
// slack.StatusCodeError, or a network error).
func (c *Client) PostMessage(ctx context.Context, token string, m Message) (Exchange, error) {
	api, rec := c.api(token)
	opts := []slack.MsgOption{slack.MsgOptionText(m.Text, false)}
	if len(m.Blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(m.Blocks...))
	}
	start := time.Now()
	_, _, err := api.PostMessageContext(ctx, m.Channel, opts...)
	ex := rec.exchange
	ex.Duration = time.Since(start)
	return ex, err
}

// ErrorCode is Slack's error code in err ("invalid_auth", "not_in_channel",
// …), or "" when err is not an API error answer.
func ErrorCode(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}

// api builds a slack-go client whose requests go through a recorder that
// moves the token into the Authorization header.
func (c *Client) api(token string) (*slack.Client, *recorder) {
	base := c.http.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	rec := &recorder{base: base, token: token}
	hc := *c.http
	hc.Transport = rec
	return slack.New(token, slack.OptionAPIURL(c.apiURL+"/api/"), slack.OptionHTTPClient(&hc)), rec
}

// recorder is one call's transport: it sends the token as a Bearer header
// instead of a form field and keeps the last exchange. A Client makes a new
// one per call, so it needs no lock.
type recorder struct {
	base     http.RoundTripper
	token    string
	exchange Exchange
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	if err := moveToken(req); err != nil {
		return nil, err
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	r.exchange = Exchange{}
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	// slack-go reads the whole answer (a page of channels can be large);
	// the record keeps its start.
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	resp.Body.Close()
	if readErr != nil {
		return nil, fmt.Errorf("read slack answer: %w", readErr)
	}
	r.exchange.Status, r.exchange.Header = resp.StatusCode, resp.Header.Clone()
	r.exchange.Body, r.exchange.Truncated = body, len(body) > MaxResponseBody
	if r.exchange.Truncated {
		r.exchange.Body = bytes.Clone(body[:MaxResponseBody])
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// moveToken drops the token field from a form-encoded body (the header
// carries it instead).
func moveToken(req *http.Request) error {
	if req.Body == nil || !strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return nil
	}
	raw, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return fmt.Errorf("read slack request: %w", err)
	}
	form, err := url.ParseQuery(string(raw))
	if err == nil && form.Has("token") {
		form.Del("token")
		raw = []byte(form.Encode())
	}
	req.Body = io.NopCloser(bytes.NewReader(raw))
	req.ContentLength = int64(len(raw))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil }
	return nil
}
