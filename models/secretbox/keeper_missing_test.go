//go:build !kms && !kms_aws && !kms_gcp && !kms_azure && !kms_vault

package secretbox_test

import (
	"context"
	"strings"
	"testing"

	"github.com/automations-dev/automations/models/secretbox"
)

// The default build has no cloud keeper; naming one says which tag builds it in.
func TestCloudKeeperNotBuiltInNamesItsTag(t *testing.T) {
	for url, tag := range map[string]string{
		"awskms://alias/automations":                 "-tags kms_aws",
		"gcpkms://projects/p/locations/l/keyRings/r": "-tags kms_gcp",
		"azurekeyvault://v.vault.azure.net/keys/k":   "-tags kms_azure",
		"hashivault://automations":                   "-tags kms_vault",
	} {
		_, err := secretbox.Open(context.Background(), url, nil)
		if err == nil || !strings.Contains(err.Error(), tag) || !strings.Contains(err.Error(), "SECRETS_KEEPER_URL") {
			t.Errorf("%s: %v, want an error naming SECRETS_KEEPER_URL and %q", url, err, tag)
		}
	}
}
