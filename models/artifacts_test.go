package models_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/modeltest"
)

type artifactFixture struct {
	db       *gorm.DB
	user     *models.User
	team     *models.Team
	project  *models.Project
	registry *models.Registry
}

func newArtifactFixture(t testing.TB) *artifactFixture {
	t.Helper()
	ctx := context.Background()
	db := modeltest.Open(t)
	u := modeltest.User(t, db, "ada@example.com", false)
	team := modeltest.Team(t, db, "ml", u)
	p, err := models.CreateProject(ctx, db, team, "vision", u)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := models.CreateRegistry(ctx, db, "models", "", u)
	if err != nil {
		t.Fatal(err)
	}
	return &artifactFixture{db: db, user: u, team: team, project: p, registry: reg}
}

func (f *artifactFixture) log(t testing.TB, name string, aliases ...string) *models.ArtifactVersion {
	t.Helper()
	v, _, err := models.LogArtifact(context.Background(), f.db, f.team, f.project, models.NewArtifact{
		Name: name, Type: "model", Metadata: json.RawMessage(`{"accuracy": 0.9}`), Aliases: aliases,
	}, f.user)
	if err != nil {
		t.Fatalf("log %s: %v", name, err)
	}
	return v
}

func (f *artifactFixture) count(t testing.TB, table string) int64 {
	t.Helper()
	var n int64
	if err := f.db.Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *artifactFixture) events(t testing.TB) []models.Event {
	t.Helper()
	var ids []int64
	if err := f.db.Table("events").Order("id").Pluck("id", &ids).Error; err != nil {
		t.Fatal(err)
	}
	out := make([]models.Event, len(ids))
	for i, id := range ids {
		ev, err := models.EventByID(context.Background(), f.db, id)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = *ev
	}
	return out
}

// Forty clients log the first and every later version of one collection at
// the same moment: all succeed, and the versions are exactly v0..v39.
func TestLogArtifactNumbersConcurrentVersionsWithoutGapsOrDuplicates(t *testing.T) {
	f := newArtifactFixture(t)
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := models.LogArtifact(context.Background(), f.db, f.team, f.project, models.NewArtifact{Name: "resnet", Type: "model"}, f.user)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent log: %v", err)
		}
	}
	c, err := models.CollectionInProject(context.Background(), f.db, f.project.ID, "resnet")
	if err != nil {
		t.Fatal(err)
	}
	vs, err := models.VersionsOf(context.Background(), f.db, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, v := range vs {
		got = append(got, v.VersionIndex)
	}
	sort.Ints(got)
	for i := range n {
		if i >= len(got) || got[i] != i {
			t.Fatalf("version indexes = %v, want 0..%d", got, n-1)
		}
	}
	if len(got) != n {
		t.Fatalf("%d versions, want %d", len(got), n)
	}
	if f.count(t, "artifact_collections") != 1 {
		t.Fatalf("collections = %d, want 1", f.count(t, "artifact_collections"))
	}
	if e := f.count(t, "events"); e != n {
		t.Fatalf("events = %d, want %d CREATE_ARTIFACT", e, n)
	}
}

// Many clients move the same alias to different versions at once: every
// move succeeds and exactly one version holds the alias afterwards.
func TestConcurrentAliasMovesLeaveExactlyOneHolder(t *testing.T) {
	f := newArtifactFixture(t)
	var versions []*models.ArtifactVersion
	for range 5 {
		versions = append(versions, f.log(t, "resnet"))
	}
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := models.AddAlias(context.Background(), f.db, versions[i%len(versions)].ID, "production", f.user, "org")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent alias move: %v", err)
		}
	}
	var holders []int64
	if err := f.db.Table("artifact_aliases").Where("alias = ?", "production").Pluck("version_id", &holders).Error; err != nil {
		t.Fatal(err)
	}
	if len(holders) != 1 {
		t.Fatalf("production held by %v, want exactly one version", holders)
	}
	v, err := models.ResolveVersion(context.Background(), f.db, versions[0].CollectionID, "production")
	if err != nil || v.ID != holders[0] {
		t.Fatalf("resolve production = %+v, %v; want version %d", v, err, holders[0])
	}
}

func TestLatestFollowsNewestVersionAndVersionRefsResolve(t *testing.T) {
	f := newArtifactFixture(t)
	ctx := context.Background()
	v0 := f.log(t, "resnet")
	if !reflect.DeepEqual(v0.Aliases, []string{"latest"}) {
		t.Fatalf("v0 aliases = %v, want [latest]", v0.Aliases)
	}
	v1 := f.log(t, "resnet", "staging")
	if v1.Version() != "v1" || !reflect.DeepEqual(v1.Aliases, []string{"latest", "staging"}) {
		t.Fatalf("v1 = %s %v", v1.Version(), v1.Aliases)
	}
	for ref, want := range map[string]int64{"latest": v1.ID, "v0": v0.ID, "v1": v1.ID, "staging": v1.ID} {
		got, err := models.ResolveVersion(ctx, f.db, v0.CollectionID, ref)
		if err != nil || got.ID != want {
			t.Fatalf("resolve %s = %+v, %v; want version %d", ref, got, err, want)
		}
	}
	for _, ref := range []string{"v2", "prod", "v99999999999999999999"} {
		if _, err := models.ResolveVersion(ctx, f.db, v0.CollectionID, ref); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("resolve %s: err = %v, want not found", ref, err)
		}
	}
	old, err := models.VersionByID(ctx, f.db, v0.ID)
	if err != nil || slices.Contains(old.Aliases, "latest") {
		t.Fatalf("v0 still has latest: %v (%v)", old.Aliases, err)
	}
	// Adding the alias another version holds moves it.
	if added, err := models.AddAlias(ctx, f.db, v0.ID, "staging", f.user, "org"); err != nil || !added {
		t.Fatalf("move staging: added=%v err=%v", added, err)
	}
	got, err := models.ResolveVersion(ctx, f.db, v0.CollectionID, "staging")
	if err != nil || got.ID != v0.ID {
		t.Fatalf("staging resolves to %+v (%v), want v0", got, err)
	}
	if err := models.RemoveAlias(ctx, f.db, v0.ID, "staging"); err != nil {
		t.Fatal(err)
	}
	if _, err := models.ResolveVersion(ctx, f.db, v0.CollectionID, "staging"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("removed alias still resolves: %v", err)
	}
	if err := models.RemoveAlias(ctx, f.db, v0.ID, "staging"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("removing a missing alias: %v, want not found", err)
	}
}

func TestAliasAndArtifactInputIsValidated(t *testing.T) {
	f := newArtifactFixture(t)
	ctx := context.Background()
	v := f.log(t, "resnet")
	for _, c := range []struct {
		alias, field string
	}{
		{"", "alias"}, {"latest", "alias"}, {"v3", "alias"}, {"has space", "alias"},
		{"a/b", "alias"}, {"prod:1", "alias"}, {string(make([]byte, 129)), "alias"},
	} {
		_, err := models.AddAlias(ctx, f.db, v.ID, c.alias, f.user, "org")
		var ve *models.ValidationError
		if !errors.As(err, &ve) || ve.Field != c.field {
			t.Errorf("alias %q: err = %v, want a validation error on %s", c.alias, err, c.field)
		}
	}
	if err := models.RemoveAlias(ctx, f.db, v.ID, "latest"); err == nil {
		t.Error("removing latest succeeded")
	}
	before := f.count(t, "artifact_versions")
	for _, c := range []struct {
		name  string
		in    models.NewArtifact
		field string
	}{
		{"metadata array", models.NewArtifact{Name: "x", Type: "model", Metadata: json.RawMessage(`[1]`)}, "metadata"},
		{"metadata string", models.NewArtifact{Name: "x", Type: "model", Metadata: json.RawMessage(`"s"`)}, "metadata"},
		{"metadata broken", models.NewArtifact{Name: "x", Type: "model", Metadata: json.RawMessage(`{"a":`)}, "metadata"},
		{"bad name", models.NewArtifact{Name: "my model", Type: "model"}, "name"},
		{"no type", models.NewArtifact{Name: "x"}, "type"},
		{"reserved alias", models.NewArtifact{Name: "x", Type: "model", Aliases: []string{"latest"}}, "aliases"},
		{"bad digest", models.NewArtifact{Name: "x", Type: "model", Digest: "not a digest"}, "digest"},
		{"type mismatch", models.NewArtifact{Name: "resnet", Type: "dataset"}, "type"},
	} {
		_, _, err := models.LogArtifact(ctx, f.db, f.team, f.project, c.in, f.user)
		var ve *models.ValidationError
		if !errors.As(err, &ve) || ve.Field != c.field {
			t.Errorf("%s: err = %v, want a validation error on %s", c.name, err, c.field)
		}
	}
	if after := f.count(t, "artifact_versions"); after != before {
		t.Fatalf("rejected logs saved versions: %d → %d", before, after)
	}
	if n := f.count(t, "artifact_collections"); n != 1 {
		t.Fatalf("rejected logs created collections: %d", n)
	}
}

func TestLogArtifactComputesDigestAndKeepsGivenOne(t *testing.T) {
	f := newArtifactFixture(t)
	ctx := context.Background()
	a := f.log(t, "resnet")
	b := f.log(t, "resnet")
	if len(a.Digest) != 64 || a.Digest != b.Digest {
		t.Fatalf("computed digests %q, %q: want the same sha256 hex for the same content", a.Digest, b.Digest)
	}
	v, _, err := models.LogArtifact(ctx, f.db, f.team, f.project, models.NewArtifact{Name: "resnet", Type: "model", Digest: "sha256:abc"}, f.user)
	if err != nil || v.Digest != "sha256:abc" {
		t.Fatalf("given digest: %+v, %v", v, err)
	}
}

// Every event carries the full snapshot; automatic aliases fire nothing.
func TestArtifactEventsSnapshotTheirVariables(t *testing.T) {
	f := newArtifactFixture(t)
	ctx := context.Background()
	v0 := f.log(t, "resnet")
	v1 := f.log(t, "resnet", "staging")
	if _, err := models.AddAlias(ctx, f.db, v0.ID, "production", f.user, "org"); err != nil {
		t.Fatal(err)
	}
	// Re-adding an alias the version holds changes nothing and fires nothing.
	if added, err := models.AddAlias(ctx, f.db, v0.ID, "production", f.user, "org"); err != nil || added {
		t.Fatalf("re-add: added=%v err=%v", added, err)
	}
	evs := f.events(t)
	type row struct{ typ, versionString, alias string }
	var got []row
	for _, ev := range evs {
		got = append(got, row{ev.Type, ev.Vars.ArtifactVersionString, ev.Vars.Alias})
	}
	want := []row{
		{"CREATE_ARTIFACT", "ml/vision/resnet:v0", ""},
		{"CREATE_ARTIFACT", "ml/vision/resnet:v1", ""},
		{"ADD_ARTIFACT_ALIAS", "ml/vision/resnet:staging", "staging"},
		{"ADD_ARTIFACT_ALIAS", "ml/vision/resnet:production", "production"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("events = %+v, want %+v", got, want)
	}
	ev := evs[1]
	vars := ev.Vars
	if ev.ScopeKind != models.ScopeKindProject || ev.ProjectID == nil || *ev.ProjectID != f.project.ID ||
		ev.RegistryID != nil || ev.VersionID != v1.ID || ev.AuthorID == nil || *ev.AuthorID != f.user.ID {
		t.Fatalf("event scope = %+v", ev)
	}
	if vars.EntityName != "ml" || vars.ProjectName != "vision" || vars.ArtifactCollectionName != "resnet" ||
		vars.ArtifactVersion != models.ArtifactVersionRef(v1.ID) || vars.ArtifactVersionIndex != 1 ||
		vars.EventAuthor != "ada" || vars.EventType != "CREATE_ARTIFACT" {
		t.Fatalf("vars = %+v", vars)
	}
	if string(vars.ArtifactMetadata) != `{"accuracy":0.9}` {
		t.Fatalf("metadata = %s", vars.ArtifactMetadata)
	}
	if evs[3].VersionID != v0.ID || evs[3].Vars.ArtifactVersionIndex != 0 {
		t.Fatalf("alias event is about version %d index %d, want v0", evs[3].VersionID, evs[3].Vars.ArtifactVersionIndex)
	}
}

func TestLinkArtifactMakesRegistryVersionWithRegistryNames(t *testing.T) {
	f := newArtifactFixture(t)
	ctx := context.Background()
	src := f.log(t, "resnet")
	link, err := models.LinkArtifact(ctx, f.db, src.ID, f.registry, models.NewLink{Collection: "classifier", Aliases: []string{"production"}}, f.user, "acme")
	if err != nil {
		t.Fatal(err)
	}
	rv := link.Version
	if !link.Created || rv.Version() != "v0" || rv.SourceVersionID == nil || *rv.SourceVersionID != src.ID ||
		rv.Metadata != src.Metadata || rv.Digest != src.Digest || !reflect.DeepEqual(rv.Aliases, []string{"latest", "production"}) {
		t.Fatalf("registry version = %+v (created %v)", rv, link.Created)
	}
	if link.Scope.Collection.Type != "model" || link.Scope.Collection.RegistryID == nil {
		t.Fatalf("registry collection = %+v", link.Scope.Collection)
	}
	got, err := models.CollectionInRegistry(ctx, f.db, f.registry.ID, "classifier")
	if err != nil || got.ID != rv.CollectionID {
		t.Fatalf("CollectionInRegistry = %+v, %v", got, err)
	}
	_, scope, err := models.VersionScope(ctx, f.db, rv.ID)
	if err != nil || scope.Registry == nil || scope.Registry.ID != f.registry.ID || scope.Project != nil {
		t.Fatalf("VersionScope = %+v, %v", scope, err)
	}
	evs := f.events(t)
	if len(evs) != 3 {
		t.Fatalf("%d events, want CREATE, LINK, ADD_ALIAS", len(evs))
	}
	for i, want := range []struct{ typ, vs, alias string }{
		{"LINK_ARTIFACT", "acme/wandb-registry-models/classifier:v0", ""},
		{"ADD_ARTIFACT_ALIAS", "acme/wandb-registry-models/classifier:production", "production"},
	} {
		ev := evs[i+1]
		if ev.Type != want.typ || ev.Vars.ArtifactVersionString != want.vs || ev.Vars.Alias != want.alias ||
			ev.Vars.EntityName != "acme" || ev.Vars.ProjectName != "wandb-registry-models" ||
			ev.ScopeKind != models.ScopeKindRegistry || ev.RegistryID == nil || *ev.RegistryID != f.registry.ID || ev.ProjectID != nil ||
			ev.Vars.ArtifactVersion != models.ArtifactVersionRef(rv.ID) || string(ev.Vars.ArtifactMetadata) != src.Metadata {
			t.Fatalf("event %d = %+v %+v, want %+v", i, ev, ev.Vars, want)
		}
	}
	// Linking the same version again adds the missing alias only.
	again, err := models.LinkArtifact(ctx, f.db, src.ID, f.registry, models.NewLink{Collection: "classifier", Aliases: []string{"production", "champion"}}, f.user, "acme")
	if err != nil || again.Created || again.Version.ID != rv.ID {
		t.Fatalf("relink = %+v, %v; want the same registry version", again, err)
	}
	evs = f.events(t)
	if len(evs) != 4 || evs[3].Type != "ADD_ARTIFACT_ALIAS" || evs[3].Vars.Alias != "champion" {
		t.Fatalf("relink events: %d, last %+v", len(evs), evs[len(evs)-1].Vars)
	}
	links, err := models.LinksOf(ctx, f.db, src.ID)
	if err != nil || len(links) != 1 || links[0].RegistryName != "models" || links[0].CollectionName != "classifier" || links[0].Version() != "v0" {
		t.Fatalf("LinksOf = %+v, %v", links, err)
	}
	// A registry version is not a link source, and types must match.
	if _, err := models.LinkArtifact(ctx, f.db, rv.ID, f.registry, models.NewLink{Collection: "other"}, f.user, "acme"); err == nil {
		t.Fatal("linking a registry version succeeded")
	}
	ds, _, err := models.LogArtifact(ctx, f.db, f.team, f.project, models.NewArtifact{Name: "imagenet", Type: "dataset"}, f.user)
	if err != nil {
		t.Fatal(err)
	}
	_, err = models.LinkArtifact(ctx, f.db, ds.ID, f.registry, models.NewLink{Collection: "classifier"}, f.user, "acme")
	var ve *models.ValidationError
	if !errors.As(err, &ve) || ve.Field != "collection" {
		t.Fatalf("type mismatch link: %v", err)
	}
	// An alias added on the registry version is a registry event too.
	if _, err := models.AddAlias(ctx, f.db, rv.ID, "staging", f.user, "acme"); err != nil {
		t.Fatal(err)
	}
	evs = f.events(t)
	last := evs[len(evs)-1]
	if last.ScopeKind != models.ScopeKindRegistry || last.Vars.ArtifactVersionString != "acme/wandb-registry-models/classifier:staging" {
		t.Fatalf("registry alias event = %+v", last.Vars)
	}
	// Default collection name: the source's.
	def, err := models.LinkArtifact(ctx, f.db, src.ID, f.registry, models.NewLink{}, f.user, "acme")
	if err != nil || def.Scope.Collection.Name != "resnet" {
		t.Fatalf("default collection link = %+v, %v", def, err)
	}
}

// Events queue the deliveries of matching automations in their transaction.
func TestArtifactEventsQueueMatchingDeliveries(t *testing.T) {
	f := newArtifactFixture(t)
	ctx := context.Background()
	mf := &matchFixture{db: f.db, team: f.team, user: f.user, registry: f.registry}
	create := mf.automation(t, models.Automation{Name: "on create", Enabled: true, ScopeType: models.ScopeProject, ProjectID: &f.project.ID, EventType: models.EventCreateArtifact})
	alias := mf.automation(t, models.Automation{Name: "on prod", Enabled: true, ScopeType: models.ScopeRegistry, RegistryID: &f.registry.ID, EventType: models.EventAddArtifactAlias, AliasRegex: "prod"})
	link := mf.automation(t, models.Automation{Name: "on link", Enabled: true, ScopeType: models.ScopeRegistry, RegistryID: &f.registry.ID, EventType: models.EventLinkArtifact})
	v := f.log(t, "resnet", "prod") // project alias: the registry automation does not match
	if _, err := models.LinkArtifact(ctx, f.db, v.ID, f.registry, models.NewLink{Aliases: []string{"prod"}}, f.user, "org"); err != nil {
		t.Fatal(err)
	}
	var got []int64
	if err := f.db.Table("deliveries").Order("id").Pluck("automation_id", &got).Error; err != nil {
		t.Fatal(err)
	}
	if want := []int64{create.ID, link.ID, alias.ID}; !reflect.DeepEqual(got, want) {
		t.Fatalf("deliveries for automations %v, want %v", got, want)
	}
}

// A change that rolls back leaves no event, no version and no delivery:
// the caller's outer transaction fails, or queueing the deliveries fails
// after the event row was written.
func TestArtifactChangeThatRollsBackLeavesNoEvent(t *testing.T) {
	f := newArtifactFixture(t)
	ctx := context.Background()
	v := f.log(t, "resnet")
	eventsBefore, versionsBefore := f.count(t, "events"), f.count(t, "artifact_versions")
	boom := errors.New("boom")

	err := f.db.Transaction(func(tx *gorm.DB) error {
		if _, _, err := models.LogArtifact(ctx, tx, f.team, f.project, models.NewArtifact{Name: "resnet", Type: "model", Aliases: []string{"prod"}}, f.user); err != nil {
			return err
		}
		if _, err := models.AddAlias(ctx, tx, v.ID, "staging", f.user, "org"); err != nil {
			return err
		}
		if _, err := models.LinkArtifact(ctx, tx, v.ID, f.registry, models.NewLink{}, f.user, "org"); err != nil {
			return err
		}
		var inside int64
		if err := tx.Table("events").Count(&inside).Error; err != nil {
			return err
		}
		if inside != eventsBefore+4 {
			return fmt.Errorf("inside the transaction: %d events, want %d", inside, eventsBefore+4)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("outer transaction: %v", err)
	}
	f.assertUnchanged(t, eventsBefore, versionsBefore)

	// Make queueing deliveries fail after the event insert succeeded.
	if err := f.db.Exec("ALTER TABLE automations RENAME TO automations_away").Error; err != nil {
		t.Fatal(err)
	}
	if _, _, err := models.LogArtifact(ctx, f.db, f.team, f.project, models.NewArtifact{Name: "resnet", Type: "model"}, f.user); err == nil {
		t.Fatal("log succeeded although its deliveries could not be queued")
	}
	if _, err := models.AddAlias(ctx, f.db, v.ID, "staging", f.user, "org"); err == nil {
		t.Fatal("alias succeeded although its deliveries could not be queued")
	}
	if _, err := models.LinkArtifact(ctx, f.db, v.ID, f.registry, models.NewLink{}, f.user, "org"); err == nil {
		t.Fatal("link succeeded although its deliveries could not be queued")
	}
	f.assertUnchanged(t, eventsBefore, versionsBefore)
	if n := f.count(t, "artifact_collections"); n != 1 {
		t.Fatalf("rolled-back link left %d collections", n)
	}
}

func (f *artifactFixture) assertUnchanged(t *testing.T, events, versions int64) {
	t.Helper()
	if n := f.count(t, "events"); n != events {
		t.Fatalf("events %d → %d after a rollback", events, n)
	}
	if n := f.count(t, "artifact_versions"); n != versions {
		t.Fatalf("versions %d → %d after a rollback", versions, n)
	}
	if n := f.count(t, "artifact_aliases"); n != 0 {
		t.Fatalf("%d aliases after a rollback", n)
	}
}

func TestCollectionListings(t *testing.T) {
	f := newArtifactFixture(t)
	ctx := context.Background()
	f.log(t, "resnet")
	f.log(t, "resnet")
	v := f.log(t, "bert")
	if _, err := models.LinkArtifact(ctx, f.db, v.ID, f.registry, models.NewLink{}, f.user, "org"); err != nil {
		t.Fatal(err)
	}
	cs, err := models.CollectionsOfProject(ctx, f.db, f.project.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].Name != "bert" || cs[0].Versions != 1 || cs[1].Name != "resnet" || cs[1].Versions != 2 {
		t.Fatalf("project collections = %+v", cs)
	}
	rs, err := models.CollectionsOfRegistry(ctx, f.db, f.registry.ID)
	if err != nil || len(rs) != 1 || rs[0].Name != "bert" || rs[0].Versions != 1 {
		t.Fatalf("registry collections = %+v, %v", rs, err)
	}
	vs, err := models.VersionsOf(ctx, f.db, cs[1].ID)
	if err != nil || len(vs) != 2 || vs[0].Version() != "v1" || vs[0].AuthorName != "ada" || !slices.Contains(vs[0].Aliases, "latest") || slices.Contains(vs[1].Aliases, "latest") {
		t.Fatalf("versions = %+v, %v", vs, err)
	}
}
