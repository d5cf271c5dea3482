package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	_ "time/tzdata" // zone names from browsers resolve without the system's zoneinfo

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/automations-dev/automations/views"
)

// Render writes a templ component with status. Status and headers are set
// before the component renders, since templ streams the body.
func (h *Handler) Render(c echo.Context, status int, component templ.Component) error {
	req := views.Request{
		User:    CurrentUser(c),
		CSRF:    csrfToken(c),
		Flashes: h.takeFlashes(c),
		Path:    c.Request().URL.Path,

		Location: readerLocation(c),
	}
	ctx := views.WithRequest(c.Request().Context(), req)
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(status)
	if err := component.Render(ctx, c.Response().Writer); err != nil {
		return fmt.Errorf("render %s: %w", c.Path(), err)
	}
	return nil
}

func csrfToken(c echo.Context) string {
	tok, _ := c.Get(middleware.DefaultCSRFConfig.ContextKey).(string)
	return tok
}

// isHTMX reports whether the request came from htmx (it then wants a fragment).
func isHTMX(c echo.Context) bool { return c.Request().Header.Get("HX-Request") == "true" }

// redirect answers a successful form POST: 303 for a plain form, HX-Redirect
// for htmx so the browser loads the page. When htmx asked from that very
// page (it differs at most in the #fragment), setting location.href would
// only scroll, so the page is reloaded instead (HX-Refresh).
func redirect(c echo.Context, to string) error {
	if isHTMX(c) {
		if samePage(c.Request().Header.Get("HX-Current-URL"), to) {
			c.Response().Header().Set("HX-Refresh", "true")
		} else {
			c.Response().Header().Set("HX-Redirect", to)
		}
		return c.NoContent(http.StatusOK)
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// samePage reports whether the browser's current URL and the redirect
// target differ at most in their fragments.
func samePage(current, to string) bool {
	cur, err1 := url.Parse(current)
	target, err2 := url.Parse(to)
	if current == "" || err1 != nil || err2 != nil {
		return false
	}
	if target.Host != "" && target.Host != cur.Host {
		return false
	}
	return cur.Path == target.Path && cur.RawQuery == target.RawQuery
}

// MaxJSONBody is the largest JSON request body the API reads.
const MaxJSONBody = 1 << 20

// bindJSON decodes a JSON body strictly: unknown fields and trailing data are
// errors that name what was wrong.
func bindJSON(c echo.Context, v any) error { return bindJSONLimit(c, v, MaxJSONBody) }

// bindJSONLimit is bindJSON for a body of up to limit bytes.
func bindJSONLimit(c echo.Context, v any, limit int64) error {
	body := http.MaxBytesReader(c.Response(), c.Request().Body, limit)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.As(err, &tooBig):
			return newError(http.StatusRequestEntityTooLarge, "", fmt.Sprintf("request body is larger than %d bytes", limit))
		case errors.Is(err, io.EOF):
			return newError(http.StatusBadRequest, "", "request body is empty: send a JSON object")
		case errors.As(err, &typeErr):
			return newError(http.StatusBadRequest, typeErr.Field, fmt.Sprintf("%s must be %s, not %s", fieldName(typeErr.Field), jsonKind(typeErr.Type.Kind().String()), typeErr.Value))
		case errors.As(err, &syntaxErr):
			return newError(http.StatusBadRequest, "", fmt.Sprintf("request body is not valid JSON (at byte %d)", syntaxErr.Offset))
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			// encoding/json has no error type for this case; its text is the only signal.
			field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return newError(http.StatusBadRequest, field, fmt.Sprintf("unknown field %q", field))
		}
		return newError(http.StatusBadRequest, "", "request body is not valid JSON")
	}
	if dec.More() {
		return newError(http.StatusBadRequest, "", "request body has data after the JSON value")
	}
	return nil
}

func fieldName(f string) string {
	if f == "" {
		return "the body"
	}
	return f
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "an array"
	}
	return "a number"
}

// readerLocation is the time zone the reader's browser reported in the
// "tz" cookie (static/app.js), nil when unknown or not a zone.
func readerLocation(c echo.Context) *time.Location {
	ck, err := c.Cookie("tz")
	if err != nil || ck.Value == "" || len(ck.Value) > 64 {
		return nil
	}
	name, err := url.QueryUnescape(ck.Value)
	if err != nil || name == "Local" {
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil
	}
	return loc
}
