package models

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// The write queue of the embedded database: writers take turns in Go,
// readers never wait for them, and a writer that cannot get its turn fails
// after the timeout rather than hanging.
func TestSQLiteWritersTakeTurns(t *testing.T) {
	ctx := context.Background()
	dsn := "file:" + filepath.Join(t.TempDir(), "q.db") + "?_txlock=immediate&_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)"
	// The 40 writers below wait their turns under a generous timeout (a
	// loaded machine may keep one waiting for more than a second); the
	// timeout itself is checked on a second handle with a short one.
	db, err := openQueuedSQLite(dsn, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.ExecContext(ctx, "CREATE TABLE n (v INTEGER)"); err != nil {
		t.Fatal(err)
	}

	// 40 concurrent writers, half in transactions, half INSERT … RETURNING:
	// all succeed, none lost.
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			if i%2 == 0 {
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					errs <- err
					return
				}
				if _, err := tx.ExecContext(ctx, "INSERT INTO n (v) VALUES (?)", i); err != nil {
					_ = tx.Rollback()
					errs <- err
					return
				}
				errs <- tx.Commit()
				return
			}
			var v int
			errs <- db.QueryRowContext(ctx, "INSERT INTO n (v) VALUES (?) RETURNING v", i).Scan(&v)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent write: %v", err)
		}
	}
	var count int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM n").Scan(&count); err != nil || count != 40 {
		t.Fatalf("%d rows, %v; want 40", count, err)
	}

	// While a transaction holds the turn, reads go on and a write outside
	// it gives up after the timeout with "database is locked".
	db, err = openQueuedSQLite(dsn, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO n (v) VALUES (100)"); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM n").Scan(&count); err != nil || count != 40 {
		t.Fatalf("a read beside the open write transaction: %d, %v", count, err)
	}
	_, err = db.ExecContext(ctx, "INSERT INTO n (v) VALUES (101)")
	if !errors.Is(err, errWriteQueueTimeout) {
		t.Fatalf("a write while another holds the turn: %v; want %v", err, errWriteQueueTimeout)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	// The turn is free again once the transaction ended.
	if _, err := db.ExecContext(ctx, "INSERT INTO n (v) VALUES (102)"); err != nil {
		t.Fatalf("a write after the transaction: %v", err)
	}
}
