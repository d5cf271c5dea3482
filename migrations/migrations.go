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
	fsys, err := Files(dialect)
	if err != nil {
		return 0, err
	}
	gooseDialect := goose.DialectSQLite3
	var opts []goose.ProviderOption
	if dialect == Postgres {
		gooseDialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return 0, fmt.Errorf("migrations: create session locker: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	provider, err := goose.NewProvider(gooseDialect, db, fsys, opts...)
	if err != nil {
		return 0, fmt.Errorf("migrations: create provider: %w", err)
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return len(results), fmt.Errorf("migrations: apply: %w", err)
	}
	return len(results), nil
}
