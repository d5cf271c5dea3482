package payload

import (
	"encoding/json"
	"strings"
	"testing"
)

// hostileValues are values an event author controls (names, aliases,
// metadata) that try to break out of their string.
var hostileValues = []struct {
	name  string
	value string
}{
	{"quote", `he said "hi"`},
	{"backslash", `C:\path\to\"file\`},
	{"newline and tab", "line1\nline2\r\n\tend"},
	{"NUL and other controls", "a\x00b\x01c\x1f\x7f"},
	{"U+2028 and U+2029", "a\u2028b\u2029c"},
	{"invalid UTF-8", "ok\xff\xfe\xe2\x80 end\xc3"},
	{"breaks out and adds a key", `"}, "admin": true, "x": "`},
	{"closes the document", `"}]}{"`},
	{"placeholder text", "${ACCESS_TOKEN} $ACCESS_TOKEN ${event_type} $GITHUB_TOKEN $$"},
	{"unicode", "日本語 🚀 é"},
	{"5 MB", strings.Repeat(`a"\`+"\n\u2028é${x}", 5<<20/12)},
}

// intended is what a value should decode to: invalid UTF-8 bytes become
// U+FFFD one by one.
func intended(v string) string { return string([]rune(v)) }

func TestRenderIsInjectionProof(t *testing.T) {
	const template = `{"whole":"${event_author}","inside":"<${event_author}>","meta":"${artifact_metadata.note}","metaInside":"<${artifact_metadata.note}>","${event_author}":"key"}`
	const token = "TOKEN-MUST-NOT-APPEAR"
	for _, tt := range hostileValues {
		t.Run(tt.name, func(t *testing.T) {
			note, err := json.Marshal(tt.value)
			if err != nil {
				t.Fatal(err)
			}
			v := Vars{EventAuthor: tt.value, ArtifactMetadata: map[string]json.RawMessage{"note": note}}
			for _, render := range []struct {
				name string
				fn   func() ([]byte, error)
			}{
				{"Render", func() ([]byte, error) { return Render(template, v, map[string]string{"GITHUB_TOKEN": "gh"}, token) }},
				{"RenderRedacted", func() ([]byte, error) { return RenderRedacted(template, v, []string{"GITHUB_TOKEN"}) }},
			} {
				out, err := render.fn()
				if err != nil {
					t.Fatalf("%s: %v", render.name, err)
				}
				if !json.Valid(out) {
					t.Fatalf("%s: output is not valid JSON", render.name)
				}
				var got map[string]string
				if err := json.Unmarshal(out, &got); err != nil {
					t.Fatalf("%s: %v", render.name, err)
				}
				want := intended(tt.value)
				wantDoc := map[string]string{"whole": want, "inside": "<" + want + ">", "meta": want, "metaInside": "<" + want + ">", want: "key"}
				if len(got) != len(wantDoc) {
					t.Errorf("%s: %d keys, want %d", render.name, len(got), len(wantDoc))
				}
				for k, w := range wantDoc {
					if got[k] != w {
						t.Errorf("%s: %q = %.80q, want %.80q", render.name, k, got[k], w)
					}
				}
				if _, ok := got["admin"]; ok {
					t.Errorf("%s: a value added the key admin", render.name)
				}
				if strings.Contains(string(out), token) || strings.Contains(string(out), `"gh"`) {
					t.Errorf("%s: placeholder text in a value was expanded", render.name)
				}
			}
		})
	}
}

func TestRenderHugeTemplateString(t *testing.T) {
	big := strings.Repeat("x", 5<<20)
	out, err := Render(`{"a":"`+big+`${event_author}`+big+`"}`, Vars{EventAuthor: "!"}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if got["a"] != big+"!"+big {
		t.Errorf("a 10 MB string did not survive rendering (len %d)", len(got["a"]))
	}
}
