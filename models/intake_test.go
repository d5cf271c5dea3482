package models_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/migrations"
	"github.com/automations-dev/automations/models"
)

// A logged version and a link queue deliveries for exactly the automations
// Explain accepts: the database makes plain queued deliveries from the
// candidates' condition alone, and any match with a dedupe window or
// approval sends the event down the per-match path. Both ways agree with
// the one rule.
func TestLiveEventsQueueExactlyWhatExplainAccepts(t *testing.T) {
	for _, withOptions := range []bool{false, true} {
		t.Run(fmt.Sprintf("options=%v", withOptions), func(t *testing.T) {
			f := newArtifactFixture(t)
			ctx := context.Background()
			mf := &matchFixture{db: f.db, team: f.team, user: f.user, registry: f.registry}
			other, err := models.CreateProject(ctx, f.db, f.team, "other", f.user)
			if err != nil {
				t.Fatal(err)
			}
			first := f.log(t, "resnet") // the collection exists before the automations
			otherColl := f.log(t, "bert")
			reg := f.registry.ID
			autos := []models.Automation{
				{Name: "project", Enabled: true, ScopeType: models.ScopeProject, ProjectID: &f.project.ID, EventType: models.EventCreateArtifact},
				{Name: "this collection", Enabled: true, ScopeType: models.ScopeProject, ProjectID: &f.project.ID, CollectionID: &first.CollectionID, EventType: models.EventCreateArtifact},
				{Name: "another collection", Enabled: true, ScopeType: models.ScopeProject, ProjectID: &f.project.ID, CollectionID: &otherColl.CollectionID, EventType: models.EventCreateArtifact},
				{Name: "disabled", Enabled: false, ScopeType: models.ScopeProject, ProjectID: &f.project.ID, EventType: models.EventCreateArtifact},
				{Name: "other project", Enabled: true, ScopeType: models.ScopeProject, ProjectID: &other.ID, EventType: models.EventCreateArtifact},
				{Name: "alias event", Enabled: true, ScopeType: models.ScopeProject, ProjectID: &f.project.ID, EventType: models.EventAddArtifactAlias},
				{Name: "registry link", Enabled: true, ScopeType: models.ScopeRegistry, RegistryID: &reg, EventType: models.EventLinkArtifact},
				{Name: "registry create", Enabled: true, ScopeType: models.ScopeRegistry, RegistryID: &reg, EventType: models.EventCreateArtifact},
			}
			if withOptions {
				autos = append(autos,
					models.Automation{Name: "deduped", Enabled: true, ScopeType: models.ScopeProject, ProjectID: &f.project.ID, EventType: models.EventCreateArtifact, DedupeWindow: 3600},
					models.Automation{Name: "approved", Enabled: true, ScopeType: models.ScopeRegistry, RegistryID: &reg, EventType: models.EventLinkArtifact, RequireApproval: true, ApprovalTimeout: 3600})
			}
			for i := range autos {
				autos[i] = mf.automation(t, autos[i])
			}
			v := f.log(t, "resnet")
			link, err := models.LinkArtifact(ctx, f.db, v.ID, f.registry, models.NewLink{}, f.user, "org")
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range f.events(t)[2:] { // the events after the automations
				var want []int64
				for i := range autos {
					if _, ok := autos[i].Explain(ev.MatchTarget()); ok {
						want = append(want, autos[i].ID)
					}
				}
				var got []int64
				if err := f.db.Table("deliveries").Where("event_id = ?", ev.ID).Order("automation_id").Pluck("automation_id", &got).Error; err != nil {
					t.Fatal(err)
				}
				if len(want) == 0 || !slices.Equal(got, want) {
					t.Fatalf("%s event: deliveries for automations %v, Explain accepts %v", ev.Type, got, want)
				}
			}
			if link.Version.VersionIndex != 0 {
				t.Fatalf("first registry version is v%d", link.Version.VersionIndex)
			}
		})
	}
}

// Versions logged at once by many clients, half of them inside a
// transaction that then rolls back, are numbered without a gap: a rolled
// back log gives its number back.
func TestVersionNumbersStayGaplessWhenConcurrentLogsRollBack(t *testing.T) {
	f := newArtifactFixture(t)
	ctx := context.Background()
	f.log(t, "resnet")
	const n = 30
	boom := errors.New("boom")
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			err := f.db.Transaction(func(tx *gorm.DB) error {
				if _, _, err := models.LogArtifact(ctx, tx, f.team, f.project, models.NewArtifact{Name: "resnet", Type: "model"}, f.user); err != nil {
					return err
				}
				if i%2 == 1 {
					return boom
				}
				return nil
			})
			if i%2 == 1 && errors.Is(err, boom) {
				err = nil
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent log: %v", err)
		}
	}
	c, err := models.CollectionInProject(ctx, f.db, f.project.ID, "resnet")
	if err != nil {
		t.Fatal(err)
	}
	vs, err := models.VersionsOf(ctx, f.db, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, v := range vs {
		got = append(got, v.VersionIndex)
	}
	sort.Ints(got)
	want := make([]int, 1+n/2)
	for i := range want {
		want[i] = i
	}
	if !slices.Equal(got, want) {
		t.Fatalf("version indexes = %v, want 0..%d", got, n/2)
	}
	if v := f.log(t, "resnet"); v.VersionIndex != n/2+1 {
		t.Fatalf("next version is v%d, want v%d", v.VersionIndex, n/2+1)
	}
}

// Migration 00024 starts each collection's counter after its newest
// version, so numbering continues where the versions logged before it
// left off.
func TestVersionCounterMigrationContinuesFromExistingVersions(t *testing.T) {
	f := newArtifactFixture(t)
	ctx := context.Background()
	for range 3 {
		f.log(t, "resnet")
	}
	f.log(t, "bert")
	v := f.log(t, "resnet")
	if _, err := models.LinkArtifact(ctx, f.db, v.ID, f.registry, models.NewLink{}, f.user, "org"); err != nil {
		t.Fatal(err)
	}
	sqlDB, err := f.db.DB()
	if err != nil {
		t.Fatal(err)
	}
	dialect := models.Dialect(f.db)
	if err := migrations.To(ctx, sqlDB, dialect, 22); err != nil {
		t.Fatal(err)
	}
	if err := migrations.To(ctx, sqlDB, dialect, 24); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int{"resnet": 4, "bert": 1} {
		if got := f.log(t, name).VersionIndex; got != want {
			t.Fatalf("%s: next version after the migration is v%d, want v%d", name, got, want)
		}
	}
	src := f.log(t, "resnet")
	link, err := models.LinkArtifact(ctx, f.db, src.ID, f.registry, models.NewLink{}, f.user, "org")
	if err != nil {
		t.Fatal(err)
	}
	if link.Version.VersionIndex != 1 {
		t.Fatalf("registry collection: next version after the migration is v%d, want v1", link.Version.VersionIndex)
	}
}
