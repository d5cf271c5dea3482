// Package slacktest is a fake of the Slack Web API methods this project
// calls (oauth.v2.access, conversations.list, chat.postMessage) and of the
// consent screen (/oauth/v2/authorize), served on loopback for tests. It checks credentials the way Slack does, records
// every request, and can be told to answer the next call of a method with a
// rate limit (429 and Retry-After) or an error code.
package slacktest

import (
	"encoding/json"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Channel is a channel of the fake workspace.
type Channel struct {
	ID, Name string
	Private  bool
	IsMember bool // the bot is in it; posting elsewhere answers not_in_channel
}

// Request is one call the fake received.
type Request struct {
	Method        string // the API method, e.g. "chat.postMessage"
	Authorization string // the Authorization header as sent
	Form          url.Values
}

// Message is one accepted chat.postMessage.
type Message struct {
	Channel string
	Text    string
	Blocks  string // the blocks JSON as sent
}

// Server is the fake. Its exported fields are the workspace's identity and
// the app's credentials; set them before the code under test runs.
type Server struct {
	URL           string // the base URL, for SLACK_API_URL
	ClientID      string
	ClientSecret  string
	BotToken      string
	WorkspaceID   string
	WorkspaceName string

	mu        sync.Mutex
	channels  []Channel
	codes     map[string]bool // issued → not yet used
	requests  []Request
	messages  []Message
	rateLimit map[string][]int    // method → Retry-After seconds for its next calls
	fail      map[string][]string // method → error codes for its next calls
	nextCode  int
}

// New starts a fake with a workspace "Acme Corp" (T0ACME) and the channels
// #general, #alerts, #random (the bot is not in it) and the private
// #ml-team; it stops when the test ends.
func New(t testing.TB) *Server {
	s := &Server{
		ClientID: "1234.5678", ClientSecret: "fake-client-secret",
		BotToken: "xoxb-fake-" + strconv.FormatInt(time.Now().UnixNano(), 36), WorkspaceID: "T0ACME", WorkspaceName: "Acme Corp",
		channels: []Channel{
			{ID: "C0GENERAL", Name: "general", IsMember: true},
			{ID: "C0ALERTS", Name: "alerts", IsMember: true},
			{ID: "C0RANDOM", Name: "random"},
			{ID: "G0MLTEAM", Name: "ml-team", Private: true, IsMember: true},
		},
		codes: map[string]bool{}, rateLimit: map[string][]int{}, fail: map[string][]string{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth/v2/authorize", s.authorize)
	mux.HandleFunc("POST /api/oauth.v2.access", s.oauthAccess)
	mux.HandleFunc("POST /api/conversations.list", s.withAuth(s.conversationsList))
	mux.HandleFunc("POST /api/chat.postMessage", s.withAuth(s.postMessage))
	srv := httptest.NewServer(s.record(mux))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// SetChannels replaces the workspace's channels.
func (s *Server) SetChannels(chs []Channel) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels = append([]Channel(nil), chs...)
}

// IssueCode returns a new OAuth code, as Slack's consent screen would put
// on the redirect; oauth.v2.access accepts it once.
func (s *Server) IssueCode() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextCode++
	code := "code-" + strconv.Itoa(s.nextCode)
	s.codes[code] = true
	return code
}

// RateLimitNext makes the next call of method answer 429 with Retry-After.
func (s *Server) RateLimitNext(method string, retryAfterSeconds int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimit[method] = append(s.rateLimit[method], retryAfterSeconds)
}

// FailNext makes the next call of method answer {"ok": false, "error": code}.
func (s *Server) FailNext(method, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[method] = append(s.fail[method], code)
}

// Requests lists the calls of method received so far ("" for all).
func (s *Server) Requests(method string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if method == "" || r.Method == method {
			out = append(out, r)
		}
	}
	return out
}

// Messages lists the messages posted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// record parses and keeps every request, then answers a queued rate limit
// or failure before the method runs.
func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		method := strings.TrimPrefix(r.URL.Path, "/api/")
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: method, Authorization: r.Header.Get("Authorization"), Form: r.PostForm})
		var retry, code string
		if q := s.rateLimit[method]; len(q) > 0 {
			retry, s.rateLimit[method] = strconv.Itoa(q[0]), q[1:]
		} else if q := s.fail[method]; len(q) > 0 {
			code, s.fail[method] = q[0], q[1:]
		}
		s.mu.Unlock()
		switch {
		case retry != "":
			w.Header().Set("Retry-After", retry)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"ok":false,"error":"ratelimited"}`))
		case code != "":
			fail(w, code)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func answer(w http.ResponseWriter, v map[string]any) {
	v["ok"] = true
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

// fail answers like Slack: HTTP 200 with ok false and the error code.
func fail(w http.ResponseWriter, code string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": code})
}

// authorize is Slack's consent screen reduced to two links: Allow goes
// back to redirect_uri with a fresh code and the state, Cancel with
// error=access_denied.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	back, err := url.Parse(q.Get("redirect_uri"))
	if q.Get("client_id") != s.ClientID || err != nil || back.Scheme == "" {
		http.Error(w, "invalid_client_id or redirect_uri", http.StatusBadRequest)
		return
	}
	allow, deny := *back, *back
	allow.RawQuery = url.Values{"code": {s.IssueCode()}, "state": {q.Get("state")}}.Encode()
	deny.RawQuery = url.Values{"error": {"access_denied"}, "state": {q.Get("state")}}.Encode()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = consentPage.Execute(w, map[string]string{"Workspace": s.WorkspaceName, "Scopes": q.Get("scope"), "Allow": allow.String(), "Deny": deny.String()})
}

var consentPage = template.Must(template.New("consent").Parse(`<!DOCTYPE html>
<html><head><title>Slack fake: install app</title></head><body>
<h1>Install the app in {{.Workspace}}</h1>
<p>It asks for {{.Scopes}}.</p>
<a href="{{.Allow}}" data-testid="slack-allow">Allow</a>
<a href="{{.Deny}}" data-testid="slack-deny">Cancel</a>
</body></html>`))

func (s *Server) oauthAccess(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case r.PostForm.Get("client_id") != s.ClientID:
		fail(w, "invalid_client_id")
	case r.PostForm.Get("client_secret") != s.ClientSecret:
		fail(w, "bad_client_secret")
	case !s.codes[r.PostForm.Get("code")]:
		fail(w, "invalid_code")
	default:
		s.codes[r.PostForm.Get("code")] = false
		answer(w, map[string]any{
			"access_token": s.BotToken, "token_type": "bot", "scope": "chat:write,channels:read,groups:read",
			"bot_user_id": "U0BOT", "app_id": "A0APP",
			"team":        map[string]string{"id": s.WorkspaceID, "name": s.WorkspaceName},
			"authed_user": map[string]string{"id": "U0ADMIN"},
		})
	}
}

// withAuth accepts the bot token as a Bearer header or a token form field.
func (s *Server) withAuth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if token == "" {
			token = r.PostForm.Get("token")
		}
		s.mu.Lock()
		ok := token != "" && token == s.BotToken
		s.mu.Unlock()
		if !ok {
			fail(w, "invalid_auth")
			return
		}
		next(w, r)
	}
}

func (s *Server) conversationsList(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	chs := append([]Channel(nil), s.channels...)
	s.mu.Unlock()
	start, _ := strconv.Atoi(r.PostForm.Get("cursor"))
	limit, _ := strconv.Atoi(r.PostForm.Get("limit"))
	if limit <= 0 {
		limit = 100
	}
	end := min(start+limit, len(chs))
	page := []map[string]any{}
	for _, c := range chs[min(start, end):end] {
		page = append(page, map[string]any{
			"id": c.ID, "name": c.Name, "is_channel": !c.Private, "is_group": c.Private,
			"is_private": c.Private, "is_member": c.IsMember, "is_archived": false,
		})
	}
	next := ""
	if end < len(chs) {
		next = strconv.Itoa(end)
	}
	answer(w, map[string]any{"channels": page, "response_metadata": map[string]string{"next_cursor": next}})
}

func (s *Server) postMessage(w http.ResponseWriter, r *http.Request) {
	target := strings.TrimPrefix(r.PostForm.Get("channel"), "#")
	s.mu.Lock()
	defer s.mu.Unlock()
	var ch *Channel
	for i := range s.channels {
		if s.channels[i].ID == target || s.channels[i].Name == target {
			ch = &s.channels[i]
		}
	}
	switch {
	case ch == nil:
		fail(w, "channel_not_found")
		return
	case !ch.IsMember:
		fail(w, "not_in_channel")
		return
	}
	text := r.PostForm.Get("text")
	if text == "" && r.PostForm.Get("blocks") == "" {
		fail(w, "no_text")
		return
	}
	s.messages = append(s.messages, Message{Channel: ch.ID, Text: text, Blocks: r.PostForm.Get("blocks")})
	ts := strconv.FormatInt(time.Now().UnixMicro(), 10)
	answer(w, map[string]any{"channel": ch.ID, "ts": ts[:10] + "." + ts[10:], "message": map[string]string{"text": text}})
}
