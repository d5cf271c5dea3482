package secretbox_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/automations-dev/automations/models/secretbox"
)

func newKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func openLocal(t *testing.T, key []byte) *secretbox.Box {
	t.Helper()
	b, err := secretbox.Open(context.Background(), "", key)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return b
}

func TestSealUnsealRoundTrip(t *testing.T) {
	ctx := context.Background()
	b := openLocal(t, newKey(t))
	for _, plain := range [][]byte{
		[]byte("ghp_0123456789abcdef"),
		{},
		bytes.Repeat([]byte("x"), 100_000),
		[]byte("unicode ☃ and \x00 bytes"),
	} {
		sealed, err := b.Seal(ctx, plain)
		if err != nil {
			t.Fatalf("seal: %v", err)
		}
		got, err := b.Unseal(ctx, sealed)
		if err != nil {
			t.Fatalf("unseal: %v", err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatalf("round trip changed %d bytes into %d", len(plain), len(got))
		}
	}
}

// The stored bytes must hide the value in every spelling a careless
// implementation might leave it in, and two seals of one value differ (a
// fresh data key and nonce each time).
func TestSealedBytesHideTheValue(t *testing.T) {
	ctx := context.Background()
	b := openLocal(t, newKey(t))
	plain := []byte("super-secret-token-value")
	s1, err := b.Seal(ctx, plain)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := b.Seal(ctx, plain)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(s1, s2) {
		t.Fatal("sealing the same value twice gave the same bytes")
	}
	for _, form := range [][]byte{
		plain,
		[]byte(base64.StdEncoding.EncodeToString(plain)),
		[]byte(base64.RawURLEncoding.EncodeToString(plain)),
	} {
		if bytes.Contains(s1, form) || bytes.Contains([]byte(base64.StdEncoding.EncodeToString(s1)), form) {
			t.Fatalf("sealed value contains %q", form)
		}
	}
}

func TestUnsealRefusesTheWrongKeyAndTampering(t *testing.T) {
	ctx := context.Background()
	b := openLocal(t, newKey(t))
	other := openLocal(t, newKey(t))
	sealed, err := b.Seal(ctx, []byte("value"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Unseal(ctx, sealed); err == nil {
		t.Fatal("a different key unsealed the value")
	}
	for i := range sealed {
		tampered := bytes.Clone(sealed)
		tampered[i] ^= 0x01
		if got, err := b.Unseal(ctx, tampered); err == nil {
			t.Fatalf("flipping byte %d of %d went unnoticed: %q", i, len(sealed), got)
		}
	}
	for _, bad := range [][]byte{nil, {}, {1}, {2, 0, 0}, {1, 0xff, 0xff, 1, 2, 3}, sealed[:len(sealed)-1]} {
		if _, err := b.Unseal(ctx, bad); err == nil {
			t.Fatalf("unsealed malformed input %x", bad)
		}
	}
	if _, err := b.Unseal(ctx, []byte{9, 0, 0}); !errors.Is(err, secretbox.ErrMalformed) {
		t.Fatalf("unknown version: %v, want ErrMalformed", err)
	}
}

// A keeper URL takes precedence over the local key: here gocloud's own
// base64key:// keeper, the URL form of the default local keeper.
func TestKeeperURLIsUsedWhenSet(t *testing.T) {
	ctx := context.Background()
	key := newKey(t)
	url := "base64key://" + base64.URLEncoding.EncodeToString(key)
	viaURL, err := secretbox.Open(ctx, url, newKey(t))
	if err != nil {
		t.Fatalf("open %s: %v", "base64key://…", err)
	}
	defer viaURL.Close()
	sealed, err := viaURL.Seal(ctx, []byte("value"))
	if err != nil {
		t.Fatal(err)
	}
	// The same key given locally opens it: the URL's keeper wrapped the data key.
	got, err := openLocal(t, key).Unseal(ctx, sealed)
	if err != nil || string(got) != "value" {
		t.Fatalf("unseal with the URL's key: %q, %v", got, err)
	}
}

func TestOpenRefusesBadConfiguration(t *testing.T) {
	ctx := context.Background()
	if _, err := secretbox.Open(ctx, "", make([]byte, 16)); err == nil {
		t.Fatal("16-byte key accepted")
	}
	_, err := secretbox.Open(ctx, "nosuchkms://key", nil)
	if err == nil || !strings.Contains(err.Error(), "SECRETS_KEEPER_URL") {
		t.Fatalf("unknown keeper scheme: %v", err)
	}
}
