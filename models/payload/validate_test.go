package payload

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateAccepts(t *testing.T) {
	full := Context{EventType: AddArtifactAlias, HasAccessToken: true, GrantedSecrets: []string{"GITHUB_TOKEN", "my_key"}}
	tests := []struct {
		name     string
		template string
		ctx      Context
	}{
		{"every variable", `{"a":"${project_name} ${entity_name} ${event_type} ${event_author} ${artifact_collection_name} ${artifact_version} ${artifact_version_string} ${artifact_version_index} ${automation_name} ${artifact_metadata.acc}"}`, Context{EventType: CreateArtifact}},
		{"alias on alias event", `{"alias":"${alias}"}`, Context{EventType: AddArtifactAlias}},
		{"alias when the event is unknown (test panel)", `{"alias":"${alias}"}`, Context{}},
		{"access token braced and bare", `{"t":"${ACCESS_TOKEN}","u":"Bearer $ACCESS_TOKEN"}`, full},
		{"granted secret braced and bare", `{"s":"${GITHUB_TOKEN}","t":"$GITHUB_TOKEN","l":"$my_key"}`, full},
		{"placeholder in a key", `{"${entity_name}":{"${artifact_metadata.x}":1}}`, Context{EventType: LinkArtifact}},
		{"metadata key with dots and spaces", `{"a":"${artifact_metadata.val acc.top1}"}`, Context{EventType: CreateArtifact}},
		{"dollar escapes", `{"a":"$$GITHUB_TOKEN $${ACCESS_TOKEN} $$$$"}`, Context{EventType: CreateArtifact}},
		{"dollar text that is not a name", `{"a":"costs $5, $ and $-, $$foo"}`, Context{EventType: CreateArtifact}},
		{"empty template means {}", "  \n", Context{EventType: CreateArtifact}},
		{"secret name starting with a digit, braced", `{"a":"${2FA_SEED}"}`, Context{EventType: CreateArtifact, GrantedSecrets: []string{"2FA_SEED"}}},
		{"top-level scalar", `"${project_name}"`, Context{EventType: CreateArtifact}},
		{"null", `null`, Context{EventType: CreateArtifact}},
		{"numbers and nesting", ` [1, -0.5e10, true, false, null, {"a":[{}]}] `, Context{EventType: CreateArtifact}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Validate(tt.template, tt.ctx); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

func TestValidateRejects(t *testing.T) {
	granted := Context{EventType: CreateArtifact, GrantedSecrets: []string{"GITHUB_TOKEN"}}
	tests := []struct {
		name            string
		template        string
		ctx             Context
		wantKind        ErrorKind
		wantPlaceholder string
		wantMsg         string // the message contains this
		wantLine        int
		wantColumn      int
	}{
		{"misspelt variable", `{"a":"${artifact_colection_name}"}`, Context{EventType: CreateArtifact}, UnknownVariable, "${artifact_colection_name}",
			"unknown variable ${artifact_colection_name}; did you mean ${artifact_collection_name}?", 0, 0},
		{"unknown variable without a near name", `{"a":"${build_number}"}`, Context{EventType: CreateArtifact}, UnknownVariable, "${build_number}",
			"unknown variable ${build_number}: not a payload variable or a secret granted to this webhook", 0, 0},
		{"variable in the wrong case", `{"a":"${PROJECT_NAME}"}`, Context{EventType: CreateArtifact}, UnknownVariable, "${PROJECT_NAME}",
			"did you mean ${project_name}?", 0, 0},
		{"misspelt metadata prefix", `{"a":"${artifact_metdata.acc}"}`, Context{EventType: CreateArtifact}, UnknownVariable, "${artifact_metdata.acc}",
			"did you mean ${artifact_metadata.acc}?", 0, 0},
		{"unknown variable in a key", `{"${nope}":1}`, Context{EventType: CreateArtifact}, UnknownVariable, "${nope}", "unknown variable ${nope}", 0, 0},
		{"alias on create", `{"a":"${alias}"}`, Context{EventType: CreateArtifact}, NotApplicable, "${alias}",
			"${alias} applies only to ADD_ARTIFACT_ALIAS events", 0, 0},
		{"alias on link", `{"a":"x ${alias}"}`, Context{EventType: LinkArtifact}, NotApplicable, "${alias}",
			"${alias} applies only to ADD_ARTIFACT_ALIAS events", 0, 0},
		{"access token without a token", `{"a":"${ACCESS_TOKEN}"}`, Context{EventType: CreateArtifact}, NotApplicable, "${ACCESS_TOKEN}",
			"${ACCESS_TOKEN} is available only when the webhook has an access token", 0, 0},
		{"bare access token without a token", `{"a":"Bearer $ACCESS_TOKEN"}`, Context{EventType: CreateArtifact}, NotApplicable, "$ACCESS_TOKEN",
			"$ACCESS_TOKEN is available only when the webhook has an access token", 0, 0},
		{"bare secret not granted", `{"a":"$SLACK_TOKEN"}`, granted, SecretNotGranted, "$SLACK_TOKEN",
			"secret $SLACK_TOKEN is not granted to this webhook (grant it in the webhook's settings, or write $$SLACK_TOKEN for a literal $SLACK_TOKEN)", 0, 0},
		{"braced secret not granted", `{"a":"${SLACK_TOKEN}"}`, granted, SecretNotGranted, "${SLACK_TOKEN}",
			"secret ${SLACK_TOKEN} is not granted to this webhook", 0, 0},
		{"secret not granted, near a granted one", `{"a":"$GITHUB_TOKN"}`, granted, SecretNotGranted, "$GITHUB_TOKN",
			"secret $GITHUB_TOKN is not granted to this webhook; did you mean $GITHUB_TOKEN?", 0, 0},
		{"secret granted to nobody", `{"a":"$GITHUB_TOKEN"}`, Context{EventType: CreateArtifact}, SecretNotGranted, "$GITHUB_TOKEN",
			"secret $GITHUB_TOKEN is not granted to this webhook", 0, 0},
		{"unterminated placeholder", `{"a":"${project_name"}`, Context{EventType: CreateArtifact}, MalformedPlaceholder, "${project_name",
			`unterminated placeholder "${project_name": add the closing }`, 0, 0},
		{"empty placeholder", `{"a":"${}"}`, Context{EventType: CreateArtifact}, MalformedPlaceholder, "${}", "empty placeholder ${}", 0, 0},
		{"metadata without a key", `{"a":"${artifact_metadata}"}`, Context{EventType: CreateArtifact}, MalformedPlaceholder, "${artifact_metadata}",
			"${artifact_metadata} needs a metadata key", 0, 0},
		{"metadata with an empty key", `{"a":"${artifact_metadata.}"}`, Context{EventType: CreateArtifact}, MalformedPlaceholder, "${artifact_metadata.}",
			"${artifact_metadata.} needs a metadata key", 0, 0},
		{"missing value", "{\n  \"a\": ,\n}", Context{EventType: CreateArtifact}, InvalidJSON, "",
			"payload is not valid JSON: invalid character ',' looking for beginning of value at line 2, column 8", 2, 8},
		{"unexpected end", "{\n  \"a\": \"b\"", Context{EventType: CreateArtifact}, InvalidJSON, "",
			"payload is not valid JSON: unexpected end of input at line 2, column 11", 2, 11},
		{"two values", `{} {}`, Context{EventType: CreateArtifact}, InvalidJSON, "",
			"payload is not valid JSON: invalid character '{' after top-level value at line 1, column 4", 1, 4},
		{"raw newline in a string", "{\"a\": \"line\nbreak\"}", Context{EventType: CreateArtifact}, InvalidJSON, "",
			`invalid character '\n' in string literal at line 1, column 12`, 1, 12},
		{"columns count characters", `{"é": x}`, Context{EventType: CreateArtifact}, InvalidJSON, "", "at line 1, column 7", 1, 7},
		{"bare lower-case name not granted, as braced", `{"a":"$github_token"}`, Context{EventType: CreateArtifact}, UnknownVariable, "$github_token",
			"unknown variable $github_token: not a payload variable or a secret granted to this webhook", 0, 0},
		{"braced lower-case name not granted", `{"a":"${github_token}"}`, Context{EventType: CreateArtifact}, UnknownVariable, "${github_token}",
			"unknown variable ${github_token}: not a payload variable or a secret granted to this webhook", 0, 0},
		{"bare variable needs braces", `{"a":"$project_name"}`, Context{EventType: CreateArtifact}, UnknownVariable, "$project_name",
			"unknown variable $project_name; did you mean ${project_name}?", 0, 0},
		{"bare mixed-case text", `{"a":"$Mixed_Case"}`, Context{EventType: CreateArtifact}, UnknownVariable, "$Mixed_Case", "unknown variable $Mixed_Case", 0, 0},
		{"greedy bare name", `{"a":"$GITHUB_TOKENs"}`, granted, UnknownVariable, "$GITHUB_TOKENs", "did you mean $GITHUB_TOKEN?", 0, 0},
		{"digit-first secret not granted", `{"a":"${2FA_SEED}"}`, granted, SecretNotGranted, "${2FA_SEED}", "secret ${2FA_SEED} is not granted", 0, 0},
		{"unknown event type", `{}`, Context{EventType: "DELETE_ARTIFACT"}, UnknownEventType, "", `unknown event type "DELETE_ARTIFACT"`, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.template, tt.ctx)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate = %v, want a *ValidationError", err)
			}
			if ve.Kind != tt.wantKind {
				t.Errorf("Kind = %d, want %d (%s)", ve.Kind, tt.wantKind, ve.Message)
			}
			if ve.Placeholder != tt.wantPlaceholder {
				t.Errorf("Placeholder = %q, want %q", ve.Placeholder, tt.wantPlaceholder)
			}
			if !strings.Contains(ve.Message, tt.wantMsg) {
				t.Errorf("Message = %q, want it to contain %q", ve.Message, tt.wantMsg)
			}
			if ve.Line != tt.wantLine || ve.Column != tt.wantColumn {
				t.Errorf("position = %d:%d, want %d:%d", ve.Line, ve.Column, tt.wantLine, tt.wantColumn)
			}
		})
	}
}

func TestValidateMessageStaysShortForHugePlaceholders(t *testing.T) {
	name := strings.Repeat("x", 1<<20)
	for _, template := range []string{`{"a":"${` + name + `}"}`, `{"a":"${` + name + `"}`} {
		err := Validate(template, Context{EventType: CreateArtifact})
		if err == nil {
			t.Fatal("Validate accepted an unknown placeholder")
		}
		if len(err.Error()) > 300 {
			t.Errorf("message is %d bytes long", len(err.Error()))
		}
	}
}
