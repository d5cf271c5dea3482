//go:build !unix

package jobs

import (
	"context"
	"os"

	"gorm.io/gorm"
)

// TakeOverLeases does nothing where flock is missing: leases expire as usual.
func TakeOverLeases(ctx context.Context, db *gorm.DB, dataDir string) (*os.File, int64, error) {
	return nil, 0, nil
}
