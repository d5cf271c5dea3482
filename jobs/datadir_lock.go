//go:build unix

package jobs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
)

// TakeOverLeases is for the embedded database, where every worker runs on
// this machine with the same DATA_DIR. Each worker holds a shared lock on
// DATA_DIR/worker.lock for its life. A starting worker first tries the
// exclusive lock: if it gets it, no other worker is alive (the kernel
// drops a dead process's locks), so every lease left in the database
// belongs to a dead process and is expired at once: a restarted process
// resends its predecessor's deliveries without waiting for the leases.
// The returned file keeps the shared lock; close it after the worker stops.
func TakeOverLeases(ctx context.Context, db *gorm.DB, dataDir string) (*os.File, int64, error) {
	f, err := os.OpenFile(filepath.Join(dataDir, "worker.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, 0, fmt.Errorf("open the worker lock: %w", err)
	}
	var expired int64
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
		if expired, err = models.ExpireAllLeases(ctx, db); err != nil {
			f.Close()
			return nil, 0, err
		}
	}
	// Converting to shared (or taking it beside other workers) only waits
	// for another starting worker's exclusive moment.
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH); err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	return f, expired, nil
}
