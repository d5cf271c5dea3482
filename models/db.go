// Package models holds the gorm models and the domain rules on them:
// validation, role checks, event matching and payload rendering. All SQL of
// the web side lives here.
package models

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/automations-dev/automations/migrations"
)

// Open connects to PostgreSQL when databaseURL is set, otherwise to the
// embedded SQLite file automations.db under dataDir (created if missing).
func Open(ctx context.Context, databaseURL, dataDir string) (*gorm.DB, error) {
	gcfg := &gorm.Config{
		Logger:         logger.Default.LogMode(logger.Silent),
		TranslateError: true,
		NowFunc:        func() time.Time { return time.Now().UTC() },
	}
	if databaseURL != "" {
		db, err := gorm.Open(postgres.Open(databaseURL), gcfg)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		sqlDB, err := db.DB()
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		sqlDB.SetMaxOpenConns(20)
		sqlDB.SetMaxIdleConns(20)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		if err := sqlDB.PingContext(ctx); err != nil {
			return nil, fmt.Errorf("ping postgres: %w", err)
		}
		return db, nil
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir %s: %w", dataDir, err)
	}
	return OpenSQLite(ctx, filepath.Join(dataDir, "automations.db"))
}

// OpenSQLite opens the embedded database file. WAL lets readers run beside
// the single writer; _txlock=immediate takes the write lock when a
// transaction begins, so concurrent writers queue on busy_timeout instead of
// failing with SQLITE_BUSY when a read transaction tries to upgrade.
func OpenSQLite(ctx context.Context, path string) (*gorm.DB, error) {
	const busyTimeout = 15 * time.Second
	dsn := "file:" + path + "?_txlock=immediate" +
		fmt.Sprintf("&_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)", busyTimeout.Milliseconds()) +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)&_pragma=temp_store(MEMORY)"
	// Writers take turns in Go (see writeQueue); busy_timeout still covers
	// another process writing the same file.
	conn, err := openQueuedSQLite(dsn, busyTimeout)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	db, err := gorm.Open(&sqlite.Dialector{DSN: dsn, Conn: conn}, &gorm.Config{
		Logger:         logger.Default.LogMode(logger.Silent),
		TranslateError: true,
		NowFunc:        func() time.Time { return time.Now().UTC() },
	})
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	sqlDB.SetMaxOpenConns(8)
	if err := sqlDB.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("ping sqlite %s: %w", path, err)
	}
	return db, nil
}

// Dialect names the database behind db: migrations.Postgres or migrations.SQLite.
func Dialect(db *gorm.DB) string {
	return db.Dialector.Name()
}

// Migrate applies every pending migration of db's dialect.
func Migrate(ctx context.Context, db *gorm.DB) (int, error) {
	sqlDB, err := db.DB()
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	return migrations.Up(ctx, sqlDB, Dialect(db))
}

// Ping reports whether the database answers.
func Ping(ctx context.Context, db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}
