package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"html"
	"html/template"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
)

// secrets the table runs over: plain, every character JSON, HTML and URLs
// escape, non-ASCII, control characters, a slash, and a 4-byte rune.
var secrets = []string{
	"s3cr3t-token-value",
	`pässwörd"<&>\`,
	"quote'and\"back\\slash/and space+plus",
	"line\nbreak\ttab\x01ctl",
	"emoji😀and\u2028sep",
}

func jsonInner(v string, escapeHTML bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	_ = enc.Encode(v)
	s := strings.TrimSuffix(b.String(), "\n")
	return s[1 : len(s)-1]
}

// encodings are what receivers do to text before echoing it.
var encodings = []struct {
	name string
	enc  func(string) string
}{
	{"raw", func(s string) string { return s }},
	{"json", func(s string) string { return jsonInner(s, true) }},
	{"json without HTML escapes", func(s string) string { return jsonInner(s, false) }},
	{"json ASCII-only, lower hex", func(s string) string { return jsonEscape(s, false, true, false, false) }},
	{"json ASCII-only, upper hex, \\/", func(s string) string { return jsonEscape(s, true, true, true, true) }},
	{"json escaped twice", func(s string) string { return jsonInner(jsonInner(s, true), true) }},
	{"html.EscapeString", html.EscapeString},
	{"template.HTMLEscapeString", template.HTMLEscapeString},
	{"html &quot; &#x27;", func(s string) string {
		return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#x27;").Replace(s)
	}},
	{"html of json", func(s string) string { return html.EscapeString(jsonInner(s, false)) }},
	{"url.QueryEscape", url.QueryEscape},
	{"url.PathEscape", url.PathEscape},
	{"QueryEscape lower hex", func(s string) string { return lowerHex(url.QueryEscape(s)) }},
	{"QueryEscape of json", func(s string) string { return url.QueryEscape(jsonInner(s, true)) }},
	{"base64 std", func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }},
	{"base64 url", func(s string) string { return base64.URLEncoding.EncodeToString([]byte(s)) }},
	{"base64 raw std", func(s string) string { return base64.RawStdEncoding.EncodeToString([]byte(s)) }},
	{"base64 raw url", func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }},
	{"base64 of json", func(s string) string { return base64.StdEncoding.EncodeToString([]byte(jsonInner(s, true))) }},
	{"Bearer header", func(s string) string { return "Authorization: Bearer " + s }},
}

func TestRedactorRemovesEveryEncoding(t *testing.T) {
	for _, secret := range secrets {
		r := New(secret)
		for _, e := range encodings {
			t.Run(e.name+"/"+secret, func(t *testing.T) {
				in := "before " + e.enc(secret) + " after"
				out := r.String(in)
				if strings.Contains(out, e.enc(secret)) || strings.Contains(out, secret) {
					t.Fatalf("%q still holds the secret", out)
				}
				if !strings.Contains(out, Marker) || !strings.HasPrefix(out, "before ") || !strings.HasSuffix(out, " after") {
					t.Fatalf("got %q, want the secret replaced by %s and the rest kept", out, Marker)
				}
			})
		}
	}
}

// An echo that base64-encodes the whole request holds the secret at any
// of three alignments; the bytes of it must not survive any of them.
func TestRedactorRemovesSecretInsideLongerBase64(t *testing.T) {
	for _, secret := range secrets {
		r := New(secret)
		for pad := 0; pad < 6; pad++ {
			for _, wrap := range []func(string) string{func(s string) string { return s }, func(s string) string { return jsonInner(s, true) }} {
				blob := strings.Repeat("x", pad) + `{"token":"` + wrap(secret) + `","n":1}`
				for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding} {
					out := r.String(enc.EncodeToString([]byte(blob)))
					if !strings.Contains(out, Marker) {
						t.Fatalf("pad %d: nothing redacted in %q", pad, out)
					}
					if decodesTo(out, secret) {
						t.Fatalf("pad %d: %q still decodes to the secret", pad, out)
					}
				}
			}
		}
	}
}

// decodesTo reports whether any run of base64 characters left in s, decoded
// at any alignment, contains secret.
func decodesTo(s, secret string) bool {
	for _, part := range strings.Split(s, Marker) {
		part = strings.TrimRight(part, "=")
		for off := 0; off < 4 && off < len(part); off++ {
			p := part[off:]
			p = p[:len(p)/4*4]
			for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
				if b, err := enc.DecodeString(p); err == nil && bytes.Contains(b, []byte(secret)) {
					return true
				}
			}
		}
	}
	return false
}

func TestShortValuesAreRedactedAsTextOnly(t *testing.T) {
	r := New("a&", "xyz")
	cases := []struct{ in, want string }{
		{"a&b", Marker + "b"},
		{"a&amp;b", Marker + "b"},
		{`a\u0026b`, Marker + "b"},
		{"a%26b", Marker + "b"},
		{"<xyz>", "<" + Marker + ">"},
		// base64 of a 1-3 byte value is kept: its fragments are too short
		// to tell from chance (see MinBase64Len).
		{"eHl6", "eHl6"},
	}
	for _, c := range cases {
		if got := r.String(c.in); got != c.want {
			t.Errorf("String(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestLongerValueContainingAnotherIsReplacedWhole(t *testing.T) {
	r := New("token", "token-and-more")
	if got := r.String("x token-and-more y token z"); got != "x "+Marker+" y "+Marker+" z" {
		t.Fatalf("got %q", got)
	}
}

func TestNilAndEmptyRedactorsChangeNothing(t *testing.T) {
	var nilR *Redactor
	for _, r := range []*Redactor{nilR, New(), New("")} {
		if got := r.String("keep me"); got != "keep me" {
			t.Fatalf("got %q", got)
		}
	}
}

// A response cut off at the cap inside a value keeps none of its start.
func TestTruncatedTextLosesAValueCutInHalf(t *testing.T) {
	const secret = "s3cr3t-token-value"
	r := New(secret)
	for cut := MinBase64Len; cut < len(secret); cut++ {
		in := "echo: " + secret[:cut]
		if got := r.Truncated(in); got != "echo: "+Marker {
			t.Errorf("cut at %d: %q", cut, got)
		}
	}
	if got := r.Truncated("echo: s3c"); got != "echo: s3c" {
		t.Errorf("a 3-byte tail is kept (too short to tell from chance): %q", got)
	}
	if got := r.Truncated("echo: " + secret + " and more"); got != "echo: "+Marker+" and more" {
		t.Errorf("got %q", got)
	}
}

// BenchmarkStringWithoutSecrets is the redaction of an attempt's request
// body (1.1 kB of JSON) that holds no secret: what every delivery pays.
func BenchmarkStringWithoutSecrets(b *testing.B) {
	body := `{"seq":7,"version":"ml/p/m:v0","pad":"` + strings.Repeat("x", 1024) + `"}`
	for _, c := range []struct {
		name   string
		values []string
	}{
		{"one secret", []string{"bench-signing-secret"}},
		{"five secrets", secrets},
	} {
		r := New(c.values...)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if r.String(body) != body {
					b.Fatal("changed")
				}
			}
		})
	}
}

// The finder that lets String skip the Replacer says a form occurs exactly
// when one does: on texts cut from the forms themselves and from noise, at
// every alignment, for a redactor small enough to search form by form and
// for one that probes its filter.
func TestFinderAgreesWithASearchForEachForm(t *testing.T) {
	for _, values := range [][]string{{"bench-signing-secret"}, {"ab"}, secrets, append([]string{"ab", "xyz"}, secrets...)} {
		r := New(values...)
		if len(values) > 2 && r.finder.bits == nil {
			t.Fatalf("%d forms: want the filter, not the direct search", len(r.needles))
		}
		rnd := rand.New(rand.NewPCG(1, uint64(len(values))))
		noise := "xxxx{\"seq\":7,\"pad\":\"abc\\u003c&amp;%2F+/=YWJj" + strings.Repeat("x", 64)
		for i := 0; i < 20000; i++ {
			var b strings.Builder
			for range 1 + rnd.IntN(4) {
				if rnd.IntN(2) == 0 {
					n := r.needles[rnd.IntN(len(r.needles))]
					// A whole form, or a form with its first or last byte cut.
					switch rnd.IntN(3) {
					case 1:
						n = n[1:]
					case 2:
						n = n[:len(n)-1]
					}
					b.WriteString(n)
				} else {
					from := rnd.IntN(len(noise))
					b.WriteString(noise[from : from+rnd.IntN(len(noise)-from+1)])
				}
			}
			s := b.String()
			want := false
			for _, n := range r.needles {
				want = want || strings.Contains(s, n)
			}
			if got := r.finder.any(s); got != want {
				t.Fatalf("values %q: finder says %v for %q, a search for each form %v", values, got, s, want)
			}
		}
	}
}

// Text without a secret comes back as it was, without a copy.
func TestStringOfCleanTextAllocatesNothing(t *testing.T) {
	body := `{"seq":7,"pad":"` + strings.Repeat("x", 1024) + `"}`
	for _, values := range [][]string{{"bench-signing-secret"}, secrets} {
		r := New(values...)
		if n := testing.AllocsPerRun(100, func() { _ = r.String(body) }); n != 0 {
			t.Errorf("%d values: %v allocations per String of clean text, want 0", len(values), n)
		}
		if got := r.String(body + values[0]); got != body+Marker {
			t.Errorf("%d values: a value after clean text: got %q", len(values), got[len(body):])
		}
	}
}
