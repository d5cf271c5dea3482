package payload

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// fuzzContext is what the fuzzed templates are validated against: the
// widest context, so that as many templates as possible reach Render.
var fuzzContext = Context{
	EventType:      AddArtifactAlias,
	HasAccessToken: true,
	GrantedSecrets: []string{"GITHUB_TOKEN", "my_secret"},
}

// FuzzRender checks that any template Validate accepts renders, with any
// values, to valid UTF-8 JSON, redacted or not, without panicking.
func FuzzRender(f *testing.F) {
	f.Add(githubTemplate, `{"acc":0.9,"cfg":{"lr":1e-3}}`, "ada")
	f.Add(`{"${event_author}":"${artifact_metadata.x}"}`, `{"x":[1,{"a":null}]}`, `"}, "admin": true, "x": "`)
	f.Add(`["${artifact_version_index}","$$${alias}","$GITHUB_TOKEN$ACCESS_TOKEN"]`, `{}`, "\x00\u2028\xff")
	f.Add(`"${artifact_metadata.missing}"`, `not json`, "${ACCESS_TOKEN}")
	f.Add(`{"a":"costs $5 $foo $my_secret ${my_secret}"}`, `{"a":"\ud800"}`, `\`)
	for _, tmpl := range Templates() {
		f.Add(tmpl.Body, `{"k":"v"}`, "value")
	}
	f.Fuzz(func(t *testing.T, template, metadata, value string) {
		if Validate(template, fuzzContext) != nil {
			return
		}
		var meta map[string]json.RawMessage
		if json.Unmarshal([]byte(metadata), &meta) != nil {
			meta = nil
		}
		v := Vars{
			EntityName: value, ProjectName: value, EventType: value, EventAuthor: value,
			ArtifactCollectionName: value, ArtifactVersion: value, ArtifactVersionString: value,
			ArtifactVersionIndex: len(value) - 3, AutomationName: value, Alias: value,
			ArtifactMetadata: meta,
		}
		secrets := map[string]string{"GITHUB_TOKEN": value, "my_secret": value}
		out, err := Render(template, v, secrets, "t"+value)
		if err != nil {
			t.Fatalf("Render failed on a validated template: %v", err)
		}
		if !json.Valid(out) || !utf8.Valid(out) {
			t.Fatalf("Render produced invalid JSON: %q", out)
		}
		red, err := RenderRedacted(template, v, fuzzContext.GrantedSecrets)
		if err != nil {
			t.Fatalf("RenderRedacted failed on a validated template: %v", err)
		}
		if !json.Valid(red) || !utf8.Valid(red) {
			t.Fatalf("RenderRedacted produced invalid JSON: %q", red)
		}
	})
}
