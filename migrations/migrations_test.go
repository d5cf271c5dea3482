package migrations_test

import (
	"io/fs"
	"slices"
	"testing"

	"github.com/automations-dev/automations/migrations"
)

// Both databases get the same schema: the same numbered files in each folder.
func TestBothDialectsHaveTheSameMigrations(t *testing.T) {
	names := map[string][]string{}
	for _, d := range []string{migrations.Postgres, migrations.SQLite} {
		fsys, err := migrations.Files(d)
		if err != nil {
			t.Fatal(err)
		}
		files, err := fs.Glob(fsys, "*.sql")
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 {
			t.Fatalf("%s has no migrations", d)
		}
		names[d] = files
	}
	if !slices.Equal(names[migrations.Postgres], names[migrations.SQLite]) {
		t.Fatalf("postgres %v\nsqlite   %v", names[migrations.Postgres], names[migrations.SQLite])
	}
	if _, err := migrations.Files("mysql"); err == nil {
		t.Fatal("unknown dialect accepted")
	}
}
