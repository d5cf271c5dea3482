// Package migrations holds the versioned SQL schema, one folder per database
// dialect with the same numbered files, embedded into the binary and applied
// with goose.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// Dialect names match gorm's Dialector.Name().
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// Files returns the migration files of one dialect.
func Files(dialect string) (fs.FS, error) {
	switch dialect {
	case Postgres, SQLite:
		return fs.Sub(files, dialect)
	default:
		return nil, fmt.Errorf("migrations: unknown dialect %q", dialect)
	}
}

// Up applies every pending migration and returns how many were applied.
// On Postgres a session advisory lock keeps several processes starting at
// once from applying the same migration twice.
func Up(ctx context.Context, db *sql.DB, dialect string) (int, error) {
	provider, err := newProvider(db, dialect)
	if err != nil {
		return 0, err
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return len(results), fmt.Errorf("migrations: apply: %w", err)
	}
	return len(results), nil
}

// To migrates up or down to exactly version (tests use it to check a
// migration against data written under the schema before it).
func To(ctx context.Context, db *sql.DB, dialect string, version int64) error {
	provider, err := newProvider(db, dialect)
	if err != nil {
		return err
	}
	current, err := provider.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("migrations: read version: %w", err)
	}
	if version < current {
		_, err = provider.DownTo(ctx, version)
	} else {
		_, err = provider.UpTo(ctx, version)
	}
	if err != nil {
		return fmt.Errorf("migrations: to version %d: %w", version, err)
	}
	return nil
}

func newProvider(db *sql.DB, dialect string) (*goose.Provider, error) {
	fsys, err := Files(dialect)
	if err != nil {
		return nil, err
	}
	gooseDialect := goose.DialectSQLite3
	var opts []goose.ProviderOption
	if dialect == Postgres {
		gooseDialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, fmt.Errorf("migrations: create session locker: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	provider, err := goose.NewProvider(gooseDialect, db, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: create provider: %w", err)
	}
	return provider, nil
}
