package runs

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
)

// rawConn runs f on the pgx connection under the current transaction, for
// what database/sql cannot express (COPY). It is nil on SQLite.
type rawConn func(f func(conn *pgx.Conn) error) error

// withRawConn runs f in a transaction, as gorm's Transaction does, but on
// one connection held for the call, so that f can also reach that
// connection's pgx handle: statements sent through it belong to the same
// transaction.
func withRawConn(ctx context.Context, db *gorm.DB, f func(tx *gorm.DB, raw rawConn) error) error {
	if models.Dialect(db) != "postgres" {
		return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return f(tx, nil) })
	}
	return db.WithContext(ctx).Connection(func(c *gorm.DB) error {
		conn, ok := c.Statement.ConnPool.(*sql.Conn)
		if !ok {
			return fmt.Errorf("history: connection is %T, not *sql.Conn", c.Statement.ConnPool)
		}
		raw := func(g func(*pgx.Conn) error) error {
			return conn.Raw(func(dc any) error {
				sc, ok := dc.(*stdlib.Conn)
				if !ok {
					return fmt.Errorf("history: driver connection is %T, not pgx", dc)
				}
				return g(sc.Conn())
			})
		}
		return c.Transaction(func(tx *gorm.DB) error { return f(tx, raw) })
	})
}
