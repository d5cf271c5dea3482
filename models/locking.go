package models

import (
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// forUpdate adds FOR UPDATE on Postgres. SQLite has no row locks; there every
// write transaction begins IMMEDIATE (see OpenSQLite) and so already holds
// the database's single write lock.
func forUpdate(tx *gorm.DB) *gorm.DB {
	if Dialect(tx) == "postgres" {
		return tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate})
	}
	return tx
}
