package handlers

import (
	"fmt"
	"strings"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/models/people"
	"github.com/automations-dev/automations/views"
)

// sessionToken is the cookie's key for the random token naming the
// server-side session row; the cookie holds nothing else about the user.
const sessionToken = "sid"

// SessionToken returns the session token in the request's cookie, "" if none.
func SessionToken(store sessions.Store, c echo.Context) string {
	s, err := store.Get(c.Request(), SessionName)
	if err != nil {
		return ""
	}
	tok, _ := s.Values[sessionToken].(string)
	return tok
}

const sessionKey = "automations.session"

// SetSession records the signed-in browser's session row on the request.
func SetSession(c echo.Context, s *people.Session) { c.Set(sessionKey, s) }

// CurrentSession is the request's session row, nil for API keys and anonymous requests.
func CurrentSession(c echo.Context) *people.Session {
	s, _ := c.Get(sessionKey).(*people.Session)
	return s
}

// startSession signs userID in: a new session row and a new cookie that
// replaces whatever the browser had, so a session planted before sign-in
// is never carried over. A session the request already had is ended.
func (h *Handler) startSession(c echo.Context, userID int64) error {
	ctx := c.Request().Context()
	if old := SessionToken(h.sessions, c); old != "" {
		if err := people.DeleteSessionByToken(ctx, h.db, old); err != nil {
			return err
		}
	}
	token, _, err := people.CreateSession(ctx, h.db, userID, c.RealIP(), c.Request().UserAgent(), time.Now(), h.limits)
	if err != nil {
		return err
	}
	return h.setSessionCookie(c, token)
}

// setSessionCookie gives the browser a fresh cookie holding token only.
func (h *Handler) setSessionCookie(c echo.Context, token string) error {
	// Get returns the request's cached cookie session (a new one if there
	// is none), so flashes added later in this request land in the same
	// cookie; replacing all its values leaves nothing of the old one.
	s, err := h.sessions.Get(c.Request(), SessionName)
	if s == nil {
		return fmt.Errorf("new session: %w", err)
	}
	s.Values = map[any]any{sessionToken: token}
	s.Options.MaxAge = int(h.limits.MaxAge.Seconds())
	if err := s.Save(c.Request(), c.Response()); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	return nil
}

// endSession deletes the request's session row and clears the cookie.
func (h *Handler) endSession(c echo.Context) error {
	if tok := SessionToken(h.sessions, c); tok != "" {
		if err := people.DeleteSessionByToken(c.Request().Context(), h.db, tok); err != nil {
			return err
		}
	}
	s, _ := h.sessions.Get(c.Request(), SessionName)
	if s == nil {
		return nil
	}
	s.Values = map[any]any{}
	s.Options.MaxAge = -1
	if err := s.Save(c.Request(), c.Response()); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// flash queues a message for the next page the user sees.
func (h *Handler) flash(c echo.Context, kind, message string) {
	s, _ := h.sessions.Get(c.Request(), SessionName)
	if s == nil {
		return
	}
	s.AddFlash(kind+"\x00"+message, "flash")
	if err := s.Save(c.Request(), c.Response()); err != nil {
		h.log.Warn("save flash", "err", err)
	}
}

func (h *Handler) takeFlashes(c echo.Context) []views.Flash {
	s, _ := h.sessions.Get(c.Request(), SessionName)
	if s == nil {
		return nil
	}
	raw := s.Flashes("flash")
	if len(raw) == 0 {
		return nil
	}
	out := make([]views.Flash, 0, len(raw))
	for _, r := range raw {
		str, _ := r.(string)
		kind, msg, ok := strings.Cut(str, "\x00")
		if !ok {
			kind, msg = "success", str
		}
		out = append(out, views.Flash{Kind: kind, Message: msg})
	}
	if err := s.Save(c.Request(), c.Response()); err != nil {
		h.log.Warn("save session after flashes", "err", err)
	}
	return out
}
