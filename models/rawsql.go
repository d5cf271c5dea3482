package models

import "gorm.io/gorm"

// rawPool is the connection pool or transaction behind db, for the few
// statements every API request or logged event runs (the key lookup,
// numbering a version, the event with its deliveries): they skip gorm's
// statement building and reflection. Their SQL numbers parameters $1, $2,
// …, which PostgreSQL and SQLite both read, and they are scanned by hand.
func rawPool(db *gorm.DB) gorm.ConnPool { return db.Statement.ConnPool }
