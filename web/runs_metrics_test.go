package web_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// runRowCell is the text of a run's cell in the Runs list (tags dropped),
// or "" when the page has no such row or cell.
func runRowCell(page, run, testID string) string {
	start := strings.Index(page, `<tr data-testid="run-`+run+`"`)
	if start < 0 {
		return ""
	}
	row := page[start:]
	row = row[:strings.Index(row, "</tr>")]
	m := regexp.MustCompile(`(?s)data-testid="` + regexp.QuoteMeta(testID) + `"[^>]*>(.*?)</td>`).FindStringSubmatch(row)
	if m == nil {
		return ""
	}
	text := regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m[1], "")
	return strings.Join(strings.Fields(html.UnescapeString(text)), " ")
}

// The Runs list shows, for the metrics the user picks, each run's value at
// its highest logged step (a step logged late or again counts by its step,
// not by when it came), on the page and in the API's last_metrics; the
// chooser offers the metrics the page's runs logged.
func TestRunsListShowsLastValuesOfChosenMetrics(t *testing.T) {
	f := newAutomationFixture(t, nil)
	newRun := func(name string) any {
		return f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/runs", map[string]any{"name": name})["id"]
	}
	logRows := func(id any, rows ...map[string]any) {
		f.must(t, http.StatusOK, "POST", fmt.Sprintf("/api/v1/runs/%v/history", id), map[string]any{"rows": rows})
	}
	row := func(step int, metrics map[string]any) map[string]any {
		return map[string]any{"step": step, "metrics": metrics}
	}
	a := newRun("alpha")
	logRows(a, row(0, map[string]any{"loss": 0.9, "val/acc": 0.1}), row(5, map[string]any{"loss": 0.4}), row(2, map[string]any{"val/acc": 0.6}))
	logRows(a, row(3, map[string]any{"loss": 0.7}))  // logged last, but step 5 stays the newest
	logRows(a, row(5, map[string]any{"loss": 0.35})) // step 5 again: its value is replaced
	b := newRun("beta")
	logRows(b, row(0, map[string]any{"gpu/temp": 61}))
	newRun("gamma") // no history

	// API: last_metrics per run, only for the metrics asked.
	list := f.must(t, http.StatusOK, "GET", "/api/v1/projects/ml/mnist/runs?metrics=loss,val/acc", nil)
	got := map[string]map[string]any{}
	for _, r := range list["runs"].([]any) {
		r := r.(map[string]any)
		got[r["name"].(string)] = r["last_metrics"].(map[string]any)
	}
	want := map[string]string{
		"alpha": "map[loss:map[step:5 value:0.35] val/acc:map[step:2 value:0.6]]",
		"beta":  "map[]", "gamma": "map[]",
	}
	for name, w := range want {
		if s := fmt.Sprint(got[name]); s != w {
			t.Errorf("API last_metrics of %s = %s, want %s", name, s, w)
		}
	}
	if plain := f.must(t, http.StatusOK, "GET", "/api/v1/projects/ml/mnist/runs", nil); strings.Contains(fmt.Sprint(plain), "last_metrics") {
		t.Errorf("last_metrics without ?metrics=: %v", plain)
	}
	// Repeated parameters work too; too many metrics are refused on the field.
	rep := f.must(t, http.StatusOK, "GET", "/api/v1/projects/ml/mnist/runs?metrics=gpu/temp&metrics=loss&search=beta", nil)
	if runs := rep["runs"].([]any); len(runs) != 1 || fmt.Sprint(runs[0].(map[string]any)["last_metrics"]) != "map[gpu/temp:map[step:0 value:61]]" {
		t.Errorf("repeated metrics: %v", rep)
	}
	many := url.Values{}
	for i := range 11 {
		many.Add("metrics", fmt.Sprintf("m%d", i))
	}
	if status, out := f.app.API(t, f.key, "GET", "/api/v1/projects/ml/mnist/runs?"+many.Encode(), nil); status != http.StatusUnprocessableEntity || out["field"] != "metrics" {
		t.Errorf("11 metrics: %d %v, want 422 on metrics", status, out)
	}

	// The page: the chooser offers the logged metrics; the chosen ones are columns.
	admin := f.app.SignInHTTP(t, "admin@example.com")
	status, page := admin.Get(t, "/projects/ml/mnist/runs")
	for _, m := range []string{"loss", "val/acc", "gpu/temp"} {
		if !strings.Contains(page, `data-testid="metric-choice-`+m+`"`) {
			t.Errorf("the chooser does not offer %s", m)
		}
	}
	if status != http.StatusOK || strings.Contains(page, `data-testid="metric-column"`) {
		t.Errorf("runs page without a choice: %d, shows metric columns", status)
	}
	status, page = admin.Get(t, "/projects/ml/mnist/runs?metrics=loss&metrics=val/acc")
	if status != http.StatusOK || strings.Count(page, `data-testid="metric-column"`) != 2 {
		t.Fatalf("runs page with two metrics: %d\n%s", status, page)
	}
	for _, c := range []struct{ run, metric, want string }{
		{"alpha", "loss", "0.35 step 5"}, {"alpha", "val/acc", "0.6 step 2"},
		{"beta", "loss", "not logged"}, {"gamma", "val/acc", "not logged"},
	} {
		if cell := runRowCell(page, c.run, "last-"+c.metric); cell != c.want {
			t.Errorf("%s's %s cell = %q, want %q", c.run, c.metric, cell, c.want)
		}
	}
	if !strings.Contains(page, `value="loss" checked`) || strings.Contains(page, `value="gpu/temp" checked`) {
		t.Errorf("the chooser does not show the choice")
	}
	// Pages keep the choice.
	for range 25 {
		newRun("")
	}
	if _, page = admin.Get(t, "/projects/ml/mnist/runs?metrics=loss"); !strings.Contains(page, html.EscapeString("/projects/ml/mnist/runs?metrics=loss&page=2")) {
		t.Errorf("the next page's link drops the metric choice")
	}
	status, page = admin.Get(t, "/projects/ml/mnist/runs?"+many.Encode())
	if status != http.StatusUnprocessableEntity || !strings.Contains(page, `data-testid="metrics-error"`) || !strings.Contains(page, `data-testid="runs"`) {
		t.Errorf("11 metrics on the page: %d, want 422 with the message beside the chooser and the list", status)
	}
	if n := strings.Count(page, `" checked`); n != 11 || strings.Contains(page, `data-testid="metric-column"`) {
		t.Errorf("refused choice: %d boxes kept checked (want 11), columns shown: %v", n, strings.Contains(page, `data-testid="metric-column"`))
	}
}
