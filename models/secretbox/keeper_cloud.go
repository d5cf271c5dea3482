//go:build kms || kms_aws || kms_gcp || kms_azure || kms_vault

package secretbox

import (
	"context"
	"errors"
	"net/url"

	"gocloud.dev/secrets"
)

// openKeeperURL with a cloud keeper built in: gocloud.dev/secrets opens the
// URL with whichever keepers the tags registered (keeper_cloud_*.go).
func openKeeperURL(ctx context.Context, keeperURL string) (keeper, error) {
	u, err := url.Parse(keeperURL)
	if err != nil {
		return nil, errors.New("not a URL") // the URL may hold a key: never echo it
	}
	if u.Scheme == "base64key" {
		return openLocalURL(u)
	}
	if !secrets.DefaultURLMux().ValidKeeperScheme(u.Scheme) {
		return nil, notBuiltIn(u.Scheme)
	}
	return secrets.OpenKeeper(ctx, keeperURL)
}
