// Package modeltest gives each test a fresh, migrated database: PostgreSQL
// when TEST_DB=postgres (a new database on the server at TEST_DATABASE_URL),
// otherwise the embedded SQLite in a temporary directory. The test command
// runs the whole suite once per database.
package modeltest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
)

// Database is where a test's data lives: URL is set for Postgres, DataDir
// for the embedded database, so a test can start the binary on the same one.
type Database struct {
	DB      *gorm.DB
	URL     string
	DataDir string
}

// Kind is the database the suite runs on: "postgres" or "sqlite".
func Kind() string {
	if os.Getenv("TEST_DB") == "postgres" {
		return "postgres"
	}
	return "sqlite"
}

// Open returns a fresh migrated database, removed when the test ends.
func Open(t testing.TB) *gorm.DB { return New(t).DB }

// New is Open with the connection details.
func New(t testing.TB) Database {
	t.Helper()
	ctx := context.Background()
	if Kind() == "postgres" {
		return newPostgres(t, ctx)
	}
	dir := t.TempDir()
	db, err := models.Open(ctx, "", dir)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { closeDB(db) })
	if _, err := models.Migrate(ctx, db); err != nil {
		t.Fatalf("migrate sqlite: %v", err)
	}
	return Database{DB: db, DataDir: dir}
}

func newPostgres(t testing.TB, ctx context.Context) Database {
	t.Helper()
	adminURL := os.Getenv("TEST_DATABASE_URL")
	if adminURL == "" {
		t.Fatal("TEST_DB=postgres needs TEST_DATABASE_URL (the test command in README.md sets both)")
	}
	admin, err := models.Open(ctx, adminURL, "")
	if err != nil {
		t.Fatalf("connect to test postgres: %v", err)
	}
	defer closeDB(admin)
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	name := "test_" + hex.EncodeToString(suffix)
	if err := admin.Exec("CREATE DATABASE " + name).Error; err != nil {
		t.Fatalf("create test database: %v", err)
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		t.Fatalf("parse TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	db, err := models.Open(ctx, u.String(), "")
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() {
		closeDB(db)
		if admin, err := models.Open(context.Background(), adminURL, ""); err == nil {
			admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			closeDB(admin)
		}
	})
	if _, err := models.Migrate(ctx, db); err != nil {
		t.Fatalf("migrate postgres: %v", err)
	}
	return Database{DB: db, URL: u.String(), DataDir: t.TempDir()}
}

func closeDB(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		sqlDB.Close()
	}
}

// User creates a user with password "password123".
func User(t testing.TB, db *gorm.DB, email string, siteAdmin bool) *models.User {
	t.Helper()
	u, err := models.CreateUser(context.Background(), db, models.NewUser{
		Email: email, Password: "password123", Name: email, SiteAdmin: siteAdmin,
	})
	if err != nil {
		t.Fatalf("create user %s: %v", email, err)
	}
	return u
}

// Team creates a team whose first admin is admin.
func Team(t testing.TB, db *gorm.DB, name string, admin *models.User) *models.Team {
	t.Helper()
	team, err := models.CreateTeam(context.Background(), db, name, admin)
	if err != nil {
		t.Fatalf("create team %s: %v", name, err)
	}
	return team
}

// Member adds u to team with role.
func Member(t testing.TB, db *gorm.DB, team *models.Team, u *models.User, role models.Role) {
	t.Helper()
	if _, err := models.AddTeamMember(context.Background(), db, team.ID, u.Email, role); err != nil {
		t.Fatalf("add %s to %s: %v", u.Email, team.Name, err)
	}
}
