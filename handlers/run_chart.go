package handlers

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/automations-dev/automations/models/runs"
	"github.com/automations-dev/automations/views"
)

func sortedKeys(m map[string][]runs.Point) []string { return slices.Sorted(maps.Keys(m)) }

// Chart size in SVG units.
const chartWidth, chartHeight = 480, 160

// metricChart scales a metric's values (in step order) into an SVG
// polyline: steps along x, values along y (larger values higher), a flat
// line in the middle when every value is the same.
func metricChart(name string, ps []runs.Point) views.MetricChart {
	ch := views.MetricChart{Name: name, SVG: views.ChartSVG{Width: chartWidth, Height: chartHeight}}
	if len(ps) == 0 {
		return ch
	}
	lo, hi := ps[0].Value, ps[0].Value
	for _, p := range ps {
		lo, hi = min(lo, p.Value), max(hi, p.Value)
		ch.Points = append(ch.Points, [2]float64{float64(p.Step), p.Value})
	}
	first, last := float64(ps[0].Step), float64(ps[len(ps)-1].Step)
	var b strings.Builder
	for i, p := range ps {
		x := float64(chartWidth) / 2
		if last > first {
			x = (float64(p.Step) - first) / (last - first) * chartWidth
		}
		y := float64(chartHeight) / 2
		if hi > lo {
			// 8 units of margin at top and bottom so the line stays inside.
			y = 8 + (hi-p.Value)/(hi-lo)*(chartHeight-16)
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatFloat(x, 'f', 1, 64) + "," + strconv.FormatFloat(y, 'f', 1, 64))
	}
	ch.SVG.Polyline = b.String()
	ch.SVG.MinLabel = strconv.FormatFloat(lo, 'g', 6, 64)
	ch.SVG.MaxLabel = strconv.FormatFloat(hi, 'g', 6, 64)
	ch.SVG.FirstStep = strconv.FormatInt(ps[0].Step, 10)
	ch.SVG.LastStep = strconv.FormatInt(ps[len(ps)-1].Step, 10)
	return ch
}
