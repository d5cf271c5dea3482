package web

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/automations-dev/automations/handlers"
)

// textInput refuses text the databases cannot store, in one place for every
// route: a NUL byte (PostgreSQL text cannot hold one) or invalid UTF-8
// (PostgreSQL refuses it, SQLite would store bytes no page can show) in a
// path parameter, a query parameter, a form field or any string or object
// key of a JSON body. The answer is 422 naming the field: `{"error",
// "field"}` for the API, an error page for forms. It runs after routing
// (echo's Use), so path parameters are known, and after the CSRF check, so
// a forged form is refused as forged first.
func textInput(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := checkRequestText(c); err != nil {
			return err
		}
		return next(c)
	}
}

func checkRequestText(c echo.Context) error {
	for i, name := range c.ParamNames() {
		if i >= len(c.ParamValues()) {
			break
		}
		v := c.ParamValues()[i]
		if problem := textProblem(v); problem != "" {
			return badText(name, problem)
		}
		// A path echo matched escaped (RawPath) keeps its escapes in
		// parameters: refuse what they would unescape to as well.
		if u, err := url.PathUnescape(v); err == nil {
			if problem := textProblem(u); problem != "" {
				return badText(name, problem)
			}
		}
	}
	r := c.Request()
	if err := checkValues(r.URL.Query()); err != nil {
		return err
	}
	if r.Body == nil || r.Body == http.NoBody || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return nil
	}
	ctype, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	switch {
	case isAPI(c) || ctype == echo.MIMEApplicationJSON:
		// The API reads every body as JSON whatever its Content-Type.
		return checkJSONBody(r)
	case ctype == echo.MIMEApplicationForm || ctype == echo.MIMEMultipartForm:
		// Parsing here keeps the values on the request for the handler
		// (the CSRF check may already have done it). A parse error is the
		// handler's to meet, as before; what did parse is checked.
		_, _ = c.FormParams()
		if err := checkValues(r.PostForm); err != nil {
			return err
		}
		if r.MultipartForm != nil {
			return checkValues(r.MultipartForm.Value)
		}
		return nil
	}
	return nil
}

// checkValues checks form or query values and their names, in name order
// so the field reported does not depend on map order.
func checkValues(values url.Values) error {
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if problem := textProblem(name); problem != "" {
			return badText(printable(name), "its name "+problem)
		}
		for _, v := range values[name] {
			if problem := textProblem(v); problem != "" {
				return badText(name, problem)
			}
		}
	}
	return nil
}

// checkJSONBody reads the body, checks it, and puts it back for the
// handler. A body larger than the API reads is put back unchecked: the
// handler refuses it as too large.
func checkJSONBody(r *http.Request) error {
	buf, err := io.ReadAll(io.LimitReader(r.Body, handlers.MaxJSONBody+1))
	if err != nil {
		return err // the server's body limit (413) or a broken connection
	}
	if len(buf) > handlers.MaxJSONBody {
		r.Body = readCloser{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(buf))
	if field, problem := jsonTextProblem(buf); problem != "" {
		return badText(field, problem)
	}
	return nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// jsonTextProblem walks every string and object key of a JSON document and
// returns the path of the first bad one (`action.payload`, `rows[3].name`)
// and what is wrong with it. Text that is not JSON is left to the handler,
// which says so.
func jsonTextProblem(doc []byte) (field, problem string) {
	// Inside a valid JSON string a NUL can only be the escape \u0000, so
	// most bodies need no walk.
	if utf8.Valid(doc) && !bytes.Contains(doc, []byte(`\u0000`)) {
		return "", ""
	}
	// Decoding turns invalid UTF-8 into U+FFFD, so each string is also
	// checked as it was sent: the bytes between the previous token's end
	// and this one's are separators and this token.
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var stack []jsonFrame
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return "", "" // io.EOF, or not JSON: the handler answers
		}
		var top *jsonFrame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		switch tok := tok.(type) {
		case json.Delim:
			switch tok {
			case '{', '[':
				stack = append(stack, jsonFrame{object: tok == '{', path: pathOf(stack), expectKey: tok == '{'})
				continue
			default:
				stack = stack[:len(stack)-1]
			}
		case string:
			raw := bytes.TrimLeft(doc[start:dec.InputOffset()], " \t\r\n,:")
			problem := textProblem(tok)
			if !utf8.Valid(raw) {
				problem = "is not valid UTF-8"
			}
			if top != nil && top.object && top.expectKey {
				top.key, top.expectKey = tok, false
				if problem != "" {
					return joinPath(top.path, printable(tok)), "has a key that " + problem
				}
				continue
			}
			if problem != "" {
				return pathOf(stack), problem
			}
		}
		// A value ended: the enclosing object wants a key next, the
		// enclosing array moves to its next element.
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
			if top.object {
				top.expectKey = true
			} else {
				top.index++
			}
		}
	}
}

type jsonFrame struct {
	object    bool
	path      string // of the object or array itself
	key       string // object: the current member's key
	index     int    // array: the current element's index
	expectKey bool
}

// pathOf is the path of the value the innermost frame is at.
func pathOf(stack []jsonFrame) string {
	if len(stack) == 0 {
		return ""
	}
	top := stack[len(stack)-1]
	if top.object {
		return joinPath(top.path, printable(top.key))
	}
	return top.path + "[" + strconv.Itoa(top.index) + "]"
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// textProblem says what makes s unstorable, or "" when nothing does.
func textProblem(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	case strings.IndexByte(s, 0) >= 0:
		return "contains a NUL byte"
	}
	return ""
}

// printable makes a bad name fit to echo back as a field name.
func printable(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", `\0`)
}

func badText(field, problem string) error {
	msg := field + " " + problem + ": remove it and try again"
	if field == "" {
		msg = "the body " + problem + ": remove it and try again"
	}
	return &handlers.Error{Status: http.StatusUnprocessableEntity, Field: field, Message: msg}
}
