package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/jobs"
	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/web"
)

// takeOverLeases, on the embedded database, expires the leases of dead
// workers at once (jobs.TakeOverLeases); PostgreSQL workers may run on
// other machines, so there leases expire on their own. unlock releases the
// worker lock.
func takeOverLeases(ctx context.Context, cfg web.Config, db *gorm.DB, log *slog.Logger) (unlock func(), err error) {
	if cfg.DatabaseURL != "" {
		return func() {}, nil
	}
	f, expired, err := jobs.TakeOverLeases(ctx, db, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if expired > 0 {
		log.Info("took over the deliveries of a worker that stopped without finishing them", "count", expired)
	}
	return func() {
		if f != nil {
			f.Close()
		}
	}, nil
}

// backup is `automations backup --to FILE`.
func backup(ctx context.Context, cfg web.Config, args []string, stdout io.Writer) error {
	flags := flag.NewFlagSet("backup", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	to := flags.String("to", "", "file to write the copy to")
	if err := flags.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *to == "" {
		return usageError{"backup needs --to FILE"}
	}
	if cfg.DatabaseURL != "" {
		return errors.New("backup copies the embedded database; DATABASE_URL points at PostgreSQL: back it up with pg_dump " +
			"(e.g. pg_dump --format=custom --file=automations.dump \"$DATABASE_URL\"), and keep SECRET_KEY and ENCRYPTION_KEY")
	}
	if _, err := os.Stat(*to); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s already exists; backup never overwrites a file", *to)
	}
	db, err := models.Open(ctx, "", cfg.DataDir)
	if err != nil {
		return err
	}
	defer closeDB(db)
	if err := models.BackupSQLite(ctx, db, *to); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s/automations.db to %s\nkeep the key files %s/secret_key and %s/encryption_key with it (unless SECRET_KEY and ENCRYPTION_KEY are set)\n",
		cfg.DataDir, *to, cfg.DataDir, cfg.DataDir)
	return nil
}
