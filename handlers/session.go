package handlers

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/views"
)

// Session keys.
const (
	sessionUserID = "uid"
	sessionNonce  = "sid"
)

// SessionUserID returns the user id stored in the request's session, 0 if none.
func SessionUserID(store sessions.Store, c echo.Context) int64 {
	s, err := store.Get(c.Request(), SessionName)
	if err != nil {
		return 0
	}
	id, _ := s.Values[sessionUserID].(int64)
	return id
}

// startSession replaces whatever session the browser had with a new one for
// userID, so a session id planted before sign-in is never carried over.
func (h *Handler) startSession(c echo.Context, userID int64) error {
	s, err := h.sessions.New(c.Request(), SessionName)
	if s == nil {
		return fmt.Errorf("new session: %w", err)
	}
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	s.Values = map[any]any{sessionUserID: userID, sessionNonce: hex.EncodeToString(nonce)}
	if err := s.Save(c.Request(), c.Response()); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	return nil
}

func (h *Handler) endSession(c echo.Context) error {
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
