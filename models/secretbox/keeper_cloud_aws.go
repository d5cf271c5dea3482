//go:build kms || kms_aws

package secretbox

// Registers the awskms:// keeper with gocloud.dev/secrets; compiled only
// with -tags kms_aws (or kms) so the default build leaves its SDK out.
import _ "gocloud.dev/secrets/awskms"
