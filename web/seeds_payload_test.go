package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Seed 000: setting a webhook's Secret makes $NAME usable in payloads (the
// access token's secret too); an empty payload sends {}; $name and ${name}
// of a secret the webhook does not use are refused alike when saving.
func TestPayloadSecretsAsTheSeedsSay(t *testing.T) {
	f := newAutomationFixture(t, nil)
	// Webhook ci: access token GITHUB_TOKEN, Secret SIGNING, granted EXTRA.
	a := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", projectAutomation("signed", "CREATE_ARTIFACT",
		`{"sig": "$SIGNING", "sig2": "${SIGNING}", "tok": "$GITHUB_TOKEN", "extra": "$EXTRA"}`))
	f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "data", "type": "dataset"})
	got := f.receiver.next(t)
	var body map[string]string
	if err := json.Unmarshal(got.Body, &body); err != nil {
		t.Fatalf("body %s: %v", got.Body, err)
	}
	if body["sig"] != signingValue || body["sig2"] != signingValue || body["tok"] != tokenValue || body["extra"] != extraValue {
		t.Fatalf("rendered body = %v", body)
	}
	ds := f.deliveries(t, a["id"], allIn("succeeded", 1))
	stored := fmt.Sprint(ds[0]["attempts_detail"])
	if strings.Contains(stored, signingValue) || strings.Contains(stored, tokenValue) {
		t.Fatalf("delivery history shows a secret: %s", stored)
	}

	f.must(t, http.StatusOK, "PATCH", fmt.Sprintf("/api/v1/automations/%v", a["id"]), map[string]any{"enabled": false})
	empty := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", projectAutomation("no-payload", "CREATE_ARTIFACT", ""))
	if action := empty["action"].(map[string]any); action["payload"] != "{}" {
		t.Fatalf("empty payload stored as %v", action["payload"])
	}
	f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "data2", "type": "dataset"})
	if got := f.receiver.next(t); string(got.Body) != "{}" {
		t.Fatalf("empty payload sent %q, want {}", got.Body)
	}

	for _, payload := range []string{`{"a": "$OTHER"}`, `{"a": "${OTHER}"}`, `{"a": "$other_lower"}`, `{"a": "${other_lower}"}`} {
		status, out := f.app.API(t, f.key, "POST", "/api/v1/automations", projectAutomation("refused", "CREATE_ARTIFACT", payload))
		if status != http.StatusUnprocessableEntity || out["field"] != "action.payload" {
			t.Errorf("payload %s: %d %v, want 422 on action.payload", payload, status, out)
		}
	}
}
