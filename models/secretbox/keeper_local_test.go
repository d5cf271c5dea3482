package secretbox

import (
	"context"
	"crypto/rand"
	"testing"

	"gocloud.dev/secrets/localsecrets"
)

// Values sealed before the local keeper was written out (with gocloud's
// localsecrets) must still open, and the other way round.
func TestLocalKeeperMatchesGocloudLocalsecrets(t *testing.T) {
	ctx := context.Background()
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		t.Fatal(err)
	}
	theirs, ours := localsecrets.NewKeeper(key), localKeeper{key: key}
	defer theirs.Close()

	byThem, err := theirs.Encrypt(ctx, []byte("data key sealed by localsecrets"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ours.Decrypt(ctx, byThem); err != nil || string(got) != "data key sealed by localsecrets" {
		t.Fatalf("ours opening theirs: %q, %v", got, err)
	}
	byUs, err := ours.Encrypt(ctx, []byte("data key sealed here"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := theirs.Decrypt(ctx, byUs); err != nil || string(got) != "data key sealed here" {
		t.Fatalf("theirs opening ours: %q, %v", got, err)
	}
	byUs[len(byUs)-1] ^= 1
	if _, err := ours.Decrypt(ctx, byUs); err == nil {
		t.Fatal("a changed byte decrypted")
	}
}
