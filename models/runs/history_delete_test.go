package runs_test

import (
	"context"
	"testing"

	"github.com/automations-dev/automations/models/runs"
)

// run_history has no foreign key on PostgreSQL (a check per stored value
// cost more than half of the bulk write); deleting a run must still
// delete its history there (a trigger) and on SQLite (the key's cascade),
// and only its own.
func TestDeletingARunDeletesItsHistory(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	gone, kept := f.run(t, "gone"), f.run(t, "kept")
	if _, err := runs.LogHistory(ctx, f.db, f.env, gone, rows(t, "loss", []int64{0, 1, 2}, []float64{1, 2, 3}), f.user); err != nil {
		t.Fatal(err)
	}
	if _, err := runs.LogHistory(ctx, f.db, f.env, kept, rows(t, "loss", []int64{0, 1}, []float64{1, 2}), f.user); err != nil {
		t.Fatal(err)
	}
	if err := f.db.Exec("DELETE FROM runs WHERE id = ?", gone.Run.ID).Error; err != nil {
		t.Fatal(err)
	}
	count := func(runID int64) int64 {
		var n int64
		if err := f.db.Table("run_history").Where("run_id = ?", runID).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(gone.Run.ID); n != 0 {
		t.Fatalf("deleted run still has %d history rows", n)
	}
	if n := count(kept.Run.ID); n != 2 {
		t.Fatalf("other run has %d history rows, want 2", n)
	}
}
