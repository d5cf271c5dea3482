package sender

import (
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	// The Standard Webhooks project's own Go verifier (module
	// github.com/standard-webhooks/standard-webhooks/libraries v0.0.1).
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// webhookRecipe is the signing line of the seeds' webhook_test.sh, with
// `printf '%s'` in place of `echo -n` (which sh may print literally and which
// interprets backslashes). BODY keeps trailing newlines that $(...) strips.
const webhookRecipe = `BODY=$(cat "$BODY_FILE"; printf x); BODY=${BODY%x}
printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$SECRET" -binary | base64`

var signatureBodies = []struct{ name, body string }{
	{"seed example", `{"key1": "value1", "key2": "value2"}`},
	{"unicode", `{"project_name":"モデル-registry","author":"Zoë 🚀","note":"naïve café"}`},
	{"newlines", "{\n  \"text\": \"line one\\nline two\",\n  \"raw\": \"a\nb\"\n}\n\n"},
	{"quotes and shell characters", `{"q":"he said \"hi\" and 'bye'","s":"$HOME ` + "`id`" + ` %s %d \\ \\n & | ;"}`},
	{"empty", ``},
}

// TestWandbSignatureMatchesOpenSSLRecipe checks X-Wandb-Signature the way a
// receiver following the seeds would: the shell recipe with real openssl,
// run over the body the receiver got.
func TestWandbSignatureMatchesOpenSSLRecipe(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatalf("openssl is needed to check the seeds' recipe: %v", err)
	}
	rc := newReceiver(t, "tcp4", nil)
	s := newTestSender(t, Config{AllowedTargets: []string{"127.0.0.1/32"}})
	for _, secret := range []string{"your_api_secret", "s3cr3t with spaces & $dollar \"quote\"", "ключ-🔑"} {
		for _, tc := range signatureBodies {
			t.Run(tc.name+"/"+secret, func(t *testing.T) {
				before := len(rc.requests())
				_, err := s.Send(context.Background(), Request{URL: rc.URL, Body: []byte(tc.body), SigningSecret: secret})
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				got := rc.requests()[before]
				if string(got.Body) != tc.body {
					t.Fatalf("receiver got body %q, want %q", got.Body, tc.body)
				}
				bodyFile := filepath.Join(t.TempDir(), "body.json")
				if err := os.WriteFile(bodyFile, got.Body, 0o600); err != nil {
					t.Fatal(err)
				}
				cmd := exec.Command("sh", "-c", webhookRecipe)
				cmd.Env = append(os.Environ(), "BODY_FILE="+bodyFile, "SECRET="+secret)
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("recipe: %v", err)
				}
				want := strings.TrimSpace(string(out))
				if sig := got.Header.Get("X-Wandb-Signature"); sig != want {
					t.Errorf("X-Wandb-Signature = %q, openssl recipe says %q", sig, want)
				}
			})
		}
	}
}

func TestSignWandbGoldenVector(t *testing.T) {
	// RFC 4231-style vector, cross-checked with the openssl recipe.
	got := SignWandb("key", []byte("The quick brown fox jumps over the lazy dog"))
	if want := "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg="; got != want {
		t.Errorf("SignWandb = %q, want %q", got, want)
	}
}

// TestStandardWebhooksVerifiedByReferenceLibrary verifies what a receiver
// got with the Standard Webhooks project's Go library, built from the raw
// secret bytes as a receiver sharing our signing secret would.
func TestStandardWebhooksVerifiedByReferenceLibrary(t *testing.T) {
	rc := newReceiver(t, "tcp4", nil)
	s := newTestSender(t, Config{AllowedTargets: []string{"127.0.0.1/32"}})
	const secret = "whsec-like but raw: 🔑 s3cr3t"
	for _, tc := range signatureBodies {
		t.Run(tc.name, func(t *testing.T) {
			before := len(rc.requests())
			_, err := s.Send(context.Background(), Request{
				URL: rc.URL, Body: []byte(tc.body), SigningSecret: secret,
				DeliveryID: "dlv_" + strings.ReplaceAll(tc.name, " ", "_"), Timestamp: time.Now(),
			})
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := rc.requests()[before]

			wh, err := standardwebhooks.NewWebhookRaw([]byte(secret))
			if err != nil {
				t.Fatal(err)
			}
			if err := wh.Verify(got.Body, got.Header); err != nil {
				t.Errorf("reference library rejected the delivery: %v", err)
			}
			if err := wh.Verify(append(got.Body, ' '), got.Header); err == nil {
				t.Error("reference library accepted a tampered body")
			}
			other, _ := standardwebhooks.NewWebhookRaw([]byte(secret + "x"))
			if err := other.Verify(got.Body, got.Header); err == nil {
				t.Error("reference library accepted the wrong secret")
			}
		})
	}
}

func TestSignStandardWebhooksGoldenVector(t *testing.T) {
	// The spec's example, as used by the reference library's own tests:
	// secret "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" (base64 after the prefix).
	key, err := base64.StdEncoding.DecodeString("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := SignStandardWebhooks(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("SignStandardWebhooks = %q, want %q", got, want)
	}
}
