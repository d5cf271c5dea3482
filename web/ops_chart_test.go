package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/web/webtest"
)

// chartFixture is one real, succeeded delivery of automation "notify"
// through webhook ci, plus attempts written straight into the table at
// known times, outcomes and durations:
//   - three hours ago: 100 attempts taking 1..100 ms, 90 succeeded, 6
//     retried, 4 failed (p50 50.5 ms, p95 95.05 ms, as percentile_cont);
//   - three days ago: 5 failed attempts of 1000 ms.
type chartFixture struct {
	*automationFixture
	automationID int64
	webhookID    int64
}

func newChartFixture(t *testing.T) *chartFixture {
	f := newAutomationFixture(t, nil)
	a := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", projectAutomation("notify", "CREATE_ARTIFACT", `{}`))
	f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "m", "type": "model"})
	f.deliveries(t, a["id"], allIn("succeeded", 1))
	var d models.Delivery
	if err := f.app.DB.First(&d).Error; err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	add := func(at time.Time, outcome string, ms int64) {
		t.Helper()
		err := f.app.DB.Create(&models.DeliveryAttempt{
			DeliveryID: d.ID, AutomationID: d.AutomationID, WebhookID: d.WebhookID, Number: 9,
			StartedAt: at, DurationMS: ms, Outcome: outcome,
		}).Error
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := int64(1); i <= 100; i++ {
		outcome := "succeeded"
		switch {
		case i%25 == 0:
			outcome = "failed"
		case i%16 == 0:
			outcome = "retrying"
		}
		add(now.Add(-3*time.Hour), outcome, i)
	}
	for range 5 {
		add(now.Add(-72*time.Hour), "failed", 1000)
	}
	return &chartFixture{automationFixture: f, automationID: *d.AutomationID, webhookID: *d.WebhookID}
}

// The chart counts attempts by outcome per bucket and computes p50 and
// p95 the same on both databases (percentile_cont on PostgreSQL, Go over
// the sample on SQLite), for an automation and for its webhook.
func TestDeliveryChartCountsAndPercentiles(t *testing.T) {
	f := newChartFixture(t)
	ctx := context.Background()
	for _, target := range []models.RetryTarget{{AutomationID: f.automationID}, {WebhookID: f.webhookID}} {
		day, err := models.DeliveryChartOf(ctx, f.app.DB, target, models.ChartRangeByName("24h"), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(day.Buckets) != 24 || day.Total.Succeeded != 91 || day.Total.Retrying != 6 || day.Total.Failed != 4 {
			t.Errorf("%+v 24h: %d buckets, total %+v; want 24, 91/6/4", target, len(day.Buckets), day.Total)
		}
		b := day.Buckets[len(day.Buckets)-4] // the hour three hours back
		if b.Succeeded != 90 || b.Retrying != 6 || b.Failed != 4 || b.P50 != 50.5 || fmt.Sprintf("%.2f", b.P95) != "95.05" {
			t.Errorf("%+v 3h ago: %+v; want 90/6/4, p50 50.5, p95 95.05", target, b)
		}
		week, err := models.DeliveryChartOf(ctx, f.app.DB, target, models.ChartRangeByName("7d"), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(week.Buckets) != 7 || week.Total.Failed != 9 || week.Buckets[3].Failed != 5 || week.Buckets[3].P50 != 1000 {
			t.Errorf("%+v 7d: total %+v, 3 days back %+v; want 9 failed, 5 of them then at 1000 ms", target, week.Total, week.Buckets[3])
		}
		if day.InFlight || week.InFlight {
			t.Errorf("%+v: in flight with every delivery finished", target)
		}
	}
}

// The Activity section polls only while a delivery is in flight.
func TestDeliveryChartRefreshesOnlyWhileInFlight(t *testing.T) {
	f := newAutomationFixture(t, nil, webtest.WithoutWorker())
	a := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", projectAutomation("notify", "CREATE_ARTIFACT", `{}`))
	f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "m", "type": "model"})
	s := f.app.SignInHTTP(t, "admin@example.com")
	path := fmt.Sprintf("/automations/%v/chart?range=7d", a["id"])
	status, html := s.GetHTMX(t, path)
	if status != http.StatusOK || !strings.Contains(html, `hx-trigger="every 3s"`) || !strings.Contains(html, `data-range="7d"`) {
		t.Fatalf("chart with a queued delivery: %d, want a 7d section that polls:\n%s", status, html)
	}
	runWorker(t, f.app)
	f.deliveries(t, a["id"], allIn("succeeded", 1))
	if _, html := s.GetHTMX(t, path); strings.Contains(html, "hx-trigger") {
		t.Errorf("chart polls with nothing in flight:\n%s", html)
	}
}

// A team admin reads the chart's table on the automation's page, switches
// it to 7 days without a reload, and finds the same numbers on the
// webhook's page.
func TestBrowserDeliveryChartTable(t *testing.T) {
	f := newChartFixture(t)
	ctx := webtest.NewBrowser(t)
	f.app.SignIn(t, ctx, "admin@example.com")
	total := func(what string) []string {
		t.Helper()
		var out []string
		for _, id := range []string{"chart-succeeded", "chart-retrying", "chart-failed"} {
			text, err := chromedp.Run(ctx, chromedp.Text(in("chart-total", id)))
			if err != nil {
				t.Fatalf("%s: read %s: %v", what, id, err)
			}
			out = append(out, text)
		}
		return out
	}
	webtest.Do(t, ctx, "open the automation",
		chromedp.Navigate(fmt.Sprintf("%s/automations/%d", f.app.URL, f.automationID)),
		chromedp.WaitVisible(webtest.TestID("chart-counts-svg")),
		chromedp.Click(webtest.TestID("chart-numbers")),
		chromedp.WaitVisible(webtest.TestID("chart-table")),
	)
	if got := strings.Join(total("24h"), "/"); got != "91/6/4" {
		t.Errorf("24h totals %s, want 91/6/4", got)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__samePage = true`)); err != nil {
		t.Fatal(err)
	}
	webtest.Do(t, ctx, "switch to 7 days",
		chromedp.Click(webtest.TestID("chart-range-7d")),
		chromedp.WaitVisible(`[data-testid="delivery-chart"][data-range="7d"]`),
		webtest.HtmxIdle(),
		chromedp.Click(webtest.TestID("chart-numbers")),
		chromedp.WaitVisible(webtest.TestID("chart-table")),
	)
	if got := strings.Join(total("7d"), "/"); got != "91/6/9" {
		t.Errorf("7d totals %s, want 91/6/9", got)
	}
	if same, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__samePage === true`)); err != nil || !same {
		t.Errorf("switching the range reloaded the page")
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="chart-row"]').length`))
	if err != nil || rows != 7 {
		t.Errorf("7d table has %d rows (%v), want 7", rows, err)
	}
	title, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="chart-counts-svg"] title').textContent`))
	if err != nil || !strings.Contains(title, "last 7d") {
		t.Errorf("the SVG's title %q (%v) does not name the range", title, err)
	}

	webtest.Do(t, ctx, "open the webhook's page from Team Settings",
		chromedp.Navigate(f.app.URL+"/teams/ml"),
		chromedp.WaitVisible(webtest.TestID("webhook-ci")),
		webtest.ClickNav(in("webhook-ci", "webhook-page")),
		chromedp.WaitVisible(webtest.TestID("chart-counts-svg")),
		chromedp.Click(webtest.TestID("chart-numbers")),
		chromedp.WaitVisible(webtest.TestID("chart-table")),
	)
	if got := strings.Join(total("webhook 24h"), "/"); got != "91/6/4" {
		t.Errorf("webhook 24h totals %s, want 91/6/4", got)
	}
}
