package models_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/modeltest"
)

type matchFixture struct {
	db       *gorm.DB
	team     *models.Team
	user     *models.User
	registry *models.Registry
}

func newMatchFixture(t testing.TB) *matchFixture {
	db := modeltest.Open(t)
	u := modeltest.User(t, db, "a@example.com", true)
	team := modeltest.Team(t, db, "ml", u)
	reg, err := models.CreateRegistry(context.Background(), db, "models", "", u)
	if err != nil {
		t.Fatal(err)
	}
	return &matchFixture{db: db, team: team, user: u, registry: reg}
}

func ptr(v int64) *int64 { return &v }

func (f *matchFixture) automation(t testing.TB, a models.Automation) models.Automation {
	t.Helper()
	a.TeamID, a.CreatedBy, a.ActionType = f.team.ID, f.user.ID, models.ActionWebhook
	if a.Name == "" {
		a.Name = "auto"
	}
	a.ActionConfig = "{}"
	now := time.Now().UTC()
	a.CreatedAt, a.UpdatedAt = now, now
	if err := f.db.Create(&a).Error; err != nil {
		t.Fatal(err)
	}
	rev := models.AutomationRevision{AutomationID: a.ID, PayloadTemplate: a.Payload, ActionConfig: a.ActionConfig, CreatedAt: now}
	if err := f.db.Create(&rev).Error; err != nil {
		t.Fatal(err)
	}
	a.RevisionID = &rev.ID
	if err := f.db.Model(&a).Update("revision_id", rev.ID).Error; err != nil {
		t.Fatal(err)
	}
	return a
}

func TestMatchAutomations(t *testing.T) {
	f := newMatchFixture(t)
	reg := f.registry.ID
	all := f.automation(t, models.Automation{Name: "project, any collection", Enabled: true, ScopeType: models.ScopeProject, ProjectID: ptr(1), EventType: models.EventCreateArtifact})
	filtered := f.automation(t, models.Automation{Name: "project, collection 7", Enabled: true, ScopeType: models.ScopeProject, ProjectID: ptr(1), CollectionID: ptr(7), EventType: models.EventCreateArtifact})
	f.automation(t, models.Automation{Name: "disabled", Enabled: false, ScopeType: models.ScopeProject, ProjectID: ptr(1), EventType: models.EventCreateArtifact})
	f.automation(t, models.Automation{Name: "other project", Enabled: true, ScopeType: models.ScopeProject, ProjectID: ptr(2), EventType: models.EventCreateArtifact})
	prod := f.automation(t, models.Automation{Name: "alias prod", Enabled: true, ScopeType: models.ScopeProject, ProjectID: ptr(1), EventType: models.EventAddArtifactAlias, AliasRegex: "prod"})
	regAll := f.automation(t, models.Automation{Name: "registry link", Enabled: true, ScopeType: models.ScopeRegistry, RegistryID: &reg, EventType: models.EventLinkArtifact})
	regColl := f.automation(t, models.Automation{Name: "registry collection 9 link", Enabled: true, ScopeType: models.ScopeRegistryCollection, RegistryID: &reg, CollectionID: ptr(9), EventType: models.EventLinkArtifact})
	regAlias := f.automation(t, models.Automation{Name: "registry alias", Enabled: true, ScopeType: models.ScopeRegistry, RegistryID: &reg, EventType: models.EventAddArtifactAlias, AliasRegex: "staging|prod(-v[0-9]+)?"})

	cases := []struct {
		name string
		ev   models.MatchTarget
		want []int64
	}{
		{"create in collection 7", models.MatchTarget{Type: models.EventCreateArtifact, ProjectID: ptr(1), CollectionID: 7}, []int64{all.ID, filtered.ID}},
		{"create in collection 8", models.MatchTarget{Type: models.EventCreateArtifact, ProjectID: ptr(1), CollectionID: 8}, []int64{all.ID}},
		{"alias prod", models.MatchTarget{Type: models.EventAddArtifactAlias, ProjectID: ptr(1), CollectionID: 8, Alias: "prod"}, []int64{prod.ID}},
		{"alias production is not a whole match", models.MatchTarget{Type: models.EventAddArtifactAlias, ProjectID: ptr(1), CollectionID: 8, Alias: "production"}, nil},
		{"link into collection 9", models.MatchTarget{Type: models.EventLinkArtifact, RegistryID: &reg, CollectionID: 9}, []int64{regAll.ID, regColl.ID}},
		{"link into a new collection", models.MatchTarget{Type: models.EventLinkArtifact, RegistryID: &reg, CollectionID: 10}, []int64{regAll.ID}},
		{"registry alias prod-v2", models.MatchTarget{Type: models.EventAddArtifactAlias, RegistryID: &reg, CollectionID: 9, Alias: "prod-v2"}, []int64{regAlias.ID}},
		{"registry alias prod-vx", models.MatchTarget{Type: models.EventAddArtifactAlias, RegistryID: &reg, CollectionID: 9, Alias: "prod-vx"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if ids := queuedFor(t, f.db, c.ev); fmt.Sprint(ids) != fmt.Sprint(c.want) {
				t.Fatalf("queued deliveries of %v, want %v", ids, c.want)
			}
		})
	}
}

// queuedFor queues the deliveries of an event in a transaction it rolls
// back, and returns the automations they belong to.
func queuedFor(t *testing.T, db *gorm.DB, ev models.MatchTarget) []int64 {
	t.Helper()
	var ids []int64
	stop := errors.New("roll back")
	err := db.Transaction(func(tx *gorm.DB) error {
		n, err := models.EnqueueDeliveries(context.Background(), tx, 1, ev)
		if err != nil {
			return err
		}
		if err := tx.Model(&models.Delivery{}).Order("automation_id").Pluck("automation_id", &ids).Error; err != nil {
			return err
		}
		if n != len(ids) {
			return fmt.Errorf("EnqueueDeliveries said %d, the table holds %d", n, len(ids))
		}
		return stop
	})
	if !errors.Is(err, stop) {
		t.Fatal(err)
	}
	return ids
}

// benchAutomations10k makes 10,000 automations spread over 1,000 projects
// and 100 registries, and three events: a new version in project 500 (10
// automations fire), alias prod in project 502 (10 fire), a link into
// registry r3 (100 fire).
func benchAutomations10k(b *testing.B, f *matchFixture) []models.MatchTarget {
	now := time.Now().UTC()
	var regIDs []int64
	for i := 0; i < 100; i++ {
		r, err := models.CreateRegistry(context.Background(), f.db, fmt.Sprintf("r%d", i), "", f.user)
		if err != nil {
			b.Fatal(err)
		}
		regIDs = append(regIDs, r.ID)
	}
	rev := models.AutomationRevision{ActionConfig: "{}", CreatedAt: now}
	if err := f.db.Create(&rev).Error; err != nil {
		b.Fatal(err)
	}
	autos := make([]models.Automation, 0, 10000)
	for i := 0; i < 10000; i++ {
		a := models.Automation{Name: "a", Enabled: true, TeamID: f.team.ID, CreatedBy: f.user.ID, ActionType: models.ActionWebhook,
			ActionConfig: "{}", RevisionID: &rev.ID, CreatedAt: now, UpdatedAt: now}
		switch i % 4 {
		case 0, 1:
			a.ScopeType, a.ProjectID, a.EventType = models.ScopeProject, ptr(int64(i%1000)), models.EventCreateArtifact
		case 2:
			a.ScopeType, a.ProjectID, a.EventType, a.AliasRegex = models.ScopeProject, ptr(int64(i%1000)), models.EventAddArtifactAlias, "prod|staging"
		case 3:
			a.ScopeType, a.RegistryID, a.EventType = models.ScopeRegistry, &regIDs[i%100], models.EventLinkArtifact
		}
		autos = append(autos, a)
	}
	if err := f.db.CreateInBatches(autos, 500).Error; err != nil {
		b.Fatal(err)
	}
	if models.Dialect(f.db) == "postgres" {
		f.db.Exec("ANALYZE automations")
	}
	return []models.MatchTarget{
		{Type: models.EventCreateArtifact, ProjectID: ptr(500), CollectionID: 1},
		{Type: models.EventAddArtifactAlias, ProjectID: ptr(502), CollectionID: 1, Alias: "prod"},
		{Type: models.EventLinkArtifact, RegistryID: &regIDs[3], CollectionID: 1},
	}
}

// BenchmarkMatch10k matches one event against 10,000 automations: the
// scope index keeps the read to the event's own few candidates.
func BenchmarkMatch10k(b *testing.B) {
	f := newMatchFixture(b)
	events := benchAutomations10k(b, f)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		got, err := models.MatchAutomations(ctx, f.db, events[i%len(events)])
		if err != nil || len(got) == 0 {
			b.Fatalf("%d matches, %v", len(got), err)
		}
	}
}

// BenchmarkQueue10k matches and queues an event's deliveries among 10,000
// automations, as the event's transaction does (one INSERT … SELECT); the
// deliveries pile up in one transaction rolled back at the end.
func BenchmarkQueue10k(b *testing.B) {
	f := newMatchFixture(b)
	events := benchAutomations10k(b, f)
	ctx := context.Background()
	tx := f.db.Begin()
	defer tx.Rollback()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n, err := models.EnqueueDeliveries(ctx, tx, int64(i+1), events[i%len(events)])
		if err != nil || n == 0 {
			b.Fatalf("%d deliveries queued, %v", n, err)
		}
	}
}
