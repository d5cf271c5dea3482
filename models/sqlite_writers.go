package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
)

// SQLite lets one connection write at a time. A connection that finds the
// lock taken waits in SQLite's busy handler, which sleeps 1, 2, 5 … up to
// 100 ms between tries, so under steady writes some commits waited far
// longer than the write ahead of them took. writeQueue makes the
// connections of one database take turns in Go instead: a writer waits
// exactly until the previous one finishes. A transaction holds its turn
// from BEGIN (IMMEDIATE, see OpenSQLite) to COMMIT or ROLLBACK; a statement
// outside a transaction that may write holds it until its rows are closed.
type writeQueue struct {
	turn    chan struct{} // holds a token while a connection writes
	timeout time.Duration // like busy_timeout: give up waiting after this
}

func newWriteQueue(timeout time.Duration) *writeQueue {
	return &writeQueue{turn: make(chan struct{}, 1), timeout: timeout}
}

var errWriteQueueTimeout = errors.New("database is locked")

func (q *writeQueue) acquire(ctx context.Context) error {
	select {
	case q.turn <- struct{}{}:
		return nil
	default:
	}
	timer := time.NewTimer(q.timeout)
	defer timer.Stop()
	select {
	case q.turn <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return fmt.Errorf("%w: another write held it for %v", errWriteQueueTimeout, q.timeout)
	}
}

func (q *writeQueue) release() { <-q.turn }

// mayWrite reports whether a statement outside a transaction may write:
// anything but a plain read.
func mayWrite(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n(")
	if len(q) < 6 {
		return true
	}
	switch strings.ToUpper(q[:6]) {
	case "SELECT", "EXPLAI":
		return false
	}
	return true
}

// queuedConnector opens driver connections that take turns writing.
type queuedConnector struct {
	dsn    string
	driver driver.Driver
	queue  *writeQueue
}

func (c *queuedConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.driver.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &queuedConn{inner: conn, queue: c.queue}, nil
}

func (c *queuedConnector) Driver() driver.Driver { return c.driver }

// sqliteConn is what the SQLite driver's connections implement.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
}

type queuedConn struct {
	inner driver.Conn
	queue *writeQueue
	inTx  bool // this connection holds the turn for its transaction
}

func (c *queuedConn) sqlite() (sqliteConn, error) {
	s, ok := c.inner.(sqliteConn)
	if !ok {
		return nil, fmt.Errorf("sqlite driver connection %T lacks context methods", c.inner)
	}
	return s, nil
}

func (c *queuedConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *queuedConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	s, err := c.sqlite()
	if err != nil {
		return nil, err
	}
	st, err := s.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &queuedStmt{Stmt: st, conn: c, write: mayWrite(query)}, nil
}

func (c *queuedConn) Close() error { return c.inner.Close() }

func (c *queuedConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *queuedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	s, err := c.sqlite()
	if err != nil {
		return nil, err
	}
	if err := c.queue.acquire(ctx); err != nil {
		return nil, err
	}
	tx, err := s.BeginTx(ctx, opts)
	if err != nil {
		c.queue.release()
		return nil, err
	}
	c.inTx = true
	return &queuedTx{inner: tx, conn: c}, nil
}

func (c *queuedConn) Ping(ctx context.Context) error {
	s, err := c.sqlite()
	if err != nil {
		return err
	}
	return s.Ping(ctx)
}

// execInTurn runs exec, first taking the write turn when the statement is
// outside a transaction and may write.
func (c *queuedConn) execInTurn(ctx context.Context, write bool, exec func() (driver.Result, error)) (driver.Result, error) {
	if c.inTx || !write {
		return exec()
	}
	if err := c.queue.acquire(ctx); err != nil {
		return nil, err
	}
	defer c.queue.release()
	return exec()
}

// queryInTurn is execInTurn for a query: INSERT … RETURNING writes as its
// rows are read, so the turn is given back when the rows are closed.
func (c *queuedConn) queryInTurn(ctx context.Context, write bool, query func() (driver.Rows, error)) (driver.Rows, error) {
	if c.inTx || !write {
		return query()
	}
	if err := c.queue.acquire(ctx); err != nil {
		return nil, err
	}
	rows, err := query()
	if err != nil {
		c.queue.release()
		return nil, err
	}
	return &queuedRows{Rows: rows, done: c.queue.release}, nil
}

func (c *queuedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := c.sqlite()
	if err != nil {
		return nil, err
	}
	return c.execInTurn(ctx, mayWrite(query), func() (driver.Result, error) { return s.ExecContext(ctx, query, args) })
}

func (c *queuedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, err := c.sqlite()
	if err != nil {
		return nil, err
	}
	return c.queryInTurn(ctx, mayWrite(query), func() (driver.Rows, error) { return s.QueryContext(ctx, query, args) })
}

type queuedTx struct {
	inner driver.Tx
	conn  *queuedConn
}

func (t *queuedTx) Commit() error   { return t.end(t.inner.Commit) }
func (t *queuedTx) Rollback() error { return t.end(t.inner.Rollback) }

func (t *queuedTx) end(f func() error) error {
	err := f()
	t.conn.inTx = false
	t.conn.queue.release()
	return err
}

type queuedStmt struct {
	driver.Stmt
	conn  *queuedConn
	write bool
}

func (s *queuedStmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), namedValues(args))
}

func (s *queuedStmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), namedValues(args))
}

func namedValues(args []driver.Value) []driver.NamedValue {
	named := make([]driver.NamedValue, len(args))
	for i, v := range args {
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return named
}

func (s *queuedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	st, ok := s.Stmt.(driver.StmtExecContext)
	if !ok {
		return nil, fmt.Errorf("sqlite driver statement %T lacks ExecContext", s.Stmt)
	}
	return s.conn.execInTurn(ctx, s.write, func() (driver.Result, error) { return st.ExecContext(ctx, args) })
}

func (s *queuedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	st, ok := s.Stmt.(driver.StmtQueryContext)
	if !ok {
		return nil, fmt.Errorf("sqlite driver statement %T lacks QueryContext", s.Stmt)
	}
	return s.conn.queryInTurn(ctx, s.write, func() (driver.Rows, error) { return st.QueryContext(ctx, args) })
}

type queuedRows struct {
	driver.Rows
	done func()
}

func (r *queuedRows) Close() error {
	err := r.Rows.Close()
	if r.done != nil {
		r.done()
		r.done = nil
	}
	return err
}

// openQueuedSQLite opens dsn with the SQLite driver behind connections
// that take turns writing.
func openQueuedSQLite(dsn string, busyTimeout time.Duration) (*sql.DB, error) {
	probe, err := sql.Open(sqlite.DriverName, dsn)
	if err != nil {
		return nil, err
	}
	drv := probe.Driver()
	_ = probe.Close()
	return sql.OpenDB(&queuedConnector{dsn: dsn, driver: drv, queue: newWriteQueue(busyTimeout)}), nil
}
