package sender

import (
	"net/http"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// During a rotation webhook-signature is "v1,<new> v1,<old>" (the
// reference verifier accepts either secret) and X-Wandb-Signature is the
// old secret's; outside one, both come from SigningSecret alone.
func TestHeadersDuringRotation(t *testing.T) {
	body := []byte(`{"event":"CREATE_ARTIFACT"}`)
	r := Request{Body: body, SigningSecret: "new-secret", PreviousSigningSecret: "old-secret", DeliveryID: "dlv_1", Timestamp: time.Now()}
	for _, c := range []struct {
		name     string
		previous string
		verify   map[string]bool
		wandb    string
		sigs     int
	}{
		{"overlap", "old-secret", map[string]bool{"new-secret": true, "old-secret": true, "other": false}, "old-secret", 2},
		{"no rotation", "", map[string]bool{"new-secret": true, "old-secret": false}, "new-secret", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			r.PreviousSigningSecret = c.previous
			h := http.Header{}
			for _, hd := range Headers(r, "") {
				h.Set(hd.Name, hd.Value)
			}
			sig := h.Get("Webhook-Signature")
			if n := len(strings.Split(sig, " ")); n != c.sigs {
				t.Errorf("webhook-signature %q has %d signatures, want %d", sig, n, c.sigs)
			}
			if !strings.HasPrefix(sig, SignStandardWebhooks([]byte("new-secret"), "dlv_1", r.Timestamp, body)) {
				t.Errorf("webhook-signature %q does not start with the new secret's", sig)
			}
			for secret, ok := range c.verify {
				wh, err := standardwebhooks.NewWebhookRaw([]byte(secret))
				if err != nil {
					t.Fatal(err)
				}
				if got := wh.Verify(body, h) == nil; got != ok {
					t.Errorf("verifies with %s: %v, want %v", secret, got, ok)
				}
			}
			if got := h.Get("X-Wandb-Signature"); got != SignWandb(c.wandb, body) {
				t.Errorf("X-Wandb-Signature %q is not %s's", got, c.wandb)
			}
		})
	}
}
