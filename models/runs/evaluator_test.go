package runs

import (
	"math/rand/v2"
	"testing"

	"github.com/automations-dev/automations/models/runcond"
)

// firstFirings must answer exactly what asking each candidate's Eval at
// each logged step answers: random conditions of every type, operator and
// direction (many sharing a statistic, thresholds often equal to values)
// over random series with plateaus and zeros.
func TestFirstFiringsAgreesWithEvalStepByStep(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 14))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	for trial := range 300 {
		series := make([]float64, 5+rng.IntN(60))
		for i := range series {
			switch rng.IntN(4) {
			case 0:
				series[i] = 0
			case 1:
				if i > 0 {
					series[i] = series[i-1] // plateaus: zero variance, zero change
				}
			default:
				series[i] = float64(rng.IntN(9)) / 4
			}
		}
		// The logged steps: a suffix of the series, evaluated in order.
		first := rng.IntN(len(series))
		var at []int
		for i := first; i < len(series); i++ {
			at = append(at, i)
		}
		var cs []*candidate
		for i := range 1 + rng.IntN(40) {
			typ := pick(runcond.RunMetric, runcond.RunMetricChange, runcond.RunMetricZScore)
			bound := float64(rng.IntN(9)-2) / 4
			cfg := runcond.Config{Metric: "m", Window: 1 + rng.IntN(4)}
			switch typ {
			case runcond.RunMetric:
				cfg.Agg, cfg.Op, cfg.Threshold = pick("avg", "min", "max"), pick(">", ">=", "<", "<=", "==", "!="), &bound
			case runcond.RunMetricChange:
				amount := max(bound, 0.25)
				cfg.PriorWindow, cfg.ChangeType, cfg.Direction, cfg.Amount = 1+rng.IntN(4), pick("absolute", "relative"), pick("increase", "decrease", "any"), &amount
			case runcond.RunMetricZScore:
				z := max(bound, 0.25)
				cfg.Window++ // a spread needs two values
				cfg.Direction, cfg.Threshold = pick("above", "below", "either"), &z
			}
			if err := cfg.Normalize(typ); err != nil {
				t.Fatalf("trial %d: %+v: %v", trial, cfg, err)
			}
			cs = append(cs, &candidate{ID: int64(i), EventType: typ, cfg: &cfg})
		}
		got := firstFirings(cs, series, at)
		for i, c := range cs {
			want := firing{at: -1}
			for k, pos := range at {
				if ok, v := c.cfg.Eval(c.EventType, series[:pos+1]); ok {
					want = firing{at: k, value: v}
					break
				}
			}
			if got[i] != want {
				t.Fatalf("trial %d, %s %s on %v from %d: got %+v, Eval says %+v", trial, c.EventType, c.cfg.JSON(), series, first, got[i], want)
			}
		}
	}
}

func BenchmarkFirstFirings1000(b *testing.B) {
	series := make([]float64, 1004)
	for i := range series {
		series[i] = float64(i%97) / 97
	}
	at := make([]int, 1000)
	for i := range at {
		at[i] = i + 4
	}
	cs := make([]*candidate, 100) // one metric's share of 1,000
	for i := range cs {
		th := 1e9 + float64(i)
		cfg := runcond.Config{Metric: "m", Window: 5, Agg: "avg", Op: ">", Threshold: &th}
		if err := cfg.Normalize(runcond.RunMetric); err != nil {
			b.Fatal(err)
		}
		cs[i] = &candidate{ID: int64(i), EventType: runcond.RunMetric, cfg: &cfg}
	}
	for b.Loop() {
		firstFirings(cs, series, at)
	}
}
