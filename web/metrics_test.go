package web_test

import (
	"bytes"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/automations-dev/automations/web"
	"github.com/automations-dev/automations/web/webtest"
)

const metricsToken = "scrape-token-123"

// scrape GETs /metrics with auth as the Authorization header ("" for
// none) and parses the answer with Prometheus' own text parser.
func scrape(t *testing.T, app *webtest.App, auth string) (int, map[string]*dto.MetricFamily) {
	t.Helper()
	req, err := http.NewRequest("GET", app.URL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics is not the Prometheus text format: %v\n%s", err, body)
	}
	return resp.StatusCode, fams
}

// value is the value of the series of family name whose labels include
// want (a counter, gauge or a histogram's sample count); ok is false when
// there is no such series.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	fam := fams[name]
	if fam == nil {
		return 0, false
	}
next:
	for _, m := range fam.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// /metrics answers 401 without METRICS_TOKEN and, with it, series that
// match the deliveries made: two webhooks delivered at once, one that
// failed after a retry, their events and the API requests that caused
// them. Every log line about an attempt names its delivery.
func TestMetricsMatchDeliveries(t *testing.T) {
	var logs syncBuffer
	rcv := newHookReceiver(t, func(n int) int {
		if n >= 3 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	app := webtest.StartLogging(t, &logs, webtest.WithAllowedTargets("127.0.0.1"), webtest.WithConfig(func(c *web.Config) {
		c.MetricsToken = metricsToken
		c.RetrySchedule = "10ms"
		c.WorkerConcurrency = 1 // one at a time: the receiver's n-th request is the n-th attempt
	}))
	admin := app.User(t, "admin@example.com", true)
	f := &automationFixture{app: app, key: app.APIKey(t, admin), receiver: rcv}
	f.must(t, http.StatusCreated, "POST", "/api/v1/teams", map[string]any{"name": "ml"})
	f.must(t, http.StatusCreated, "POST", "/api/v1/teams/ml/projects", map[string]any{"name": "mnist"})
	f.must(t, http.StatusCreated, "POST", "/api/v1/teams/ml/webhooks", map[string]any{"name": "ci", "url": rcv.URL + "/hook"})

	for _, auth := range []string{"", "Bearer wrong", metricsToken, "Basic " + metricsToken} {
		if status, _ := scrape(t, app, auth); status != http.StatusUnauthorized {
			t.Errorf("/metrics with Authorization %q: %d, want 401", auth, status)
		}
	}

	a := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", projectAutomation("notify", "CREATE_ARTIFACT", `{}`))
	for range 2 {
		f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "m", "type": "model"})
	}
	f.deliveries(t, a["id"], allIn("succeeded", 2))
	f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "m", "type": "model"})
	ds := f.deliveries(t, a["id"], func(ds []map[string]any) bool { return len(ds) == 3 && ds[0]["state"] == "failed" })

	status, fams := scrape(t, app, "Bearer "+metricsToken)
	if status != http.StatusOK {
		t.Fatalf("/metrics with the token: %d", status)
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"automations_deliveries_total", map[string]string{"action_type": "webhook", "outcome": "succeeded"}, 2},
		{"automations_deliveries_total", map[string]string{"action_type": "webhook", "outcome": "retrying"}, 1},
		{"automations_deliveries_total", map[string]string{"action_type": "webhook", "outcome": "failed"}, 1},
		{"automations_delivery_attempt_duration_seconds", map[string]string{"action_type": "webhook"}, 4},
		{"automations_events_total", map[string]string{"type": "CREATE_ARTIFACT"}, 3},
		{"automations_http_requests_total", map[string]string{"method": "POST", "route": "/api/v1/projects/:team/:project/artifacts", "status": "201"}, 3},
		{"automations_http_requests_total", map[string]string{"method": "GET", "route": "/metrics", "status": "401"}, 4},
		{"automations_delivery_queue_depth", map[string]string{"state": "queued"}, 0},
		{"automations_delivery_queue_depth", map[string]string{"state": "retrying"}, 0},
		{"automations_delivery_oldest_due_age_seconds", nil, 0},
		{"automations_deliveries_held", nil, 0},
		{"automations_integrations_disabled", map[string]string{"kind": "webhook"}, 0},
		{"automations_run_history_rows_ingested_total", nil, 0},
	} {
		got, ok := value(fams, c.name, c.labels)
		if !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}

	// Every log line about an attempt carries its delivery's id.
	lines := 0
	for _, line := range strings.Split(logs.String(), "\n") {
		if !strings.Contains(line, "delivery attempt") {
			continue
		}
		lines++
		if !regexp.MustCompile(`delivery_id=dlv_[0-9a-f]{32}`).MatchString(line) {
			t.Errorf("log line without delivery_id: %s", line)
		}
	}
	if lines != 4 {
		t.Errorf("%d log lines about attempts, want 4", lines)
	}
	if !strings.Contains(logs.String(), "delivery_id="+ds[0]["id"].(string)) {
		t.Errorf("no log line names the failed delivery %v", ds[0]["id"])
	}
}

// The queue series come from the database at scrape time: a delivery no
// worker takes shows as queued, and its wait as the oldest due age.
func TestMetricsQueueDepthAndOldestDue(t *testing.T) {
	f := newAutomationFixture(t, nil, webtest.WithoutWorker())
	f.must(t, http.StatusCreated, "POST", "/api/v1/automations", projectAutomation("notify", "CREATE_ARTIFACT", `{}`))
	f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "m", "type": "model"})
	if err := f.app.DB.Exec(`UPDATE deliveries SET next_attempt_at = ?`, time.Now().UTC().Add(-10*time.Minute)).Error; err != nil {
		t.Fatal(err)
	}
	_, fams := scrape(t, f.app, "") // no METRICS_TOKEN: open
	if got, _ := value(fams, "automations_delivery_queue_depth", map[string]string{"state": "queued"}); got != 1 {
		t.Errorf("queue depth queued = %v, want 1", got)
	}
	if got, _ := value(fams, "automations_delivery_oldest_due_age_seconds", nil); got < 600 || got > 660 {
		t.Errorf("oldest due age = %vs, want about 600", got)
	}
}
