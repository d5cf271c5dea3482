//go:build kms || kms_gcp

package secretbox

// Registers the gcpkms:// keeper with gocloud.dev/secrets; compiled only
// with -tags kms_gcp (or kms) so the default build leaves its SDK out.
import _ "gocloud.dev/secrets/gcpkms"
