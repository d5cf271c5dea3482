package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/handlers"
	"github.com/automations-dev/automations/views"
)

// handleError is echo's one error handler: it logs internal causes and
// answers with JSON under /api/v1 and an error page elsewhere.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		s.log.Error("error after response started", "path", c.Request().URL.Path, "err", err)
		return
	}
	e, internal := handlers.Classify(err)
	if internal {
		s.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	if isAPI(c) || wantsJSON(c) {
		body := map[string]string{"error": e.Message}
		if e.Field != "" {
			body["field"] = e.Field
		}
		_ = c.JSON(e.Status, body)
		return
	}
	title := http.StatusText(e.Status)
	switch e.Status {
	case http.StatusForbidden:
		title = "Forbidden"
	case http.StatusUnprocessableEntity:
		// Forms re-render themselves on 422; this page is for refusals
		// made before any handler runs (text a database cannot store).
		title = "Check what you entered"
	case http.StatusNotFound:
		title = "Page not found"
		if e.Message == "Not found" {
			e.Message = "There is nothing here, or you cannot see it."
		}
	}
	if rerr := s.h.Render(c, e.Status, views.ErrorPage(e.Status, title, e.Message)); rerr != nil {
		s.log.Error("render error page", "err", rerr)
	}
}

func wantsJSON(c echo.Context) bool {
	return c.Request().Header.Get(echo.HeaderAccept) == echo.MIMEApplicationJSON
}
