// Package secretbox encrypts values at rest with envelope encryption: each
// value gets its own random data key (AES-256-GCM), and a key keeper from
// gocloud.dev/secrets wraps that data key. The keeper is the local 32-byte
// key from configuration by default (gocloud's localsecrets, the keeper
// behind base64key:// URLs), or a cloud KMS or Vault keeper named by URL
// (awskms://, gcpkms://, azurekeyvault://, hashivault://).
//
// The cloud keepers pull in their SDKs and gocloud.dev with gRPC and
// OpenTelemetry (about 450 packages, most of a first build), so they are
// compiled only with a build tag: kms_aws, kms_gcp, kms_azure, kms_vault, or
// kms for all four (keeper_cloud.go). The default build has the local keeper
// and base64key:// URLs only (keeper_local.go).
//
// Because only the small data key goes to the keeper, a KMS is called once
// per Seal or Unseal whatever the value's size, and the value itself never
// leaves the process.
package secretbox

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
)

// keeper wraps and unwraps data keys: the local key (keeper_local.go) or a
// cloud keeper from gocloud.dev/secrets (keeper_cloud.go, build tags only).
type keeper interface {
	Encrypt(ctx context.Context, plaintext []byte) ([]byte, error)
	Decrypt(ctx context.Context, ciphertext []byte) ([]byte, error)
	Close() error
}

// version is the first byte of every sealed value, so the format can change
// without guessing.
const version byte = 1

const (
	dataKeySize = 32 // AES-256
	headerSize  = 1 + 2
)

// ErrMalformed is wrapped by Unseal when the bytes are not a sealed value of
// this package (truncated, another format, or a newer version).
var ErrMalformed = errors.New("secretbox: sealed value is malformed")

// Box seals and unseals values. It is safe for concurrent use.
type Box struct {
	keeper keeper
}

// Open returns a Box whose data keys are wrapped by the keeper at keeperURL
// or, when keeperURL is empty, by localKey (32 bytes) with NaCl secretbox.
// Errors never contain the key.
func Open(ctx context.Context, keeperURL string, localKey []byte) (*Box, error) {
	if keeperURL != "" {
		k, err := openKeeperURL(ctx, keeperURL)
		if err != nil {
			return nil, fmt.Errorf("open secrets keeper (SECRETS_KEEPER_URL): %w", err)
		}
		return &Box{keeper: k}, nil
	}
	if len(localKey) != 32 {
		return nil, fmt.Errorf("secretbox: the encryption key must be 32 bytes, got %d", len(localKey))
	}
	var key [32]byte
	copy(key[:], localKey)
	return &Box{keeper: localKeeper{key: key}}, nil
}

// buildTags names the tag that compiles each cloud keeper in.
var buildTags = map[string]string{
	"awskms":        "kms_aws",
	"gcpkms":        "kms_gcp",
	"azurekeyvault": "kms_azure",
	"hashivault":    "kms_vault",
}

// notBuiltIn is the error for a keeper URL whose scheme this binary has no
// keeper for: it names the build tag for a known cloud keeper.
func notBuiltIn(scheme string) error {
	if tag, ok := buildTags[scheme]; ok {
		return fmt.Errorf("the %s keeper is not built into this binary: build with `go build -tags %s ./cmd/automations` (or -tags kms for every cloud keeper)", scheme, tag)
	}
	return fmt.Errorf("unknown keeper %q (known: base64key, awskms, gcpkms, azurekeyvault, hashivault)", scheme)
}

// Seal encrypts plaintext with a fresh data key and returns
//
//	version (1 byte) | len(wrapped key) (2 bytes, big endian) | wrapped key | nonce | AES-GCM ciphertext and tag
//
// The header and wrapped key are the GCM additional data, so neither can be
// swapped for another value's.
func (b *Box) Seal(ctx context.Context, plaintext []byte) ([]byte, error) {
	dataKey := make([]byte, dataKeySize)
	if _, err := rand.Read(dataKey); err != nil {
		return nil, fmt.Errorf("secretbox: generate data key: %w", err)
	}
	defer clear(dataKey)
	wrapped, err := b.keeper.Encrypt(ctx, dataKey)
	if err != nil {
		return nil, fmt.Errorf("secretbox: wrap data key: %w", err)
	}
	if len(wrapped) > 0xFFFF {
		return nil, fmt.Errorf("secretbox: wrapped data key is %d bytes, more than the format holds", len(wrapped))
	}
	aead, err := newAEAD(dataKey)
	if err != nil {
		return nil, err
	}
	out := make([]byte, headerSize, headerSize+len(wrapped)+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = version
	binary.BigEndian.PutUint16(out[1:headerSize], uint16(len(wrapped)))
	out = append(out, wrapped...)
	ad := out[:len(out):len(out)]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("secretbox: generate nonce: %w", err)
	}
	out = append(out, nonce...)
	return aead.Seal(out, nonce, plaintext, ad), nil
}

// Unseal reverses Seal. A value sealed under another key, or changed in any
// byte, is an error (never garbage).
func (b *Box) Unseal(ctx context.Context, sealed []byte) ([]byte, error) {
	if len(sealed) < headerSize || sealed[0] != version {
		return nil, ErrMalformed
	}
	n := int(binary.BigEndian.Uint16(sealed[1:headerSize]))
	if len(sealed) < headerSize+n {
		return nil, ErrMalformed
	}
	ad, rest := sealed[:headerSize+n], sealed[headerSize+n:]
	dataKey, err := b.keeper.Decrypt(ctx, ad[headerSize:])
	if err != nil {
		return nil, fmt.Errorf("secretbox: unwrap data key (was the encryption key changed?): %w", err)
	}
	defer clear(dataKey)
	if len(dataKey) != dataKeySize {
		return nil, ErrMalformed
	}
	aead, err := newAEAD(dataKey)
	if err != nil {
		return nil, err
	}
	if len(rest) < aead.NonceSize()+aead.Overhead() {
		return nil, ErrMalformed
	}
	nonce, ciphertext := rest[:aead.NonceSize()], rest[aead.NonceSize():]
	plaintext, err := aead.Open(nil, nonce, ciphertext, ad)
	if err != nil {
		return nil, fmt.Errorf("secretbox: decrypt value: %w", err)
	}
	return plaintext, nil
}

// Close releases the keeper (a cloud KMS client's connections).
func (b *Box) Close() error {
	if err := b.keeper.Close(); err != nil {
		return fmt.Errorf("secretbox: close keeper: %w", err)
	}
	return nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	return aead, nil
}
