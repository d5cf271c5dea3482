package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/automations-dev/automations/web/webtest"
)

// Creating a team, registry, project or collection whose name differs from
// an existing one only in case answers 409 on the name field (API) or
// re-renders the form with the message beside the field, and stores
// nothing; lookups by name stay exact.
func TestNamesDifferingOnlyInCaseConflict(t *testing.T) {
	app := webtest.Start(t, webtest.WithoutWorker())
	admin := app.User(t, "admin@example.com", true)
	key := app.APIKey(t, admin)
	must := func(want int, method, path string, body any) map[string]any {
		t.Helper()
		status, out := app.API(t, key, method, path, body)
		if status != want {
			t.Fatalf("%s %s: %d %v, want %d", method, path, status, out, want)
		}
		return out
	}
	must(http.StatusCreated, "POST", "/api/v1/teams", map[string]any{"name": "ml"})
	must(http.StatusCreated, "POST", "/api/v1/registries", map[string]any{"name": "Models"})
	must(http.StatusCreated, "POST", "/api/v1/teams/ml/projects", map[string]any{"name": "mnist"})
	v := must(http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "data", "type": "dataset"})
	vid := fmt.Sprint(v["id"])
	must(http.StatusCreated, "POST", "/api/v1/artifacts/"+vid+"/links", map[string]any{"registry": "Models", "collection": "best"})
	before := storedRows(t, app)

	for _, c := range []struct {
		path  string
		body  map[string]any
		field string
	}{
		{"/api/v1/teams", map[string]any{"name": "ML"}, "name"},
		{"/api/v1/registries", map[string]any{"name": "models"}, "name"},
		{"/api/v1/teams/ml/projects", map[string]any{"name": "MNIST"}, "name"},
		{"/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "Data", "type": "dataset"}, "name"},
		{"/api/v1/artifacts/" + vid + "/links", map[string]any{"registry": "Models", "collection": "Best"}, "collection"},
	} {
		status, out := app.API(t, key, "POST", c.path, c.body)
		if status != http.StatusConflict || out["field"] != c.field || !strings.Contains(fmt.Sprint(out["error"]), "regardless of case") {
			t.Errorf("POST %s %v: %d %v, want 409 on %s", c.path, c.body, status, out, c.field)
		}
	}
	if after := storedRows(t, app); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("stored rows changed: %v -> %v", before, after)
	}
	// Names in URLs are exact: ML is not ml.
	if status, _ := app.API(t, key, "GET", "/api/v1/teams/ML/projects", nil); status != http.StatusNotFound {
		t.Errorf("GET /api/v1/teams/ML/projects: %d, want 404", status)
	}

	s := app.SignInHTTP(t, "admin@example.com")
	for _, c := range []struct {
		path string
		form url.Values
	}{
		{"/teams", url.Values{"name": {"Ml"}}},
		{"/registries", url.Values{"name": {"MODELS"}}},
		{"/projects", url.Values{"team": {"ml"}, "name": {"Mnist"}}},
	} {
		status, body := s.PostForm(t, c.path, c.form)
		if status != http.StatusConflict || !strings.Contains(body, "regardless of case") || !strings.Contains(body, `value="`+c.form.Get("name")+`"`) {
			t.Errorf("form %s %v: %d, want 409 with the message and the input kept:\n%s", c.path, c.form, status, body)
		}
	}
	if after := storedRows(t, app); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("stored rows changed by forms: %v -> %v", before, after)
	}
}
