package payload

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSeedTemplatesValidateAndRender(t *testing.T) {
	v := sampleVars()
	v.EventAuthor = `ada "the" <admin>`
	for _, tmpl := range Templates() {
		for _, event := range EventTypes() {
			t.Run(tmpl.ID+"/"+string(event), func(t *testing.T) {
				if err := Validate(tmpl.Body, Context{EventType: event}); err != nil {
					t.Fatalf("Validate: %v", err)
				}
				v.EventType = string(event)
				out, err := Render(tmpl.Body, v, nil, "")
				if err != nil {
					t.Fatalf("Render: %v", err)
				}
				var doc map[string]any
				if err := json.Unmarshal(out, &doc); err != nil {
					t.Fatalf("output is not JSON: %v", err)
				}
				if !strings.Contains(string(out), `ada \"the\" <admin>`) {
					t.Errorf("the author is not in %s", out)
				}
			})
		}
	}
}

func TestGitHubTemplateRendersClientPayload(t *testing.T) {
	var github NamedTemplate
	for _, tmpl := range Templates() {
		if tmpl.ID == "github" {
			github = tmpl
		}
	}
	out, err := Render(github.Body, sampleVars(), nil, "")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		EventType     string            `json:"event_type"`
		ClientPayload map[string]string `json:"client_payload"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"event_author":             "ada",
		"artifact_version":         "wandb-artifact://_id/QXJ0aWZhY3Q6NTE3ODg5ODg3",
		"artifact_version_string":  "org/wandb-registry-model/resnet:production",
		"artifact_collection_name": "resnet",
		"project_name":             "wandb-registry-model",
		"entity_name":              "org",
	}
	if doc.EventType != "BUILD_AND_DEPLOY" || len(doc.ClientPayload) != len(want) {
		t.Fatalf("rendered %s", out)
	}
	for k, w := range want {
		if doc.ClientPayload[k] != w {
			t.Errorf("client_payload.%s = %q, want %q", k, doc.ClientPayload[k], w)
		}
	}
}
