package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/modeltest"
)

// A lease renewal must not wait for a row another transaction holds (the
// worker's own completion of a batch locks its rows in another order:
// waiting was a deadlock PostgreSQL broke after a second, aborting one).
// It renews the rows it can and leaves the held one to its holder.
func TestRenewLeasesSkipsRowsAnotherTransactionHolds(t *testing.T) {
	db := modeltest.Open(t)
	limitedWebhook(t, db, 10, 0, 2)
	claimed := claim(t, db, "w1")
	if len(claimed) != 2 {
		t.Fatalf("claimed %d, want 2", len(claimed))
	}
	ids := []int64{claimed[0].ID, claimed[1].ID}
	leaseOf := func(id int64) time.Time {
		var d models.Delivery
		if err := db.First(&d, "id = ?", id).Error; err != nil {
			t.Fatal(err)
		}
		return *d.LeaseUntil
	}
	before := []time.Time{leaseOf(ids[0]), leaseOf(ids[1])}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if models.Dialect(db) == "postgres" {
		holder := db.Begin()
		defer holder.Rollback()
		if err := holder.Exec("SELECT id FROM deliveries WHERE id = ? FOR UPDATE", ids[0]).Error; err != nil {
			t.Fatal(err)
		}
		if err := models.RenewLeases(ctx, db, "w1", ids, time.Hour); err != nil {
			t.Fatalf("renew beside a held row: %v", err)
		}
		holder.Rollback()
		if got := leaseOf(ids[0]); !got.Equal(before[0]) {
			t.Errorf("the held row's lease changed: %v → %v", before[0], got)
		}
	} else if err := models.RenewLeases(ctx, db, "w1", ids, time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := leaseOf(ids[1]); !got.After(before[1].Add(30 * time.Minute)) {
		t.Errorf("the free row's lease was not renewed: %v → %v", before[1], got)
	}
}
