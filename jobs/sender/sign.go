package sender

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"time"
)

// SignWandb returns base64(HMAC-SHA256(secret, body)), the X-Wandb-Signature
// value, exactly as the seeds' webhook_test.sh computes it with
// `openssl dgst -sha256 -hmac "$SECRET" -binary | base64`.
func SignWandb(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// SignStandardWebhooks returns the webhook-signature value defined by the
// Standard Webhooks spec: "v1," + base64(HMAC-SHA256(secret, id.ts.body))
// with ts in Unix seconds. The key is the raw secret bytes (receivers build
// their verifier from the same bytes, not from a "whsec_" base64 string).
func SignStandardWebhooks(secret []byte, id string, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write(strconv.AppendInt(nil, ts.Unix(), 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
