package payload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Redacted stands in for every secret and the access token in
// [RenderRedacted]'s output.
const Redacted = "••••"

// Validate checks a template before it is saved: it must be one JSON value
// and every placeholder must be known and apply to c (see the package
// documentation). The error is a [*ValidationError].
func Validate(template string, c Context) error {
	if c.EventType != "" && !c.EventType.Valid() {
		return &ValidationError{Kind: UnknownEventType, Message: fmt.Sprintf("unknown event type %q", shown(string(c.EventType)))}
	}
	chk := &checker{event: c.EventType, hasToken: c.HasAccessToken, granted: c.GrantedSecrets}
	check := func(dst []byte, s string, _ bool) ([]byte, error) {
		return dst, scan(s, func(string) error { return nil }, func(name string, braced bool, _ string) error {
			_, err := chk.bind(name, braced)
			return err
		})
	}
	template = orEmptyObject(template)
	if err := checkJSON(template); err != nil {
		return err
	}
	_, err := walk(nil, template, check)
	return err
}

// Render produces the body to send for the event v. secrets holds the values
// of the secrets granted to the webhook, by name; accessToken is the
// webhook's access token, "" when it has none. The output is always valid
// JSON. A placeholder that does not resolve (the template was saved before a
// secret's grant was removed, say) is a [*ValidationError]; event-specific
// checks are left to [Validate].
func Render(template string, v Vars, secrets map[string]string, accessToken string) ([]byte, error) {
	c, err := Compile(template)
	if err != nil {
		return nil, err
	}
	return c.Render(v, secrets, accessToken)
}

// RenderRedacted renders the same body as [Render] but with every secret
// named in secretNames, and the access token, shown as [Redacted]. It is what
// delivery history stores and the test panel shows.
func RenderRedacted(template string, v Vars, secretNames []string) ([]byte, error) {
	c, err := Compile(template)
	if err != nil {
		return nil, err
	}
	return c.RenderRedacted(v, secretNames)
}

type renderer struct {
	chk     checker
	vars    *Vars
	secrets map[string]string // nil when redacting
	token   string
	redact  bool
}

// appendValue appends the escaped text of one placeholder inside a string.
func (r *renderer) appendValue(dst []byte, b binding, raw string) ([]byte, error) {
	switch b.kind {
	case bindVar:
		if b.name == varArtifactVersionIndex {
			return strconv.AppendInt(dst, int64(r.vars.ArtifactVersionIndex), 10), nil
		}
		return appendEscaped(dst, r.vars.text(b.name)), nil
	case bindMeta, bindRunConfig:
		text, err := r.metadataText(b)
		return appendEscaped(dst, text), err
	case bindSecret:
		if r.redact {
			return appendEscaped(dst, Redacted), nil
		}
		return appendEscaped(dst, r.secrets[b.name]), nil
	case bindToken:
		if r.redact {
			return appendEscaped(dst, Redacted), nil
		}
		return appendEscaped(dst, r.token), nil
	}
	return appendEscaped(dst, raw), nil // unreachable: every kind is handled above
}

// metadataRaw returns the JSON of a metadata key, nil if this version's
// metadata lacks it.
func (r *renderer) metadataRaw(b binding) []byte {
	raw := r.vars.ArtifactMetadata[b.name]
	if b.kind == bindRunConfig {
		raw = r.vars.RunConfig[b.name]
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	return raw
}

// jsonScalar returns raw, valid JSON, without surrounding whitespace if it
// is a number, true, false or null: its compact form as written, which is
// what walk would produce, without a decoder per value.
func jsonScalar(raw []byte) ([]byte, bool) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || t[0] == '"' || t[0] == '{' || t[0] == '[' {
		return nil, false
	}
	return t, true
}

// appendTypedMetadata appends a metadata value keeping its JSON type.
func (r *renderer) appendTypedMetadata(dst []byte, b binding) ([]byte, error) {
	raw := r.metadataRaw(b)
	if raw == nil {
		return append(dst, "null"...), nil
	}
	if !json.Valid(raw) {
		return dst, fmt.Errorf("payload: %s%s is not valid JSON", prefixOf(b), shown(b.name))
	}
	if t, ok := jsonScalar(raw); ok {
		return append(dst, t...), nil
	}
	if s, ok := jsonString(raw); ok {
		return appendPlainString(dst, s, false) // the common case, without the token stream
	}
	return walk(dst, string(raw), appendPlainString)
}

// metadataText returns a metadata value as text: a string as itself, other
// values as compact JSON, a missing key as "".
func (r *renderer) metadataText(b binding) (string, error) {
	raw := r.metadataRaw(b)
	if raw == nil {
		return "", nil
	}
	if !json.Valid(raw) {
		return "", fmt.Errorf("payload: %s%s is not valid JSON", prefixOf(b), shown(b.name))
	}
	if t, ok := jsonScalar(raw); ok {
		return string(t), nil
	}
	if s, ok := jsonString(raw); ok {
		return s, nil
	}
	out, err := walk(nil, string(raw), appendPlainString)
	return string(out), err
}

func prefixOf(b binding) string {
	if b.kind == bindRunConfig {
		return runConfigPrefix
	}
	return metadataPrefix
}

// jsonString decodes raw, valid JSON, if it is a string. (Unmarshal alone
// would also accept null.)
func jsonString(raw []byte) (string, bool) {
	var s string
	trimmed := bytes.TrimLeft(raw, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '"' || json.Unmarshal(trimmed, &s) != nil {
		return "", false
	}
	return s, true
}

// appendPlainString appends s as a JSON string, without substitution.
func appendPlainString(dst []byte, s string, _ bool) ([]byte, error) {
	dst = append(dst, '"')
	dst = appendEscaped(dst, s)
	return append(dst, '"'), nil
}

// checkJSON reports whether s is exactly one JSON value, with the position of
// the first error.
// orEmptyObject reads an empty (or all-whitespace) template as {}: a webhook
// that needs no payload sends an empty JSON object (DESIGN.md §6).
func orEmptyObject(template string) string {
	if strings.TrimSpace(template) == "" {
		return "{}"
	}
	return template
}

func checkJSON(s string) error {
	if json.Valid([]byte(s)) {
		return nil
	}
	if strings.TrimSpace(s) == "" {
		return &ValidationError{Kind: InvalidJSON, Message: "payload is empty: write a JSON value, e.g. {}", Line: 1, Column: 1}
	}
	var raw json.RawMessage
	var syn *json.SyntaxError
	if !errors.As(json.Unmarshal([]byte(s), &raw), &syn) {
		return &ValidationError{Kind: InvalidJSON, Message: "payload is not valid JSON", Line: 1, Column: 1}
	}
	reason := syn.Error()
	// Appending a byte that is invalid anywhere in JSON turns "unexpected end"
	// into an error at len(s), so the offending byte is always Offset-1.
	if errors.As(json.Unmarshal([]byte(s+"\x01"), &raw), &syn) && syn.Offset-1 >= int64(len(s)) {
		reason = "unexpected end of input"
	}
	line, col := position(s, int(syn.Offset-1))
	return &ValidationError{
		Kind:    InvalidJSON,
		Message: fmt.Sprintf("payload is not valid JSON: %s at line %d, column %d", reason, line, col),
		Line:    line,
		Column:  col,
	}
}

// walk re-emits the single JSON value in data, already checked valid, token
// by token onto dst: structure, key order and number text as written,
// whitespace dropped. Strings go through str, which appends a complete JSON
// value (normally a string; a typed substitution for a string value).
func walk(dst []byte, data string, str func(dst []byte, s string, key bool) ([]byte, error)) ([]byte, error) {
	dec := json.NewDecoder(strings.NewReader(data))
	dec.UseNumber()
	type frame struct {
		object bool
		n      int // tokens written inside: keys and values alike
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, fmt.Errorf("payload: re-reading checked JSON: %w", err)
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			dst = append(dst, byte(d))
			if len(stack) == 0 {
				return dst, nil
			}
			continue
		}
		key := false
		if n := len(stack); n > 0 {
			f := &stack[n-1]
			switch {
			case f.object && f.n%2 == 1:
				dst = append(dst, ':')
			case f.n > 0:
				dst = append(dst, ',')
			}
			key = f.object && f.n%2 == 0
			f.n++
		}
		switch t := tok.(type) {
		case json.Delim:
			stack = append(stack, frame{object: t == '{'})
			dst = append(dst, byte(t))
			continue
		case string:
			if dst, err = str(dst, t, key); err != nil {
				return dst, err
			}
		case json.Number:
			dst = append(dst, t...)
		case bool:
			dst = strconv.AppendBool(dst, t)
		case nil:
			dst = append(dst, "null"...)
		default:
			return dst, fmt.Errorf("payload: unexpected JSON token %T", tok)
		}
		if len(stack) == 0 {
			return dst, nil // a top-level scalar
		}
	}
}

const hexDigits = "0123456789abcdef"

// appendEscaped appends s escaped for the inside of a JSON string: quotes,
// backslashes, control characters and U+2028/U+2029 are escaped and invalid
// UTF-8 bytes become U+FFFD.
func appendEscaped(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(dst, s[start:]...)
}
