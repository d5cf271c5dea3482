package secretbox

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"

	"golang.org/x/crypto/nacl/secretbox"
)

// localKeeper wraps data keys with a 32-byte key using NaCl secretbox, in
// exactly the format of gocloud.dev/secrets/localsecrets (a 24-byte random
// nonce, then the box), so values sealed by earlier builds, which used
// localsecrets, still open. It is written out here so the default build
// does not compile gocloud.dev and its gRPC and OpenTelemetry dependencies.
type localKeeper struct {
	key [32]byte
}

const localNonceSize = 24

func (k localKeeper) Encrypt(_ context.Context, plaintext []byte) ([]byte, error) {
	var nonce [localNonceSize]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, fmt.Errorf("generate nonce: %w", err)
	}
	return secretbox.Seal(nonce[:], plaintext, &nonce, &k.key), nil
}

func (k localKeeper) Decrypt(_ context.Context, ciphertext []byte) ([]byte, error) {
	if len(ciphertext) < localNonceSize {
		return nil, errors.New("local keeper: ciphertext too short")
	}
	var nonce [localNonceSize]byte
	copy(nonce[:], ciphertext)
	out, ok := secretbox.Open(nil, ciphertext[localNonceSize:], &nonce, &k.key)
	if !ok {
		return nil, errors.New("local keeper: decrypt failed")
	}
	return out, nil
}

func (localKeeper) Close() error { return nil }

// openLocalURL opens base64key://KEY (the key in URL-safe base64, as
// gocloud's localsecrets reads it). Errors never contain the key.
func openLocalURL(u *url.URL) (keeper, error) {
	if len(u.Query()) > 0 {
		return nil, errors.New("base64key: no query parameters are supported")
	}
	raw, err := base64.URLEncoding.DecodeString(u.Host)
	if err != nil || len(raw) != 32 {
		return nil, errors.New("base64key: the key must be 32 bytes in URL-safe base64")
	}
	var k localKeeper
	copy(k.key[:], raw)
	return k, nil
}
