// Package metrics is what GET /metrics exposes (DESIGN.md §15), in the
// Prometheus text format through prometheus/client_golang. Each server
// builds its own registry (no global one): counters of what this process
// did (deliveries, attempts, events, run-history rows, HTTP requests) and
// gauges read from the database at scrape time (queue depth, age of the
// oldest due delivery, held deliveries, disabled integrations), which are
// the same whichever process is scraped.
package metrics

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"gorm.io/gorm"

	"github.com/automations-dev/automations/models"
)

// Metrics holds the registry and the series this process updates. A nil
// *Metrics is valid and records nothing (a worker without /metrics).
type Metrics struct {
	reg             *prometheus.Registry
	deliveries      *prometheus.CounterVec
	attemptDuration *prometheus.HistogramVec
	events          *prometheus.CounterVec
	runHistoryRows  prometheus.Counter
	httpRequests    *prometheus.CounterVec
	httpDuration    *prometheus.HistogramVec
}

// New builds the registry with every series, the database collector and
// Go's runtime and process collectors. It counts events as they are
// written through db (see countEvents).
func New(db *gorm.DB, log *slog.Logger) (*Metrics, error) {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "automations_deliveries_total",
			Help: "Delivery attempts by action type and outcome: succeeded, retrying (failed, will retry) or failed (gave up).",
		}, []string{"action_type", "outcome"}),
		attemptDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "automations_delivery_attempt_duration_seconds",
			Help:    "How long delivery attempts took, by action type.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15, 30},
		}, []string{"action_type"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "automations_events_total",
			Help: "Events recorded by this process, by event type.",
		}, []string{"type"}),
		runHistoryRows: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "automations_run_history_rows_ingested_total",
			Help: "Run history rows accepted by POST /api/v1/runs/{id}/history.",
		}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "automations_http_requests_total",
			Help: "HTTP requests by method, route (as in the route table) and status code.",
		}, []string{"method", "route", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "automations_http_request_duration_seconds",
			Help:    "HTTP request durations by method and route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
	}
	for _, c := range []prometheus.Collector{
		m.deliveries, m.attemptDuration, m.events, m.runHistoryRows, m.httpRequests, m.httpDuration,
		newDBCollector(db, log),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := m.reg.Register(c); err != nil {
			return nil, err
		}
	}
	if err := m.countEvents(db); err != nil {
		return nil, err
	}
	return m, nil
}

// Handler serves the registry. With a token, a scrape must send
// Authorization: Bearer <token>; anything else gets 401.
func (m *Metrics) Handler(token string) http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
	if token == "" {
		return h
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "send METRICS_TOKEN as Authorization: Bearer <token>", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// AttemptFinished counts one delivery attempt and its duration
// (jobs.Observer).
func (m *Metrics) AttemptFinished(actionType string, outcome models.DeliveryState, d time.Duration) {
	if m == nil {
		return
	}
	m.deliveries.WithLabelValues(actionType, string(outcome)).Inc()
	m.attemptDuration.WithLabelValues(actionType).Observe(d.Seconds())
}

// RunHistoryRowsIngested counts rows of run history accepted.
func (m *Metrics) RunHistoryRowsIngested(n int) {
	if m == nil || n <= 0 {
		return
	}
	m.runHistoryRows.Add(float64(n))
}

// HTTPRequest counts one answered request. route is the route table's
// pattern (e.g. /automations/:id), never the raw path, so the number of
// series stays bounded; requests no route matched share "unmatched".
func (m *Metrics) HTTPRequest(method, route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	if route == "" || route == "/*" {
		route = "unmatched"
	}
	m.httpRequests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.httpDuration.WithLabelValues(method, route).Observe(d.Seconds())
}

// countEvents increments automations_events_total for each event
// recorded through db (see models.CountEventsWith).
func (m *Metrics) countEvents(db *gorm.DB) error {
	return models.CountEventsWith(db, func(eventType string) { m.events.WithLabelValues(eventType).Inc() })
}

// dbCollector reads the queue and integration health at scrape time.
type dbCollector struct {
	db  *gorm.DB
	log *slog.Logger

	queueDepth, oldestDue, held, disabled *prometheus.Desc
}

func newDBCollector(db *gorm.DB, log *slog.Logger) *dbCollector {
	return &dbCollector{
		db: db, log: log,
		queueDepth: prometheus.NewDesc("automations_delivery_queue_depth",
			"Unfinished deliveries by state (queued, running, retrying, held).", []string{"state"}, nil),
		oldestDue: prometheus.NewDesc("automations_delivery_oldest_due_age_seconds",
			"How long the oldest due delivery no worker has taken has been waiting; 0 when none waits.", nil, nil),
		held: prometheus.NewDesc("automations_deliveries_held",
			"Deliveries held because their integration is disabled.", nil, nil),
		disabled: prometheus.NewDesc("automations_integrations_disabled",
			"Integrations disabled by endpoint health, by kind (webhook, slack).", []string{"kind"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.queueDepth
	ch <- c.oldestDue
	ch <- c.held
	ch <- c.disabled
}

// Collect implements prometheus.Collector: a few indexed queries per
// scrape. A failed query leaves its series out (and logs why) rather
// than report a wrong zero.
func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	now := time.Now()
	st, err := models.ReadQueueStats(ctx, c.db, now)
	if err != nil {
		c.log.Warn("metrics: read the delivery queue", "err", err)
	} else {
		for _, s := range []models.DeliveryState{models.DeliveryQueued, models.DeliveryRunning, models.DeliveryRetrying, "held"} {
			ch <- prometheus.MustNewConstMetric(c.queueDepth, prometheus.GaugeValue, float64(st.ByState[s]), string(s))
		}
		age := 0.0
		if st.OldestDue != nil {
			age = max(now.Sub(*st.OldestDue).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(c.oldestDue, prometheus.GaugeValue, age)
	}
	h, err := models.ReadDisabledCounts(ctx, c.db)
	if err != nil {
		c.log.Warn("metrics: read integration health", "err", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.held, prometheus.GaugeValue, float64(h.HeldDeliveries))
	ch <- prometheus.MustNewConstMetric(c.disabled, prometheus.GaugeValue, float64(h.DisabledWebhooks), "webhook")
	ch <- prometheus.MustNewConstMetric(c.disabled, prometheus.GaugeValue, float64(h.DisabledSlack), "slack")
}
