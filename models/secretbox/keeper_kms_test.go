//go:build kms

package secretbox_test

import (
	"testing"

	"gocloud.dev/secrets"
)

// With -tags kms every cloud keeper is registered.
func TestKMSTagRegistersEveryCloudKeeper(t *testing.T) {
	for _, scheme := range []string{"awskms", "gcpkms", "azurekeyvault", "hashivault"} {
		if !secrets.DefaultURLMux().ValidKeeperScheme(scheme) {
			t.Errorf("%s not registered with -tags kms", scheme)
		}
	}
}
