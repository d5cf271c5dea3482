//go:build kms || kms_vault

package secretbox

// Registers the hashivault:// keeper with gocloud.dev/secrets; compiled only
// with -tags kms_vault (or kms) so the default build leaves its SDK out.
import _ "gocloud.dev/secrets/hashivault"
