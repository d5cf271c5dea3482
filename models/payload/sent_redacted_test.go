package payload

import (
	"bytes"
	"testing"
)

// A body rendered again for history without knowing the grants of its
// send (RenderSentRedacted) is exactly the body history stored then
// (RenderRedacted with the grants of the send), for every template that
// rendered; it names no secret value.
func TestRenderSentRedactedIsTheStoredBody(t *testing.T) {
	secrets := map[string]string{"GITHUB_TOKEN": "ghp_s3cr3t", "lower_key": "k3y", "9LIVES": "cat"}
	names := []string{"GITHUB_TOKEN", "lower_key", "9LIVES"}
	templates := []string{
		``,
		`{"v": "${artifact_version_string}", "n": "${artifact_version_index}", "acc": "${artifact_metadata.acc}"}`,
		`{"auth": "Bearer $GITHUB_TOKEN", "k": "${lower_key}", "t": "${ACCESS_TOKEN}", "nine": "${9LIVES}"}`,
		`{"cfg": "${artifact_metadata.cfg}", "msg": "$$GITHUB_TOKEN is literal, ${GITHUB_TOKEN} is not"}`,
		`["${automation_name}", "${alias}", "$ACCESS_TOKEN"]`,
	}
	for _, tpl := range templates {
		c, err := Compile(tpl)
		if err != nil {
			t.Fatalf("%s: %v", tpl, err)
		}
		if _, err := c.Render(sampleVars(), secrets, "tok3n"); err != nil {
			t.Fatalf("%s: render: %v", tpl, err)
		}
		stored, err := c.RenderRedacted(sampleVars(), names)
		if err != nil {
			t.Fatalf("%s: redacted: %v", tpl, err)
		}
		again, err := c.RenderSentRedacted(sampleVars())
		if err != nil {
			t.Fatalf("%s: rendered again: %v", tpl, err)
		}
		if !bytes.Equal(again, stored) {
			t.Errorf("%s: rendered again\n%s\nbut history stored\n%s", tpl, again, stored)
		}
		for _, v := range []string{"ghp_s3cr3t", "k3y", "cat", "tok3n"} {
			if bytes.Contains(again, []byte(v)) {
				t.Errorf("%s: rendered again with the secret value %q: %s", tpl, v, again)
			}
		}
	}
}
