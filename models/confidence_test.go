package models_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
)

// Two transactions matching the same version for a dedupe automation at
// once produce one queued delivery and one skipped: the second waits on
// the first's delivery_dedupe row (PostgreSQL: its primary key; SQLite:
// the write lock) and then finds it.
func TestDedupeUniqueKeyUnderConcurrentTransactions(t *testing.T) {
	f := newMatchFixture(t)
	ctx := context.Background()
	p, err := models.CreateProject(ctx, f.db, f.team, "mnist", f.user)
	if err != nil {
		t.Fatal(err)
	}
	a := f.automation(t, models.Automation{Name: "once", Enabled: true, ScopeType: models.ScopeProject, ProjectID: &p.ID,
		EventType: models.EventCreateArtifact, DedupeWindow: 3600, ApprovalTimeout: models.DefaultApprovalTimeout})
	target := models.MatchTarget{Type: models.EventCreateArtifact, ProjectID: &p.ID, CollectionID: 1, Subject: models.VersionSubject(7)}

	tx1 := f.db.Begin()
	if n, err := models.EnqueueDeliveries(ctx, tx1, 1, target); err != nil || n != 1 {
		t.Fatalf("first transaction: %d, %v", n, err)
	}
	second := make(chan error, 1)
	go func() {
		second <- f.db.Transaction(func(tx *gorm.DB) error {
			_, err := models.EnqueueDeliveries(ctx, tx, 2, target)
			return err
		})
	}()
	if models.Dialect(f.db) == "postgres" {
		// Commit only once the second transaction waits on the first's row.
		waitFor(t, func() bool {
			var n int64
			f.db.Raw("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'").Scan(&n)
			return n == 1
		})
	}
	if err := tx1.Commit().Error; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatalf("second transaction: %v", err)
	}
	var ds []models.Delivery
	f.db.Where("automation_id = ?", a.ID).Order("event_id").Find(&ds)
	if len(ds) != 2 || ds[0].State != models.DeliveryQueued || ds[1].State != models.DeliverySkipped {
		t.Fatalf("deliveries = %+v, want queued then skipped", ds)
	}
	if want := "dedupe: at most once per artifact version within 1h; delivery " + ds[0].UID + " already covers it"; ds[1].Reason != want {
		t.Errorf("reason = %q, want %q", ds[1].Reason, want)
	}

	// Once the window has passed, the version may fire again.
	f.db.Exec("UPDATE delivery_dedupe SET expires_at = ?", time.Now().UTC().Add(-time.Second))
	if n, err := models.EnqueueDeliveries(ctx, f.db, 3, target); err != nil || n != 1 {
		t.Fatalf("after the window: %d, %v", n, err)
	}
	var last models.Delivery
	f.db.Where("automation_id = ?", a.ID).Order("id DESC").First(&last)
	if last.State != models.DeliveryQueued {
		t.Errorf("after the window the delivery is %s, want queued", last.State)
	}
}

// waitFor polls cond until it holds (a condition wait, not a timed one).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition never held")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Explain names the first rule that keeps an automation out.
func TestExplainNamesTheRule(t *testing.T) {
	proj, other, reg, coll := int64(1), int64(2), int64(3), int64(10)
	base := models.Automation{Enabled: true, ScopeType: models.ScopeProject, ProjectID: &proj, EventType: models.EventAddArtifactAlias, AliasRegex: "prod"}
	alias := models.MatchTarget{Type: models.EventAddArtifactAlias, ProjectID: &proj, CollectionID: 10, Alias: "prod"}
	for _, c := range []struct {
		name string
		edit func(a *models.Automation, t *models.MatchTarget)
		rule string
	}{
		{"matches", func(*models.Automation, *models.MatchTarget) {}, ""},
		{"other project", func(_ *models.Automation, t *models.MatchTarget) { t.ProjectID = &other }, models.MismatchScope},
		{"registry event", func(_ *models.Automation, t *models.MatchTarget) { t.ProjectID, t.RegistryID = nil, &reg }, models.MismatchScope},
		{"event type", func(_ *models.Automation, t *models.MatchTarget) { t.Type = models.EventCreateArtifact }, models.MismatchEventType},
		{"collection filter", func(a *models.Automation, _ *models.MatchTarget) { c := int64(11); a.CollectionID = &c }, models.MismatchCollection},
		{"collection filter passes", func(a *models.Automation, _ *models.MatchTarget) { a.CollectionID = &coll }, ""},
		{"alias regex is whole-alias", func(_ *models.Automation, t *models.MatchTarget) { t.Alias = "production" }, models.MismatchAlias},
		{"disabled", func(a *models.Automation, _ *models.MatchTarget) { a.Enabled = false }, models.MismatchDisabled},
		{"disabled and wrong alias: the alias", func(a *models.Automation, t *models.MatchTarget) { a.Enabled, t.Alias = false, "x" }, models.MismatchAlias},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, ev := base, alias
			c.edit(&a, &ev)
			m, ok := a.Explain(ev)
			if ok != (c.rule == "") || m.Rule != c.rule {
				t.Errorf("Explain = %+v, %v; want rule %q", m, ok, c.rule)
			}
		})
	}
}

// BenchmarkDryRun100k is the dry run over 100,000 stored events of one
// project (60 days of them, a third alias events): one range scan of
// events_project_type_time and Explain per row.
func BenchmarkDryRun100k(b *testing.B) {
	f := newMatchFixture(b)
	ctx := context.Background()
	p, err := models.CreateProject(ctx, f.db, f.team, "mnist", f.user)
	if err != nil {
		b.Fatal(err)
	}
	v, _, err := models.LogArtifact(ctx, f.db, f.team, p, models.NewArtifact{Name: "model", Type: "model"}, f.user)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	evs := make([]models.Event, 0, 100_000)
	for i := range 100_000 {
		typ, alias := models.EventCreateArtifact, ""
		if i%3 == 0 {
			typ, alias = models.EventAddArtifactAlias, []string{"production", "staging", "prod-eu"}[i%9/3]
		}
		raw, _ := json.Marshal(models.EventVars{EventType: typ, Alias: alias, ArtifactVersionString: "ml/mnist/model:v0", EventAuthor: "a"})
		evs = append(evs, models.Event{Type: typ, Alias: alias, ScopeKind: models.ScopeKindProject, ProjectID: &p.ID, CollectionID: v.CollectionID,
			VersionID: v.ID, AuthorID: &f.user.ID, Payload: string(raw), CreatedAt: now.Add(-time.Duration(i) * time.Minute * 60 * 24 * 60 / 100_000)})
	}
	if err := f.db.CreateInBatches(evs, 1000).Error; err != nil {
		b.Fatal(err)
	}
	if models.Dialect(f.db) == "postgres" {
		f.db.Exec("ANALYZE events")
	}
	for _, c := range []struct {
		name string
		a    models.Automation
		min  int
	}{
		{"create", models.Automation{ScopeType: models.ScopeProject, ProjectID: &p.ID, EventType: models.EventCreateArtifact}, 30_000},
		{"alias", models.Automation{ScopeType: models.ScopeProject, ProjectID: &p.ID, EventType: models.EventAddArtifactAlias, AliasRegex: "prod.*"}, 10_000},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				n, listed, err := models.MatchingEvents(ctx, f.db, &c.a, models.EventScan{Since: now.AddDate(0, 0, -30), Keep: 100, Count: true})
				if err != nil || n < c.min || len(listed) != 100 {
					b.Fatalf("%d matches, %d listed, %v", n, len(listed), err)
				}
			}
		})
	}
}
