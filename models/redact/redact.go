// Package redact removes secret values from text an endpoint sent back.
//
// Endpoints echo requests, and not always as they got them: a body may
// quote the request inside JSON, HTML, a URL or base64. A Redactor knows the
// secret values one request used and replaces each of them, in every such
// encoding, with Marker before anything is stored or shown (DESIGN.md §13).
//
// Encodings covered, for each value and for each JSON-escaped form of it
// (a request body carries secrets JSON-escaped, and echoes wrap the body):
//   - as written;
//   - JSON string escapes: with and without HTML-safe escapes (\u003c),
//     with and without \uXXXX for non-ASCII (lower and upper hex), with and
//     without "\/";
//   - HTML escapes: &amp; &lt; &gt; with &#34; / &quot; and &#39; / &#x27; / &apos;;
//   - URL escapes: query (space as +), path, and strict (only A-Z a-z 0-9 -._~
//     kept), upper and lower hex;
//   - base64, standard and URL alphabets, padded and not; and, inside the
//     base64 of a longer text, the characters that depend on the value alone
//     for each of the three alignments the value can have.
//
// Short values: a value under MinBase64Len bytes is redacted as written and
// in its text escapes only. Its base64 fragments would be one to three
// characters that occur by chance in any base64, and replacing them would
// wreck unrelated text while protecting little.
package redact

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"slices"
	"strings"
)

// Marker replaces every secret value found: the same mark request bodies
// and headers show in a secret's place (payload.Redacted), so a page shows
// one sign for "a secret was here".
const Marker = "••••"

// MinBase64Len is the shortest value (in bytes) whose base64 forms are
// redacted; shorter values are redacted in their text forms only.
const MinBase64Len = 4

// minFragment is the shortest base64 alignment fragment redacted.
const minFragment = 4

// Redactor replaces a fixed set of secret values. The zero value and nil
// redact nothing. It is safe for concurrent use.
type Redactor struct {
	replacer *strings.Replacer
	needles  []string // longest first
	empty    bool
	finder   finder
}

// New builds a Redactor for values; empty values are ignored.
func New(values ...string) *Redactor {
	set := map[string]bool{}
	for _, v := range values {
		if v == "" {
			continue
		}
		for _, f := range Forms(v) {
			set[f] = true
		}
	}
	if len(set) == 0 {
		return &Redactor{empty: true}
	}
	needles := make([]string, 0, len(set))
	for n := range set {
		needles = append(needles, n)
	}
	// Longest first: strings.Replacer tries its arguments in order at each
	// position, so a value that contains another is replaced whole.
	slices.SortFunc(needles, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	pairs := make([]string, 0, 2*len(needles))
	for _, n := range needles {
		pairs = append(pairs, n, Marker)
	}
	return &Redactor{replacer: strings.NewReplacer(pairs...), needles: needles, finder: newFinder(needles)}
}

// Truncated is String for text that was cut off at a size cap: the cut may
// have fallen inside a value, so a tail of MinBase64Len bytes or more that
// is the start of any form is replaced by Marker too.
func (r *Redactor) Truncated(s string) string {
	s = r.String(s)
	if r == nil || r.empty {
		return s
	}
	for _, n := range r.needles {
		for l := min(len(n)-1, len(s)); l >= MinBase64Len; l-- {
			if strings.HasSuffix(s, n[:l]) {
				return s[:len(s)-l] + Marker
			}
		}
	}
	return s
}

// String returns s with every form of every value replaced by Marker.
// Repeating it until nothing changes catches a form that only appears once
// a neighbouring one was replaced.
func (r *Redactor) String(s string) string {
	if r == nil || r.empty || s == "" {
		return s
	}
	// The cheap path of almost every attempt: no form occurs, and
	// strings.Replacer would copy s twice to say so.
	if !r.finder.any(s) {
		return s
	}
	for range 4 {
		out := r.replacer.Replace(s)
		if out == s {
			break
		}
		s = out
	}
	return s
}

// Forms lists every encoded form of v that String replaces.
func Forms(v string) []string {
	set := map[string]bool{}
	add := func(s string) {
		if s != "" {
			set[s] = true
		}
	}
	// A value reaches an echo as written or JSON-escaped (the body carries
	// it inside a JSON string); each of those may then be escaped again.
	base := append([]string{v}, jsonForms(v)...)
	for _, b := range uniq(base) {
		add(b)
		for _, f := range jsonForms(b) {
			add(f)
		}
		for _, f := range htmlForms(b) {
			add(f)
		}
		for _, f := range urlForms(b) {
			add(f)
		}
		if len(v) >= MinBase64Len {
			for _, f := range base64Forms(b) {
				add(f)
			}
		}
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func uniq(ss []string) []string {
	slices.Sort(ss)
	return slices.Compact(ss)
}

// jsonForms are the inside of a JSON string holding v, as the common
// encoders write it.
func jsonForms(v string) []string {
	var out []string
	for _, html := range []bool{true, false} {
		for _, ascii := range []bool{false, true} {
			for _, upper := range []bool{false, true} {
				for _, slash := range []bool{false, true} {
					out = append(out, jsonEscape(v, html, ascii, upper, slash))
				}
			}
		}
	}
	// encoding/json as is (it also escapes U+2028, U+2029 and invalid UTF-8).
	for _, escapeHTML := range []bool{true, false} {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(escapeHTML)
		if enc.Encode(v) == nil {
			s := strings.TrimSuffix(b.String(), "\n")
			out = append(out, s[1:len(s)-1])
		}
	}
	return uniq(out)
}

func jsonEscape(v string, escapeHTML, ascii, upper, slash bool) string {
	hex := "\\u%04x"
	if upper {
		hex = "\\u%04X"
	}
	var b strings.Builder
	for _, r := range v {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '/' && slash:
			b.WriteString(`\/`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20, escapeHTML && (r == '<' || r == '>' || r == '&'), escapeHTML && (r == 0x2028 || r == 0x2029):
			fmt.Fprintf(&b, hex, r)
		case ascii && r > 0x7e:
			if r > 0xffff {
				r -= 0x10000
				fmt.Fprintf(&b, hex+hex, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
			} else {
				fmt.Fprintf(&b, hex, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// htmlForms are v escaped for HTML text or attributes.
func htmlForms(v string) []string {
	out := []string{html.EscapeString(v)}
	amp := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	for _, dq := range []string{`"`, "&#34;", "&quot;", "&#x22;"} {
		for _, sq := range []string{"'", "&#39;", "&#x27;", "&apos;"} {
			out = append(out, strings.NewReplacer(`"`, dq, "'", sq).Replace(amp.Replace(v)))
		}
	}
	return uniq(out)
}

// urlForms are v percent-encoded as query values, path segments and by
// strict encoders, each with upper- and lower-case hex.
func urlForms(v string) []string {
	forms := []string{url.QueryEscape(v), url.PathEscape(v), strictEscape(v)}
	out := slices.Clone(forms)
	for _, f := range forms {
		out = append(out, lowerHex(f))
	}
	return uniq(out)
}

func strictEscape(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// lowerHex lower-cases the two hex digits after each %.
func lowerHex(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1], b[i+2] = lower(b[i+1]), lower(b[i+2])
			i += 2
		}
	}
	return string(b)
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'F' {
		return c + 'a' - 'A'
	}
	return c
}

// base64Forms are v in base64 on its own (padded and not) and the stable
// middle of its base64 inside a longer text, for the three alignments.
func base64Forms(v string) []string {
	var out []string
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		out = append(out, enc.EncodeToString([]byte(v)))
		raw := enc.WithPadding(base64.NoPadding)
		for pad := 0; pad < 3; pad++ {
			blob := append(make([]byte, pad), v...)
			s := raw.EncodeToString(blob)
			// Characters before start also encode pad bytes; from end on
			// they also encode whatever follows the value.
			start, end := (8*pad+5)/6, 8*len(blob)/6
			if end-start >= minFragment {
				out = append(out, s[start:end])
			}
		}
	}
	return uniq(out)
}
