package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/modeltest"
	"github.com/automations-dev/automations/web"
	"github.com/automations-dev/automations/web/webtest"
)

// BenchmarkDeliveryBacklog measures the delivery path alone, at each
// fan-out: a backlog of benchDeliveries deliveries (events × fan-out) is
// committed with no worker running, then one worker (as `automations
// worker` runs it) drains it to the loopback receiver (in its own process);
// compared with the bare net/http loop. CPU per delivery is this process
// (the worker alone: nothing else runs here during the drain), the
// receiver process, and PostgreSQL (this database's backends).
func BenchmarkDeliveryBacklog(b *testing.B) {
	for _, fan := range benchFanOuts {
		b.Run(fmt.Sprintf("fanout=%d", fan), func(b *testing.B) { benchBacklog(b, fan) })
	}
}

func benchBacklog(b *testing.B, fanOut int) {
	events := benchDeliveries / fanOut
	load := loadAverage()
	rcv := newBenchReceiver(b)
	app := webtest.Start(b, webtest.WithAllowedTargets("127.0.0.1"), webtest.WithoutWorker())
	meter := newCPUMeter(b, app.DB, rcv)
	_, must, tpl := benchSetup(b, app, rcv.URL, fanOut)
	stopLogProfile := profileIf(b, "BENCH_LOGPROFILE") // logging alone
	logStart, logCPU := time.Now(), meter.read()
	for seq := range events {
		must(201, "POST", "/api/v1/projects/ml/p/artifacts", map[string]any{"name": fmt.Sprintf("m%d", seq%benchClients), "type": "model", "metadata": map[string]any{"seq": seq}})
	}
	logged, loggedCPU := time.Since(logStart), meter.read().sub(logCPU)
	stopLogProfile()
	fmt.Printf("\n== logging %d events one at a time (%d deliveries each) on %s: %v per event; CPU per event %v here (server and its API client), %s\n",
		events, fanOut, modeltest.Kind(), (logged / time.Duration(events)).Round(time.Microsecond),
		(loggedCPU.self / time.Duration(events)).Round(time.Microsecond), pgCPUText(loggedCPU, events))
	want := events * fanOut
	if modeltest.Kind() == "postgres" {
		plan, err := models.ExplainClaim(context.Background(), app.DB, benchConcurrency/2)
		if err != nil {
			b.Fatal(err)
		}
		fmt.Printf("== the claim's plan with %d deliveries due:\n%s", want, plan)
	}
	cfg := app.Config
	cfg.WorkerConcurrency = benchConcurrency
	b.ResetTimer()
	stopProfile := profileIf(b, "BENCH_DRAINPROFILE") // the drain alone
	cpuBefore := meter.read()
	start := time.Now()
	worker, err := web.NewWorker(context.Background(), cfg, app.Keys, app.DB, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- worker.Run(ctx) }()
	got := rcv.waitFor(b, want, 60*time.Second)
	elapsed := time.Since(start)
	cpu := meter.read().sub(cpuBefore)
	stopProfile()
	stop()
	<-done
	_ = worker.Close()
	b.StopTimer()
	if got != want {
		b.Fatalf("delivered %d of %d", got, want)
	}
	bare := bareLoop(b, rcv.URL, len(tpl)+64, meter)
	rate := float64(want) / elapsed.Seconds()
	perDelivery := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(want) }
	row := summaryRow(fanOut)
	row.haveBacklog = true
	if row.load == "" {
		row.load = load
	}
	row.backlogRate, row.backlogBare = rate, bare.rate
	row.backlogProc, row.backlogPG, row.backlogRc = perDelivery(cpu.self), perDelivery(cpu.postgres), perDelivery(cpu.receiver)
	b.ReportMetric(rate, "deliveries/s")
	b.ReportMetric(rate/bare.rate, "ratio")
	b.ReportMetric(row.backlogProc, "proc-µs/delivery")
	if cpu.pg {
		b.ReportMetric(row.backlogPG, "pg-µs/delivery")
	}
	fmt.Printf("\n== backlog drain on %s (fan-out %d; load average %s): %d deliveries in %v: %.0f deliveries/s; bare loop %.0f/s; ratio %.2f×; CPU per delivery %.0f µs worker, %.0f µs receiver process, %s\n",
		modeltest.Kind(), fanOut, load, want, elapsed.Round(time.Millisecond), rate, bare.rate, rate/bare.rate,
		row.backlogProc, row.backlogRc, pgCPUText(cpu, want))
	if modeltest.Kind() == "postgres" {
		printHOT(b, app, int64(2*want))
	}
}

// printHOT prints how many updates of deliveries PostgreSQL made in place
// (HOT: no index written), waiting up to 15 s for the backends' statistics
// (they are flushed at most once a second, and 10 s after going idle) to
// count the drain's updates: a claim and a completion per delivery.
func printHOT(b *testing.B, app *webtest.App, want int64) {
	var upd, hot int64
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := app.DB.Raw(`SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'deliveries'`).Row().Scan(&upd, &hot)
		if err != nil {
			b.Fatal(err)
		}
		if upd >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond) // poll; the statistics arrive on their own schedule
	}
	fmt.Printf("== deliveries updates counted %d (of %d expected), HOT %d (%.0f%%)\n", upd, want, hot, 100*float64(hot)/float64(max(upd, 1)))
}
