//go:build kms || kms_azure

package secretbox

// Registers the azurekeyvault:// keeper with gocloud.dev/secrets; compiled only
// with -tags kms_azure (or kms) so the default build leaves its SDK out.
import _ "gocloud.dev/secrets/azurekeyvault"
