package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/web/webtest"
)

// artifactFixture is teamFixture plus project ml/vision with version
// resnet:v0 (alias staging) linked into registry models as classifier:v0.
type artifactFixture struct {
	*teamFixture
	project  *models.Project
	version  *models.ArtifactVersion
	regVer   *models.ArtifactVersion
	keys     map[string]string
	registry *models.Registry
}

func newArtifactFixture(t *testing.T) *artifactFixture {
	t.Helper()
	f := &artifactFixture{teamFixture: newTeamFixture(t), keys: map[string]string{}}
	ctx := context.Background()
	var err error
	if f.project, err = models.CreateProject(ctx, f.app.DB, f.team, "vision", f.admin); err != nil {
		t.Fatal(err)
	}
	if f.version, _, err = models.LogArtifact(ctx, f.app.DB, f.team, f.project, models.NewArtifact{
		Name: "resnet", Type: "model", Metadata: []byte(`{"accuracy": 0.91}`), Aliases: []string{"staging"},
	}, f.admin); err != nil {
		t.Fatal(err)
	}
	link, err := models.LinkArtifact(ctx, f.app.DB, f.version.ID, f.teamFixture.registry, models.NewLink{Collection: "classifier"}, f.admin, "org")
	if err != nil {
		t.Fatal(err)
	}
	f.regVer, f.registry = link.Version, f.teamFixture.registry
	for _, u := range []*models.User{f.site, f.admin, f.member, f.viewer, f.other} {
		f.keys[u.Email] = f.app.APIKey(t, u)
	}
	return f
}

func (f *artifactFixture) api(t *testing.T, as, method, path string, body any) (int, map[string]any) {
	t.Helper()
	return f.app.API(t, f.keys[as], method, path, body)
}

// state is everything an artifact request can change, to compare before
// and after a refused one.
func (f *artifactFixture) state(t *testing.T) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, table := range []string{"projects", "artifact_collections", "artifact_versions", "artifact_aliases", "events"} {
		var n int64
		if err := f.app.DB.Table(table).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

func id(v int64) string { return fmt.Sprint(v) }

func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// The API of §11 end to end: projects, logging, aliases, links, listings
// and the events each change wrote.
func TestAPIArtifactJourney(t *testing.T) {
	f := newArtifactFixture(t)
	const m = "member@example.com"
	status, body := f.api(t, m, "POST", "/api/v1/teams/ml/projects", map[string]string{"name": "nlp"})
	if status != 201 || body["name"] != "nlp" || body["team"] != "ml" {
		t.Fatalf("create project: %d %v", status, body)
	}
	status, body = f.api(t, "viewer@example.com", "GET", "/api/v1/teams/ml/projects", nil)
	if status != 200 || len(body["projects"].([]any)) != 2 {
		t.Fatalf("list projects: %d %v", status, body)
	}

	status, body = f.api(t, m, "POST", "/api/v1/projects/ml/nlp/artifacts", map[string]any{
		"name": "bert", "type": "model", "metadata": map[string]any{"f1": 0.8, "config": map[string]any{"lr": 0.01}}, "aliases": []string{"candidate"},
	})
	if status != 201 || body["version"] != "v0" || body["version_string"] != "ml/nlp/bert:v0" || body["collection"] != "bert" ||
		!reflect.DeepEqual(strs(body["aliases"]), []string{"latest", "candidate"}) || len(body["digest"].(string)) != 64 {
		t.Fatalf("log v0: %d %v", status, body)
	}
	status, body = f.api(t, m, "POST", "/api/v1/projects/ml/nlp/artifacts", map[string]any{"name": "bert", "type": "model", "digest": "sha256:1234"})
	if status != 201 || body["version"] != "v1" || body["digest"] != "sha256:1234" {
		t.Fatalf("log v1: %d %v", status, body)
	}
	v1 := id(int64(body["id"].(float64)))

	status, body = f.api(t, "viewer@example.com", "GET", "/api/v1/artifacts/"+v1, nil)
	if status != 200 || body["version_string"] != "ml/nlp/bert:v1" || !reflect.DeepEqual(strs(body["aliases"]), []string{"latest"}) ||
		body["author"] != "member" || body["type"] != "model" || body["project"] != "nlp" || body["entity"] != "ml" {
		t.Fatalf("get v1: %d %v", status, body)
	}
	status, body = f.api(t, m, "POST", "/api/v1/artifacts/"+v1+"/aliases", map[string]string{"alias": "candidate"})
	if status != 201 || !reflect.DeepEqual(strs(body["aliases"]), []string{"latest", "candidate"}) {
		t.Fatalf("move alias: %d %v", status, body)
	}
	if status, body = f.api(t, m, "POST", "/api/v1/artifacts/"+v1+"/aliases", map[string]string{"alias": "candidate"}); status != 200 {
		t.Fatalf("re-add alias: %d %v", status, body)
	}
	if status, body = f.api(t, m, "DELETE", "/api/v1/artifacts/"+v1+"/aliases/candidate", nil); status != 204 {
		t.Fatalf("remove alias: %d %v", status, body)
	}
	if status, body = f.api(t, m, "DELETE", "/api/v1/artifacts/"+v1+"/aliases/candidate", nil); status != 404 || body["field"] != "alias" {
		t.Fatalf("remove missing alias: %d %v", status, body)
	}

	status, body = f.api(t, m, "POST", "/api/v1/artifacts/"+v1+"/links", map[string]any{"registry": "models", "collection": "text-classifier", "aliases": []string{"production"}})
	if status != 201 || body["version"] != "v0" || body["version_string"] != "org/wandb-registry-models/text-classifier:v0" ||
		body["registry"] != "models" || !reflect.DeepEqual(strs(body["aliases"]), []string{"latest", "production"}) {
		t.Fatalf("link: %d %v", status, body)
	}
	rv := id(int64(body["id"].(float64)))
	if status, body = f.api(t, m, "POST", "/api/v1/artifacts/"+v1+"/links", map[string]any{"registry": "models", "collection": "text-classifier"}); status != 200 || id(int64(body["id"].(float64))) != rv {
		t.Fatalf("relink: %d %v", status, body)
	}
	// Registry versions take the aliases route too.
	if status, body = f.api(t, m, "POST", "/api/v1/artifacts/"+rv+"/aliases", map[string]string{"alias": "champion"}); status != 201 {
		t.Fatalf("registry alias: %d %v", status, body)
	}
	status, body = f.api(t, "viewer@example.com", "GET", "/api/v1/artifacts/"+v1, nil)
	if links := body["links"].([]any); status != 200 || len(links) != 1 || links[0].(map[string]any)["collection"] != "text-classifier" {
		t.Fatalf("links of v1: %d %v", status, body)
	}

	status, body = f.api(t, "viewer@example.com", "GET", "/api/v1/projects/ml/nlp/artifacts", nil)
	if cs := body["collections"].([]any); status != 200 || len(cs) != 1 || cs[0].(map[string]any)["versions"] != float64(2) {
		t.Fatalf("collections: %d %v", status, body)
	}
	status, body = f.api(t, "viewer@example.com", "GET", "/api/v1/projects/ml/nlp/artifacts/bert/versions", nil)
	if vs := body["versions"].([]any); status != 200 || len(vs) != 2 || vs[0].(map[string]any)["version"] != "v1" {
		t.Fatalf("versions: %d %v", status, body)
	}
	if status, body = f.api(t, "viewer@example.com", "GET", "/api/v1/projects/ml/nlp/artifacts/nope/versions", nil); status != 404 {
		t.Fatalf("versions of a missing collection: %d %v", status, body)
	}
	status, body = f.api(t, "viewer@example.com", "GET", "/api/v1/registries/models/collections", nil)
	if cs := body["collections"].([]any); status != 200 || len(cs) != 2 {
		t.Fatalf("registry collections: %d %v", status, body)
	}
	status, body = f.api(t, "viewer@example.com", "GET", "/api/v1/registries/models/collections/text-classifier/versions", nil)
	if vs := body["versions"].([]any); status != 200 || len(vs) != 1 || vs[0].(map[string]any)["source_id"] != body["versions"].([]any)[0].(map[string]any)["source_id"] {
		t.Fatalf("registry versions: %d %v", status, body)
	}

	status, body = f.api(t, "viewer@example.com", "GET", "/api/v1/projects/ml/nlp/events", nil)
	if got := eventSummary(body); status != 200 || !reflect.DeepEqual(got, []string{
		"ADD_ARTIFACT_ALIAS ml/nlp/bert:candidate", "CREATE_ARTIFACT ml/nlp/bert:v1",
		"ADD_ARTIFACT_ALIAS ml/nlp/bert:candidate", "CREATE_ARTIFACT ml/nlp/bert:v0",
	}) {
		t.Fatalf("project events: %d %v", status, got)
	}
	status, body = f.api(t, "viewer@example.com", "GET", "/api/v1/registries/models/events?limit=3", nil)
	if got := eventSummary(body); status != 200 || !reflect.DeepEqual(got, []string{
		"ADD_ARTIFACT_ALIAS org/wandb-registry-models/text-classifier:champion",
		"ADD_ARTIFACT_ALIAS org/wandb-registry-models/text-classifier:production",
		"LINK_ARTIFACT org/wandb-registry-models/text-classifier:v0",
	}) {
		t.Fatalf("registry events: %d %v", status, got)
	}
	ev := body["events"].([]any)[2].(map[string]any)["vars"].(map[string]any)
	if ev["entity_name"] != "org" || ev["project_name"] != "wandb-registry-models" || ev["event_author"] != "member" ||
		ev["artifact_version_index"] != float64(0) || !strings.HasPrefix(ev["artifact_version"].(string), "wandb-artifact://_id/") {
		t.Fatalf("LINK_ARTIFACT vars: %v", ev)
	}
}

func eventSummary(body map[string]any) []string {
	evs, _ := body["events"].([]any)
	out := []string{}
	for _, e := range evs {
		m := e.(map[string]any)
		out = append(out, m["type"].(string)+" "+m["vars"].(map[string]any)["artifact_version_string"].(string))
	}
	return out
}

// Forty clients log versions of a new collection through the real server
// at the same moment: every request succeeds and the versions are v0..v39.
func TestAPIConcurrentLogsGetConsecutiveVersions(t *testing.T) {
	f := newArtifactFixture(t)
	const n = 40
	var wg sync.WaitGroup
	type result struct {
		status  int
		version string
	}
	results := make(chan result, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, body := f.api(t, "member@example.com", "POST", "/api/v1/projects/ml/vision/artifacts", map[string]any{"name": "yolo", "type": "model"})
			v, _ := body["version"].(string)
			results <- result{status, v}
		}()
	}
	wg.Wait()
	close(results)
	var got []string
	for r := range results {
		if r.status != 201 {
			t.Fatalf("concurrent log: status %d", r.status)
		}
		got = append(got, r.version)
	}
	want := make([]string, n)
	for i := range n {
		want[i] = fmt.Sprintf("v%d", i)
	}
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("versions answered = %v, want v0..v%d each once", got, n-1)
	}
	var indexes []int
	if err := f.app.DB.Table("artifact_versions v").Joins("JOIN artifact_collections c ON c.id = v.collection_id").
		Where("c.name = ?", "yolo").Order("v.version_index").Pluck("v.version_index", &indexes).Error; err != nil {
		t.Fatal(err)
	}
	for i, idx := range indexes {
		if idx != i {
			t.Fatalf("stored indexes = %v, want 0..%d", indexes, n-1)
		}
	}
	if len(indexes) != n {
		t.Fatalf("%d stored versions, want %d", len(indexes), n)
	}
}

// Every artifact request §9 forbids, sent directly through the API and the
// forms: each answers 403 (or 404 where the user cannot see the project or
// registry) and changes nothing.
func TestForbiddenArtifactRequestsChangeNothing(t *testing.T) {
	f := newArtifactFixture(t)
	v, rv := id(f.version.ID), id(f.regVer.ID)
	// A registry the member can only view, and a team project the registry
	// member cannot see.
	ctx := context.Background()
	if _, err := models.CreateRegistry(ctx, f.app.DB, "datasets", "", f.admin); err != nil {
		t.Fatal(err)
	}
	if _, err := models.AddRegistryMember(ctx, f.app.DB, 2, "member@example.com", models.RoleViewer); err != nil {
		t.Fatal(err)
	}
	if _, err := models.AddRegistryMember(ctx, f.app.DB, f.registry.ID, "other@example.com", models.RoleMember); err != nil {
		t.Fatal(err)
	}
	apis := []struct {
		as, method, path string
		body             any
		wantStatus       int
	}{
		{"viewer@example.com", "POST", "/api/v1/teams/ml/projects", map[string]string{"name": "p2"}, 403},
		{"other@example.com", "POST", "/api/v1/teams/ml/projects", map[string]string{"name": "p2"}, 404},
		{"other@example.com", "GET", "/api/v1/teams/ml/projects", nil, 404},
		{"viewer@example.com", "POST", "/api/v1/projects/ml/vision/artifacts", map[string]string{"name": "resnet", "type": "model"}, 403},
		{"other@example.com", "POST", "/api/v1/projects/ml/vision/artifacts", map[string]string{"name": "resnet", "type": "model"}, 404},
		{"other@example.com", "GET", "/api/v1/projects/ml/vision/artifacts", nil, 404},
		{"other@example.com", "GET", "/api/v1/projects/ml/vision/events", nil, 404},
		{"other@example.com", "GET", "/api/v1/projects/ml/vision/artifacts/resnet/versions", nil, 404},
		{"other@example.com", "GET", "/api/v1/artifacts/" + v, nil, 404},
		{"viewer@example.com", "POST", "/api/v1/artifacts/" + v + "/aliases", map[string]string{"alias": "prod"}, 403},
		{"other@example.com", "POST", "/api/v1/artifacts/" + v + "/aliases", map[string]string{"alias": "prod"}, 404},
		{"viewer@example.com", "DELETE", "/api/v1/artifacts/" + v + "/aliases/staging", nil, 403},
		{"viewer@example.com", "POST", "/api/v1/artifacts/" + rv + "/aliases", map[string]string{"alias": "prod"}, 403},
		{"viewer@example.com", "POST", "/api/v1/artifacts/" + v + "/links", map[string]string{"registry": "models"}, 403},
		{"member@example.com", "POST", "/api/v1/artifacts/" + v + "/links", map[string]string{"registry": "datasets"}, 403},
		{"admin@example.com", "POST", "/api/v1/artifacts/" + v + "/links", map[string]string{"registry": "nope"}, 404},
		{"other@example.com", "POST", "/api/v1/artifacts/" + v + "/links", map[string]string{"registry": "models"}, 404},
		{"member@example.com", "GET", "/api/v1/registries/datasets/events", nil, 200},
		{"viewer@example.com", "GET", "/api/v1/registries/datasets/collections", nil, 404},
		{"viewer@example.com", "GET", "/api/v1/registries/datasets/events", nil, 404},
		{"member@example.com", "GET", "/api/v1/artifacts/999999", nil, 404},
		{"member@example.com", "GET", "/api/v1/artifacts/abc", nil, 404},
	}
	before := f.state(t)
	for _, c := range apis {
		t.Run("api "+c.as+" "+c.method+" "+c.path, func(t *testing.T) {
			status, body := f.api(t, c.as, c.method, c.path, c.body)
			if status != c.wantStatus {
				t.Fatalf("status %d, want %d: %v", status, c.wantStatus, body)
			}
			if status >= 400 && (body["error"] == nil || body["error"] == "") {
				t.Fatalf("no error message in %v", body)
			}
		})
	}
	base := "/projects/ml/vision/artifacts/resnet/v0"
	regBase := "/registries/models/collections/classifier/v0"
	forms := []struct {
		as, path   string
		values     url.Values
		wantStatus int
	}{
		{"viewer@example.com", "/projects", url.Values{"team": {"ml"}, "name": {"p2"}}, 403},
		{"other@example.com", "/projects", url.Values{"team": {"ml"}, "name": {"p2"}}, 404},
		{"viewer@example.com", base + "/aliases", url.Values{"alias": {"prod"}}, 403},
		{"other@example.com", base + "/aliases", url.Values{"alias": {"prod"}}, 404},
		{"viewer@example.com", base + "/aliases/staging/remove", url.Values{}, 403},
		{"viewer@example.com", base + "/links", url.Values{"registry": {"models"}, "collection": {"x"}}, 403},
		{"member@example.com", base + "/links", url.Values{"registry": {"datasets"}, "collection": {"x"}}, 403},
		{"other@example.com", base + "/links", url.Values{"registry": {"models"}, "collection": {"x"}}, 404},
		{"viewer@example.com", regBase + "/aliases", url.Values{"alias": {"prod"}}, 403},
		{"member@example.com", "/registries/datasets/collections/x/v0/aliases", url.Values{"alias": {"prod"}}, 403},
	}
	for _, c := range forms {
		t.Run("form "+c.as+" "+c.path, func(t *testing.T) {
			s := f.app.SignInHTTP(t, c.as)
			if status, body := s.PostForm(t, c.path, c.values); status != c.wantStatus {
				t.Fatalf("status %d, want %d: %s", status, c.wantStatus, body)
			}
		})
	}
	pages := []struct {
		as, path   string
		wantStatus int
	}{
		{"other@example.com", "/projects/ml/vision", 404},
		{"other@example.com", "/projects/ml/vision/events", 404},
		{"other@example.com", "/projects/ml/vision/automations", 404},
		{"other@example.com", base, 404},
		{"viewer@example.com", "/registries/datasets", 404},
		{"viewer@example.com", "/projects/ml/nope", 404},
		{"viewer@example.com", "/projects/ml/vision/artifacts/nope", 404},
		{"viewer@example.com", "/projects/ml/vision/artifacts/resnet/v7", 404},
		{"viewer@example.com", base, 200},
		{"viewer@example.com", "/projects/ml/vision/artifacts/resnet/staging", 200},
		{"viewer@example.com", regBase, 200},
	}
	for _, c := range pages {
		t.Run("page "+c.as+" "+c.path, func(t *testing.T) {
			s := f.app.SignInHTTP(t, c.as)
			if status, body := s.Get(t, c.path); status != c.wantStatus {
				t.Fatalf("status %d, want %d: %s", status, c.wantStatus, body)
			}
		})
	}
	if after := f.state(t); !reflect.DeepEqual(after, before) {
		t.Fatalf("refused requests changed the database: %v → %v", before, after)
	}
}

// Bad input gets a clear error naming the field, and nothing is saved.
func TestAPIArtifactBadInputIsRefusedClearly(t *testing.T) {
	f := newArtifactFixture(t)
	v := id(f.version.ID)
	big := `{"name": "x", "type": "model", "metadata": {"blob": "` + strings.Repeat("a", 1100000) + `"}}`
	cases := []struct {
		name, method, path string
		body               any
		wantStatus         int
		wantField, wantMsg string
	}{
		{"project name", "POST", "/api/v1/teams/ml/projects", map[string]string{"name": "my project"}, 422, "name", "letters, digits"},
		{"duplicate project", "POST", "/api/v1/teams/ml/projects", map[string]string{"name": "vision"}, 409, "name", "already has a project"},
		{"unknown project", "POST", "/api/v1/projects/ml/nope/artifacts", map[string]string{"name": "x", "type": "model"}, 404, "", "No such project"},
		{"unknown team", "POST", "/api/v1/projects/nope/vision/artifacts", map[string]string{"name": "x", "type": "model"}, 404, "", ""},
		{"collection name", "POST", "/api/v1/projects/ml/vision/artifacts", map[string]string{"name": "a/b", "type": "model"}, 422, "name", "letters, digits"},
		{"missing type", "POST", "/api/v1/projects/ml/vision/artifacts", map[string]string{"name": "x"}, 422, "type", "required"},
		{"type mismatch", "POST", "/api/v1/projects/ml/vision/artifacts", map[string]string{"name": "resnet", "type": "dataset"}, 422, "type", "holds model artifacts"},
		{"metadata array", "POST", "/api/v1/projects/ml/vision/artifacts", map[string]any{"name": "x", "type": "model", "metadata": []int{1}}, 422, "metadata", "JSON object"},
		{"metadata string", "POST", "/api/v1/projects/ml/vision/artifacts", map[string]any{"name": "x", "type": "model", "metadata": "acc"}, 422, "metadata", "JSON object"},
		{"aliases not a list", "POST", "/api/v1/projects/ml/vision/artifacts", map[string]any{"name": "x", "type": "model", "aliases": "prod"}, 400, "aliases", "an array"},
		{"unknown field", "POST", "/api/v1/projects/ml/vision/artifacts", map[string]any{"name": "x", "type": "model", "alias": "prod"}, 400, "alias", "unknown field"},
		{"not JSON", "POST", "/api/v1/projects/ml/vision/artifacts", "{name:", 400, "", "not valid JSON"},
		{"too large", "POST", "/api/v1/projects/ml/vision/artifacts", big, 413, "", "larger than"},
		{"bad alias at log", "POST", "/api/v1/projects/ml/vision/artifacts", map[string]any{"name": "x", "type": "model", "aliases": []string{"prod uction"}}, 422, "aliases", "not a valid alias"},
		{"invalid alias", "POST", "/api/v1/artifacts/" + v + "/aliases", map[string]string{"alias": "prod/1"}, 422, "alias", "letters, digits"},
		{"reserved alias", "POST", "/api/v1/artifacts/" + v + "/aliases", map[string]string{"alias": "latest"}, 422, "alias", "set automatically"},
		{"version alias", "POST", "/api/v1/artifacts/" + v + "/aliases", map[string]string{"alias": "v12"}, 422, "alias", "set automatically"},
		{"empty alias", "POST", "/api/v1/artifacts/" + v + "/aliases", map[string]string{}, 422, "alias", "required"},
		{"remove latest", "DELETE", "/api/v1/artifacts/" + v + "/aliases/latest", nil, 422, "alias", "automatically"},
		{"link without registry", "POST", "/api/v1/artifacts/" + v + "/links", map[string]string{}, 422, "registry", "required"},
		{"link bad collection", "POST", "/api/v1/artifacts/" + v + "/links", map[string]string{"registry": "models", "collection": "a b"}, 422, "collection", "letters, digits"},
		{"link registry version", "POST", "/api/v1/artifacts/" + id(f.regVer.ID) + "/links", map[string]string{"registry": "models"}, 422, "id", "registry version"},
		{"bad event limit", "GET", "/api/v1/projects/ml/vision/events?limit=0", nil, 400, "limit", "1 to 500"},
	}
	before := f.state(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := f.api(t, "admin@example.com", c.method, c.path, c.body)
			msg, _ := body["error"].(string)
			field, _ := body["field"].(string)
			if status != c.wantStatus || field != c.wantField || !strings.Contains(msg, c.wantMsg) {
				t.Fatalf("got %d field=%q %q, want %d field=%q containing %q", status, field, msg, c.wantStatus, c.wantField, c.wantMsg)
			}
		})
	}
	if after := f.state(t); !reflect.DeepEqual(after, before) {
		t.Fatalf("refused requests changed the database: %v → %v", before, after)
	}
}

// Forms re-render with the message beside the field and the input kept.
func TestArtifactFormErrorsStayBesideTheField(t *testing.T) {
	f := newArtifactFixture(t)
	s := f.app.SignInHTTP(t, "member@example.com")
	base := "/projects/ml/vision/artifacts/resnet/v0"
	before := f.state(t)
	cases := []struct {
		path       string
		values     url.Values
		wantStatus int
		wantText   []string
	}{
		{base + "/aliases", url.Values{"alias": {"bad alias"}}, 422, []string{"not a valid alias", `value="bad alias"`}},
		{base + "/aliases", url.Values{"alias": {"latest"}}, 422, []string{"set automatically"}},
		{base + "/links", url.Values{"registry": {"nope"}, "collection": {"c"}}, 404, []string{"no registry named nope"}},
		{base + "/links", url.Values{"registry": {"models"}, "collection": {"a b"}}, 422, []string{"is not a valid name", `value="a b"`}},
		{base + "/links", url.Values{"registry": {"models"}, "collection": {"c"}, "aliases": {"ok, latest"}}, 422, []string{"set automatically", `value="ok, latest"`}},
		{"/projects", url.Values{"team": {"ml"}, "name": {"bad name"}}, 422, []string{"is not a valid name", `value="bad name"`}},
	}
	for _, c := range cases {
		status, body := s.PostForm(t, c.path, c.values)
		ok := status == c.wantStatus && strings.Contains(body, `class="field-error"`)
		for _, w := range c.wantText {
			ok = ok && strings.Contains(body, w)
		}
		if !ok {
			t.Errorf("POST %s %v: status %d, want %d with %q beside the field", c.path, c.values, status, c.wantStatus, c.wantText)
		}
	}
	if after := f.state(t); !reflect.DeepEqual(after, before) {
		t.Fatalf("refused forms changed the database: %v → %v", before, after)
	}
	// The same forms succeed with good input.
	if status, body := s.PostForm(t, base+"/aliases", url.Values{"alias": {"production"}}); status != http.StatusSeeOther {
		t.Fatalf("add alias: %d %s", status, body)
	}
	if status, body := s.PostForm(t, base+"/aliases/production/remove", url.Values{}); status != http.StatusSeeOther {
		t.Fatalf("remove alias: %d %s", status, body)
	}
	if status, body := s.PostForm(t, "/projects", url.Values{"team": {"ml"}, "name": {"speech"}}); status != http.StatusSeeOther {
		t.Fatalf("create project: %d %s", status, body)
	}
	if _, err := models.ProjectByName(context.Background(), f.app.DB, f.team.ID, "speech"); err != nil {
		t.Fatalf("project not created: %v", err)
	}
}

// A user logs a version through the API, finds it on its page, adds an
// alias in the browser, links it into a registry, sees it on the registry
// collection page, and sees the events on the Events pages.
func TestBrowserArtifactJourney(t *testing.T) {
	f := newArtifactFixture(t)
	status, body := f.api(t, "member@example.com", "POST", "/api/v1/projects/ml/vision/artifacts", `{"name": "detector", "type": "model", "metadata": {"mAP": 0.42, "note": "<b>not html</b>"}}`)
	if status != 201 {
		t.Fatalf("log: %d %v", status, body)
	}
	app := f.app
	ctx := webtest.NewBrowser(t)
	app.SignIn(t, ctx, "member@example.com")
	text := func(sel chromedp.CSS) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return v
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(app.URL+"/projects"),
		webtest.ClickNav(chromedp.CSS(`[data-testid="projects"] a[href="/projects/ml/vision"]`)),
		chromedp.WaitVisible(webtest.TestID("project-sidebar")),
		webtest.ClickNav(webtest.TestID("nav-collection-detector")),
		chromedp.WaitVisible(webtest.TestID("version-v0")),
		webtest.ClickNav(chromedp.CSS(`[data-testid="version-v0"] a`)),
		chromedp.WaitVisible(webtest.TestID("metadata")),
	)
	if err != nil {
		t.Fatalf("find the version: %v", err)
	}
	metadata, versionString := text(webtest.TestID("metadata")), text(webtest.TestID("version-string"))
	if !strings.Contains(metadata, `"mAP": 0.42`) || !strings.Contains(metadata, "<b>not html</b>") || versionString != "ml/vision/detector:v0" {
		t.Fatalf("version page shows %q / %q", metadata, versionString)
	}

	// A bad alias shows its error beside the field; a good one is added.
	aliasError := chromedp.CSS(`[data-testid="add-alias-form"] .field-error`)
	err = chromedp.Do(ctx,
		chromedp.SendKeys(webtest.TestID("field-alias"), "not valid"),
		webtest.ClickNav(webtest.TestID("add-alias")),
		chromedp.WaitVisible(aliasError),
	)
	if err != nil {
		t.Fatalf("submit a bad alias: %v", err)
	}
	if msg := text(aliasError); !strings.Contains(msg, "not a valid alias") {
		t.Fatalf("alias error = %q", msg)
	}
	err = chromedp.Do(ctx,
		chromedp.Clear(webtest.TestID("field-alias")),
		chromedp.SendKeys(webtest.TestID("field-alias"), "production"),
		webtest.ClickNav(webtest.TestID("add-alias")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="version"] [data-testid="alias-production"]`)),
	)
	if err != nil {
		t.Fatalf("add alias in the browser: %v", err)
	}

	err = chromedp.Do(ctx,
		chromedp.SetValue(webtest.TestID("select-registry"), "models"),
		chromedp.Clear(webtest.TestID("field-collection")),
		chromedp.SendKeys(webtest.TestID("field-collection"), "detectors"),
		chromedp.SendKeys(webtest.TestID("field-aliases"), "champion"),
		webtest.ClickNav(webtest.TestID("link")),
		chromedp.WaitVisible(webtest.TestID("source")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="version"] [data-testid="alias-champion"]`)),
	)
	if err != nil {
		t.Fatalf("link in the browser: %v", err)
	}
	if vs, src := text(webtest.TestID("version-string")), text(webtest.TestID("source")); vs != "org/wandb-registry-models/detectors:v0" || src != "ml/vision/detector:v0" {
		t.Fatalf("registry version page: %q from %q", vs, src)
	}

	err = chromedp.Do(ctx,
		chromedp.Navigate(app.URL+"/registries/models"),
		chromedp.WaitVisible(webtest.TestID("collection-detectors")),
	)
	if err != nil {
		t.Fatalf("registry page: %v", err)
	}
	collections := text(webtest.TestID("registry-collections"))
	err = chromedp.Do(ctx,
		webtest.ClickNav(chromedp.CSS(`[data-testid="collection-detectors"] a`)),
		chromedp.WaitVisible(webtest.TestID("collection-automations")),
	)
	if err != nil {
		t.Fatalf("registry collection page: %v", err)
	}
	versions := text(webtest.TestID("version-v0"))
	if !strings.Contains(collections, "classifier") || !strings.Contains(versions, "champion") || !strings.Contains(versions, "latest") {
		t.Fatalf("registry shows %q, versions %q", collections, versions)
	}

	if err := chromedp.Do(ctx,
		chromedp.Navigate(app.URL+"/projects/ml/vision"),
		webtest.ClickNav(webtest.TestID("nav-events")),
		chromedp.WaitVisible(webtest.TestID("events")),
	); err != nil {
		t.Fatalf("project events page: %v", err)
	}
	projectEvents := text(webtest.TestID("events"))
	if err := chromedp.Do(ctx,
		chromedp.Navigate(app.URL+"/registries/models"),
		webtest.ClickNav(webtest.TestID("tab-events")),
		chromedp.WaitVisible(webtest.TestID("events")),
	); err != nil {
		t.Fatalf("registry events page: %v", err)
	}
	registryEvents := text(webtest.TestID("events"))
	for _, want := range []string{"CREATE_ARTIFACT", "ml/vision/detector:v0", "ADD_ARTIFACT_ALIAS", "ml/vision/detector:production", "member"} {
		if !strings.Contains(projectEvents, want) {
			t.Errorf("project events lack %q: %s", want, projectEvents)
		}
	}
	for _, want := range []string{"LINK_ARTIFACT", "org/wandb-registry-models/detectors:v0", "org/wandb-registry-models/detectors:champion"} {
		if !strings.Contains(registryEvents, want) {
			t.Errorf("registry events lack %q: %s", want, registryEvents)
		}
	}
}

// Each project and registry screen shows its parts, and write controls only
// to those who may use them.
func TestProjectAndRegistryScreensShowTheirParts(t *testing.T) {
	f := newArtifactFixture(t)
	viewer, member := f.app.SignInHTTP(t, "viewer@example.com"), f.app.SignInHTTP(t, "member@example.com")
	base := "/projects/ml/vision/artifacts/resnet/v0"
	cases := []struct {
		s          *webtest.Session
		path       string
		want, lack []string
	}{
		{viewer, "/projects", []string{`data-testid="project-ml-vision"`}, []string{`data-testid="new-project-form"`}},
		{member, "/projects", []string{`data-testid="new-project-form"`, `<option value="ml"`}, nil},
		{viewer, "/projects/ml/vision", []string{`data-testid="project-sidebar"`, `data-testid="collection-resnet"`, `data-testid="nav-automations"`, `data-testid="nav-events"`}, nil},
		{viewer, "/projects/ml/vision/automations", []string{`data-testid="project-sidebar"`, "No automations yet"}, nil},
		{viewer, "/projects/ml/vision/events", []string{`data-testid="events"`, "ml/vision/resnet:staging"}, nil},
		{viewer, "/projects/ml/vision/artifacts/resnet", []string{`data-testid="version-v0"`, `data-testid="alias-staging"`, `data-testid="alias-latest"`}, nil},
		{viewer, base, []string{`data-testid="metadata"`, "&#34;accuracy&#34;: 0.91", "models/classifier:v0"}, []string{`data-testid="add-alias-form"`, `data-testid="link-form"`, `data-testid="remove-alias-staging"`}},
		{member, base, []string{`data-testid="add-alias-form"`, `data-testid="link-form"`, `<option value="models"`, `data-testid="remove-alias-staging"`, `value="resnet"`}, []string{`data-testid="remove-alias-latest"`}},
		{viewer, "/registries/models", []string{`data-testid="registry-collections"`, `data-testid="collection-classifier"`, `data-testid="tab-automations"`}, nil},
		{viewer, "/registries/models/automations", []string{`data-testid="registry-tabs"`, "No automations yet"}, nil},
		{viewer, "/registries/models/events", []string{"LINK_ARTIFACT", "org/wandb-registry-models/classifier:v0"}, nil},
		{viewer, "/registries/models/members", []string{`data-testid="members-section"`}, nil},
		{viewer, "/registries/models/collections/classifier", []string{`data-testid="collection-automations"`, `data-testid="version-v0"`}, nil},
		{viewer, "/registries/models/collections/classifier/latest", []string{`data-testid="source"`, "ml/vision/resnet:v0"}, []string{`data-testid="add-alias-form"`, `data-testid="link-form"`}},
		{member, "/registries/models/collections/classifier/v0", []string{`data-testid="add-alias-form"`}, []string{`data-testid="link-form"`}},
	}
	for _, c := range cases {
		status, body := c.s.Get(t, c.path)
		if status != 200 {
			t.Errorf("GET %s: %d", c.path, status)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s lacks %s", c.path, w)
			}
		}
		for _, l := range c.lack {
			if strings.Contains(body, l) {
				t.Errorf("GET %s shows %s", c.path, l)
			}
		}
	}
	// A registry member adds an alias on a registry version page.
	if status, body := member.PostForm(t, "/registries/models/collections/classifier/v0/aliases", url.Values{"alias": {"production"}}); status != http.StatusSeeOther {
		t.Fatalf("registry alias form: %d %s", status, body)
	}
	if _, body := member.Get(t, "/registries/models/collections/classifier/v0"); !strings.Contains(body, `data-testid="alias-production"`) || !strings.Contains(body, "Alias production added to v0.") {
		t.Fatal("registry version page lacks the added alias and its flash")
	}
}
