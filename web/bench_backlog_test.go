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

// BenchmarkDeliveryBacklog measures the delivery path alone: a backlog of
// benchEvents×benchFanOut deliveries is committed with no worker running,
// then one worker (as `automations worker` runs it) drains it to the
// loopback receiver; compared with the bare net/http loop.
func BenchmarkDeliveryBacklog(b *testing.B) {
	rcv := newBenchReceiver(b)
	app := webtest.Start(b, webtest.WithAllowedTargets("127.0.0.1"), webtest.WithoutWorker())
	_, must, tpl := benchSetup(b, app, rcv.URL)
	stopLogProfile := profileIf(b, "BENCH_LOGPROFILE") // logging alone
	logStart, logCPU := time.Now(), readCPU()
	for seq := range benchEvents {
		must(201, "POST", "/api/v1/projects/ml/p/artifacts", map[string]any{"name": fmt.Sprintf("m%d", seq%benchClients), "type": "model", "metadata": map[string]any{"seq": seq}})
	}
	logged, loggedCPU := time.Since(logStart), readCPU().sub(logCPU)
	stopLogProfile()
	fmt.Printf("\n== logging %d events one at a time (%d deliveries each): %v per event; CPU per event %v here, %v PostgreSQL\n",
		benchEvents, benchFanOut, (logged / benchEvents).Round(time.Microsecond),
		(loggedCPU.self / benchEvents).Round(time.Microsecond), (loggedCPU.postgres / benchEvents).Round(time.Microsecond))
	want := benchEvents * benchFanOut
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
	cpuBefore := readCPU()
	start := time.Now()
	worker, err := web.NewWorker(context.Background(), cfg, app.Keys, app.DB, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- worker.Run(ctx) }()
	deadline := time.Now().Add(60 * time.Second)
	for rcv.delivered() < want && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond) // poll; the loop waits on the condition
	}
	elapsed := time.Since(start)
	cpu := readCPU().sub(cpuBefore)
	stop()
	<-done
	_ = worker.Close()
	b.StopTimer()
	if got := rcv.delivered(); got != want {
		b.Fatalf("delivered %d of %d", got, want)
	}
	bare := bareLoop(rcv.URL, len(tpl)+64)
	rate := float64(want) / elapsed.Seconds()
	fmt.Printf("\n== backlog drain on %s: %d deliveries in %v: %.0f deliveries/s; bare loop %.0f/s; ratio %.2f×; CPU per delivery %v here, %v PostgreSQL\n",
		modeltest.Kind(), want, elapsed.Round(time.Millisecond), rate, bare, rate/bare,
		(cpu.self / time.Duration(want)).Round(time.Microsecond), (cpu.postgres / time.Duration(want)).Round(time.Microsecond))
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
