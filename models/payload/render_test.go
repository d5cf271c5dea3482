package payload

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// sampleVars is an ADD_ARTIFACT_ALIAS event on a registry collection.
func sampleVars() Vars {
	return Vars{
		EntityName:             "org",
		ProjectName:            "wandb-registry-model",
		EventType:              string(AddArtifactAlias),
		EventAuthor:            "ada",
		ArtifactCollectionName: "resnet",
		ArtifactVersion:        "wandb-artifact://_id/QXJ0aWZhY3Q6NTE3ODg5ODg3",
		ArtifactVersionString:  "org/wandb-registry-model/resnet:production",
		ArtifactVersionIndex:   7,
		AutomationName:         "deploy on production",
		Alias:                  "production",
		ArtifactMetadata: map[string]json.RawMessage{
			"acc":    json.RawMessage(`0.9150`),
			"big":    json.RawMessage(`12345678901234567890`),
			"ok":     json.RawMessage(`true`),
			"none":   json.RawMessage(`null`),
			"cfg":    json.RawMessage("{ \"lr\": 1e-3,\n \"layers\": [64, 32], \"a\": \"x\" }"),
			"tags":   json.RawMessage(`["a", "b"]`),
			"name":   json.RawMessage(`"resnet \"50\""`),
			"empty":  json.RawMessage(``),
			"nested": json.RawMessage(`{"z":1,"a":{"b":"\u00e9"}}`),
		},
	}
}

func TestRender(t *testing.T) {
	secrets := map[string]string{"GITHUB_TOKEN": "ghp_s3cr3t", "lower_key": "k3y"}
	tests := []struct {
		name     string
		template string
		want     string
	}{
		{"every plain variable",
			`{"p":"${project_name}","e":"${entity_name}","t":"${event_type}","a":"${event_author}","c":"${artifact_collection_name}","v":"${artifact_version}","s":"${artifact_version_string}","i":"v${artifact_version_index}","n":"${automation_name}","al":"${alias}"}`,
			`{"p":"wandb-registry-model","e":"org","t":"ADD_ARTIFACT_ALIAS","a":"ada","c":"resnet","v":"wandb-artifact://_id/QXJ0aWZhY3Q6NTE3ODg5ODg3","s":"org/wandb-registry-model/resnet:production","i":"v7","n":"deploy on production","al":"production"}`},
		{"several placeholders in one string",
			`{"msg":"${event_author} set ${alias} on ${artifact_collection_name}:v${artifact_version_index}"}`,
			`{"msg":"ada set production on resnet:v7"}`},
		{"keys are substituted and stay strings",
			`{"${artifact_collection_name}":{"${artifact_version_index}":"${alias}","${artifact_metadata.acc}":1}}`,
			`{"resnet":{"7":"production","0.9150":1}}`},
		{"version index alone is a number", `{"i":"${artifact_version_index}"}`, `{"i":7}`},
		{"metadata number keeps its text", `{"m":"${artifact_metadata.acc}","b":"${artifact_metadata.big}"}`, `{"m":0.9150,"b":12345678901234567890}`},
		{"metadata bool and null", `{"ok":"${artifact_metadata.ok}","none":"${artifact_metadata.none}"}`, `{"ok":true,"none":null}`},
		{"metadata object compacted in key order", `{"cfg":"${artifact_metadata.cfg}"}`, `{"cfg":{"lr":1e-3,"layers":[64,32],"a":"x"}}`},
		{"metadata array", `["${artifact_metadata.tags}"]`, `[["a","b"]]`},
		{"metadata string stays a string", `{"n":"${artifact_metadata.name}"}`, `{"n":"resnet \"50\""}`},
		{"missing metadata alone is null", `{"x":"${artifact_metadata.absent}","e":"${artifact_metadata.empty}"}`, `{"x":null,"e":null}`},
		{"metadata inside text", `{"m":"acc=${artifact_metadata.acc} ok=${artifact_metadata.ok} null=${artifact_metadata.none} n=${artifact_metadata.name} missing=[${artifact_metadata.absent}]"}`,
			`{"m":"acc=0.9150 ok=true null=null n=resnet \"50\" missing=[]"}`},
		{"metadata object inside text is compact JSON", `{"m":"cfg: ${artifact_metadata.nested}"}`, `{"m":"cfg: {\"z\":1,\"a\":{\"b\":\"é\"}}"}`},
		{"typed rule needs the whole value", `{"m":" ${artifact_metadata.acc}","i":"${artifact_version_index} "}`, `{"m":" 0.9150","i":"7 "}`},
		{"typed metadata as the whole document", `"${artifact_metadata.cfg}"`, `{"lr":1e-3,"layers":[64,32],"a":"x"}`},
		{"secrets braced and bare", `{"a":"${GITHUB_TOKEN}","b":"token $GITHUB_TOKEN.","c":"$lower_key"}`, `{"a":"ghp_s3cr3t","b":"token ghp_s3cr3t.","c":"k3y"}`},
		{"access token braced and bare", `{"a":"${ACCESS_TOKEN}","b":"Bearer $ACCESS_TOKEN"}`, `{"a":"tok3n","b":"Bearer tok3n"}`},
		{"bare name ends at a character that cannot be in a name", `{"a":"$GITHUB_TOKEN-s $GITHUB_TOKEN."}`, `{"a":"ghp_s3cr3t-s ghp_s3cr3t."}`},
		{"dollar escapes", `{"a":"$$GITHUB_TOKEN $${project_name} $$$$ $$$ACCESS_TOKEN"}`, `{"a":"$GITHUB_TOKEN ${project_name} $$ $tok3n"}`},
		{"text that is not a placeholder", `{"a":"costs $5, $$foo, $ and $","b":"$"}`, `{"a":"costs $5, $foo, $ and $","b":"$"}`},
		{"empty template is an empty object", " \n ", `{}`},
		{"numbers, literals and key order kept", "{\n \"z\": -0.0, \"a\": 1E+2, \"m\": [true, false, null], \"z\": 1.50\n}", `{"z":-0.0,"a":1E+2,"m":[true,false,null],"z":1.50}`},
		{"template escapes are normalised", `{"a":"\u00e9\/\t\"\u2028"}`, `{"a":"é/\t\"\u2028"}`},
		{"empty containers", `{"a":{},"b":[],"c":[{}, []]}`, `{"a":{},"b":[],"c":[{},[]]}`},
		{"top-level string", `"${event_author}"`, `"ada"`},
		{"top-level number", ` 42 `, `42`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render(tt.template, sampleVars(), secrets, "tok3n")
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("Render =\n  %s\nwant\n  %s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Errorf("output is not valid JSON: %s", got)
			}
		})
	}
}

func TestRenderRedactedHidesSecretsAndToken(t *testing.T) {
	const template = `{"a":"${GITHUB_TOKEN}","b":"Bearer $ACCESS_TOKEN","c":"$GITHUB_TOKEN/${ACCESS_TOKEN}","${GITHUB_TOKEN}":"${event_author}"}`
	secrets := map[string]string{"GITHUB_TOKEN": "ghp_s3cr3t-value"}
	const token = "tok3n-value"

	sent, err := Render(template, sampleVars(), secrets, token)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if want := `{"a":"ghp_s3cr3t-value","b":"Bearer tok3n-value","c":"ghp_s3cr3t-value/tok3n-value","ghp_s3cr3t-value":"ada"}`; string(sent) != want {
		t.Errorf("Render = %s, want %s", sent, want)
	}

	shown, err := RenderRedacted(template, sampleVars(), []string{"GITHUB_TOKEN"})
	if err != nil {
		t.Fatalf("RenderRedacted: %v", err)
	}
	if want := `{"a":"••••","b":"Bearer ••••","c":"••••/••••","••••":"ada"}`; string(shown) != want {
		t.Errorf("RenderRedacted = %s, want %s", shown, want)
	}
	for _, secret := range []string{secrets["GITHUB_TOKEN"], token} {
		if bytes.Contains(shown, []byte(secret)) {
			t.Errorf("redacted output %s contains a secret value", shown)
		}
	}
}

func TestRenderRedactedMatchesRenderWithoutSecrets(t *testing.T) {
	for _, tt := range Templates() {
		sent, err := Render(tt.Body, sampleVars(), nil, "")
		if err != nil {
			t.Fatalf("%s: Render: %v", tt.ID, err)
		}
		shown, err := RenderRedacted(tt.Body, sampleVars(), nil)
		if err != nil {
			t.Fatalf("%s: RenderRedacted: %v", tt.ID, err)
		}
		if !bytes.Equal(sent, shown) {
			t.Errorf("%s: redacted body differs from the sent body without secrets:\n%s\n%s", tt.ID, sent, shown)
		}
	}
}

func TestRenderRefusesWhatDoesNotResolve(t *testing.T) {
	tests := []struct {
		name     string
		template string
		secrets  map[string]string
		token    string
		wantKind ErrorKind
	}{
		{"secret no longer granted", `{"a":"$GITHUB_TOKEN"}`, nil, "t", SecretNotGranted},
		{"braced secret no longer granted", `{"a":"x${GITHUB_TOKEN}"}`, map[string]string{"OTHER": "o"}, "t", SecretNotGranted},
		{"access token but none set", `{"a":"${ACCESS_TOKEN}"}`, nil, "", NotApplicable},
		{"unknown variable", `{"a":"${nope}"}`, nil, "", UnknownVariable},
		{"unknown variable as a whole value", `{"a":"${nope}"}`, nil, "", UnknownVariable},
		{"unterminated", `{"a":"${project_name"}`, nil, "", MalformedPlaceholder},
		{"not JSON", `{"a":}`, nil, "", InvalidJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Render(tt.template, sampleVars(), tt.secrets, tt.token)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Render error = %v, want a *ValidationError", err)
			}
			if ve.Kind != tt.wantKind {
				t.Errorf("Kind = %d, want %d (%s)", ve.Kind, tt.wantKind, ve.Message)
			}
		})
	}
}

func TestRenderRejectsInvalidMetadataJSON(t *testing.T) {
	v := sampleVars()
	v.ArtifactMetadata = map[string]json.RawMessage{"bad": json.RawMessage(`{"a":`), "two": json.RawMessage(`1 2`)}
	for _, template := range []string{`{"a":"${artifact_metadata.bad}"}`, `{"a":"x ${artifact_metadata.bad}"}`, `{"a":"${artifact_metadata.two}"}`} {
		if out, err := Render(template, v, nil, ""); err == nil {
			t.Errorf("Render(%s) = %s, want an error for invalid metadata", template, out)
		}
	}
}

func TestVariablesDocumentsEveryVariable(t *testing.T) {
	docs := map[string]VariableDoc{}
	for _, d := range Variables() {
		if d.Description == "" {
			t.Errorf("%s has no description", d.Placeholder)
		}
		docs[d.Placeholder] = d
	}
	for _, name := range variableNames {
		if _, ok := docs["${"+name+"}"]; !ok {
			t.Errorf("${%s} is not documented", name)
		}
	}
	for _, p := range []string{"${artifact_metadata.<KEY>}", "${ACCESS_TOKEN}", "${<SECRET>}"} {
		if _, ok := docs[p]; !ok {
			t.Errorf("%s is not documented", p)
		}
	}
	if ev := docs["${alias}"].Events; len(ev) != 1 || ev[0] != AddArtifactAlias {
		t.Errorf("${alias} applies to %v, want only ADD_ARTIFACT_ALIAS", ev)
	}
}

// githubTemplate is a GitHub repository_dispatch payload of the usual size.
const githubTemplate = `{
  "event_type": "BUILD_AND_DEPLOY",
  "client_payload": {
    "event_type": "${event_type}",
    "event_author": "${event_author}",
    "artifact_version": "${artifact_version}",
    "artifact_version_string": "${artifact_version_string}",
    "artifact_collection_name": "${artifact_collection_name}",
    "project_name": "${project_name}",
    "entity_name": "${entity_name}",
    "alias": "${alias}",
    "version_index": "${artifact_version_index}",
    "accuracy": "${artifact_metadata.acc}",
    "config": "${artifact_metadata.cfg}",
    "summary": "${event_author} moved ${alias} to v${artifact_version_index} (acc ${artifact_metadata.acc})",
    "token": "$GITHUB_TOKEN"
  }
}`

func BenchmarkRender(b *testing.B) {
	v := sampleVars()
	secrets := map[string]string{"GITHUB_TOKEN": "ghp_s3cr3t"}
	b.SetBytes(int64(len(githubTemplate)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Render(githubTemplate, v, secrets, "tok3n"); err != nil {
			b.Fatal(err)
		}
	}
}

// A template that places no secret renders the same with and without
// secrets: a worker then renders it once (UsesSecrets false). Any
// placeholder that may be a secret or the access token says true.
func TestUsesSecrets(t *testing.T) {
	v := sampleVars()
	secrets := map[string]string{"GITHUB_TOKEN": "ghp_s3cr3t"}
	for tpl, want := range map[string]bool{
		`{"a": "${project_name}", "b": "${artifact_metadata.acc}", "c": "v${artifact_version_index}"}`: false,
		`{"a": "${run_config.lr}", "b": ["${alias}", 1], "${event_type}": null}`:                       false,
		`{"a": "${GITHUB_TOKEN}"}`:        true,
		`{"a": "token $GITHUB_TOKEN"}`:    true,
		`{"a": "Bearer ${ACCESS_TOKEN}"}`: true,
		`{"${GITHUB_TOKEN}": 1}`:          true,
	} {
		c, err := Compile(tpl)
		if err != nil {
			t.Fatalf("%s: %v", tpl, err)
		}
		if c.UsesSecrets() != want {
			t.Errorf("%s: UsesSecrets = %v, want %v", tpl, c.UsesSecrets(), want)
		}
		sent, err := c.Render(v, secrets, "tok")
		if err != nil {
			t.Fatalf("%s: %v", tpl, err)
		}
		shown, err := c.RenderRedacted(v, []string{"GITHUB_TOKEN"})
		if err != nil {
			t.Fatalf("%s: %v", tpl, err)
		}
		if same := bytes.Equal(sent, shown); same == want {
			t.Errorf("%s: sent %s, shown %s: UsesSecrets %v", tpl, sent, shown, want)
		}
	}
}

// A number, true, false or null keeps its JSON text as written, without
// the whitespace around it, whether it fills a whole value or part of a
// string.
func TestScalarMetadataRendersAsWritten(t *testing.T) {
	v := Vars{ArtifactMetadata: map[string]json.RawMessage{"n": json.RawMessage(" \n-1.50e+3\t"), "t": json.RawMessage(" true ")}}
	got, err := Render(`{"n": "${artifact_metadata.n}", "s": "n=${artifact_metadata.n} t=${artifact_metadata.t}", "t": "${artifact_metadata.t}"}`, v, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"n":-1.50e+3,"s":"n=-1.50e+3 t=true","t":true}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
