//go:build !kms && !kms_aws && !kms_gcp && !kms_azure && !kms_vault

package secretbox

import (
	"context"
	"errors"
	"net/url"
)

// openKeeperURL in the default build: base64key:// only; a cloud keeper's
// URL says which build tag compiles it in.
func openKeeperURL(_ context.Context, keeperURL string) (keeper, error) {
	u, err := url.Parse(keeperURL)
	if err != nil {
		return nil, errors.New("not a URL") // the URL may hold a key: never echo it
	}
	if u.Scheme == "base64key" {
		return openLocalURL(u)
	}
	return nil, notBuiltIn(u.Scheme)
}
