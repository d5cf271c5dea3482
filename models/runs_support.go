package models

import "gorm.io/gorm"

// ForUpdate is forUpdate for the sub-packages of models (models/runs): a
// row lock on PostgreSQL; SQLite's IMMEDIATE transactions already hold the
// database's write lock.
func ForUpdate(tx *gorm.DB) *gorm.DB { return forUpdate(tx) }

// AuthorHandle is how events name a user: the username, else the email.
func AuthorHandle(u *User) string { return authorHandle(u) }
