package sender

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"strconv"
	"time"
)

// SignWandb returns base64(HMAC-SHA256(secret, body)), the X-Wandb-Signature
// value, exactly as the seeds' webhook_test.sh computes it with
// `openssl dgst -sha256 -hmac "$SECRET" -binary | base64`.
func SignWandb(secret string, body []byte) string {
	return signWandb(hmac.New(sha256.New, []byte(secret)), body)
}

// SignStandardWebhooks returns the webhook-signature value defined by the
// Standard Webhooks spec: "v1," + base64(HMAC-SHA256(secret, id.ts.body))
// with ts in Unix seconds. The key is the raw secret bytes (receivers build
// their verifier from the same bytes, not from a "whsec_" base64 string).
func SignStandardWebhooks(secret []byte, id string, ts time.Time, body []byte) string {
	return signStandard(hmac.New(sha256.New, secret), id, ts, body)
}

// signatures returns r's X-Wandb-Signature and webhook-signature values.
// Outside a rotation both are keyed with SigningSecret, so one keyed HMAC
// serves both (Reset keeps the key's state). During a rotation
// webhook-signature lists the new then the old signature (the spec's
// space-delimited list: a receiver accepts any match) and X-Wandb-Signature,
// which has room for one, stays on the old secret until receivers switch.
func signatures(r Request) (wandb, standard string) {
	mac := hmac.New(sha256.New, []byte(r.SigningSecret))
	standard = signStandard(mac, r.DeliveryID, r.Timestamp, r.Body)
	if r.PreviousSigningSecret == "" {
		mac.Reset()
		return signWandb(mac, r.Body), standard
	}
	prev := hmac.New(sha256.New, []byte(r.PreviousSigningSecret))
	standard += " " + signStandard(prev, r.DeliveryID, r.Timestamp, r.Body)
	prev.Reset()
	return signWandb(prev, r.Body), standard
}

func signWandb(mac hash.Hash, body []byte) string {
	mac.Write(body)
	var out [64]byte
	return string(base64.StdEncoding.AppendEncode(out[:0], mac.Sum(nil)))
}

func signStandard(mac hash.Hash, id string, ts time.Time, body []byte) string {
	// One buffer for "id.ts." and then the sum: the hash's Write and Sum
	// take it through an interface, so it is on the heap either way.
	scratch := make([]byte, 0, max(len(id)+22, sha256.Size))
	scratch = append(scratch, id...)
	scratch = append(scratch, '.')
	scratch = strconv.AppendInt(scratch, ts.Unix(), 10)
	scratch = append(scratch, '.')
	mac.Write(scratch)
	mac.Write(body)
	var out [64]byte
	return string(base64.StdEncoding.AppendEncode(append(out[:0], "v1,"...), mac.Sum(scratch[:0])))
}
