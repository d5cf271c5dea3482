package views

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/automations-dev/automations/models"
)

// ChartProps is the activity section of an automation's or a webhook's
// page: deliveries over time and attempt latency, drawn as SVG on the
// server, with the same numbers in a table.
type ChartProps struct {
	// URL answers the section alone (htmx refresh and range switch); the
	// range goes in ?range=.
	URL string
	// Subject names what is charted, for the SVG titles ("automation nightly").
	Subject string
	Chart   *models.DeliveryChart
}

// Chart geometry, in SVG user units; the SVG scales to its box.
const (
	chartW, chartH       = 720.0, 200.0
	chartLeft, chartBase = 48.0, 170.0 // the plot's left edge and baseline
	chartTop             = 12.0
)

// chartBar is one rectangle of the stacked bar chart.
type chartBar struct {
	X, Y, W, H string
	Class      string
}

// chartTick is a labelled value or time on an axis.
type chartTick struct {
	X, Y  string
	Label string
}

func (p ChartProps) rangeURL(name string) string { return p.URL + "?range=" + name }

func (p ChartProps) plotWidth() float64 { return chartW - chartLeft - 8 }

func (p ChartProps) slot() float64 {
	return p.plotWidth() / float64(max(len(p.Chart.Buckets), 1))
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// niceMax rounds a maximum up to 1, 2 or 5 times a power of ten, so the
// axis reads in round numbers.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := 1.0
	for p*10 <= v {
		p *= 10
	}
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// bars stacks succeeded, retrying and failed per bucket.
func (p ChartProps) bars() []chartBar {
	var top float64
	for _, b := range p.Chart.Buckets {
		top = max(top, float64(b.Attempts()))
	}
	top = niceMax(top)
	scale := (chartBase - chartTop) / top
	slot := p.slot()
	w := max(slot*0.7, 1)
	var out []chartBar
	for i, b := range p.Chart.Buckets {
		x := chartLeft + float64(i)*slot + (slot-w)/2
		y := chartBase
		for _, part := range []struct {
			n     int64
			class string
		}{{b.Succeeded, "bar-succeeded"}, {b.Retrying, "bar-retrying"}, {b.Failed, "bar-failed"}} {
			if part.n == 0 {
				continue
			}
			h := float64(part.n) * scale
			y -= h
			out = append(out, chartBar{X: num(x), Y: num(y), W: num(w), H: num(h), Class: part.class})
		}
	}
	return out
}

// countTicks label the bar chart's vertical axis.
func (p ChartProps) countTicks() []chartTick {
	var top float64
	for _, b := range p.Chart.Buckets {
		top = max(top, float64(b.Attempts()))
	}
	return valueTicks(niceMax(top), func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) })
}

func valueTicks(top float64, label func(float64) string) []chartTick {
	var out []chartTick
	for i := 0; i <= 2; i++ {
		v := top * float64(i) / 2
		y := chartBase - (chartBase-chartTop)*float64(i)/2
		out = append(out, chartTick{X: num(chartLeft - 6), Y: num(y + 4), Label: label(v)})
	}
	return out
}

// timeTicks label a few buckets along the bottom.
func (p ChartProps) timeTicks() []chartTick {
	n := len(p.Chart.Buckets)
	every := max(n/6, 1)
	var out []chartTick
	for i := 0; i < n; i += every {
		x := chartLeft + (float64(i)+0.5)*p.slot()
		out = append(out, chartTick{X: num(x), Y: num(chartBase + 18), Label: p.bucketLabel(p.Chart.Buckets[i])})
	}
	return out
}

func (p ChartProps) bucketLabel(b models.ChartBucket) string {
	if p.Chart.Range.Step < 24*time.Hour {
		return b.Start.Format("15:04")
	}
	return b.Start.Format("Jan 2")
}

// bucketTime is a row's time in the table: unambiguous, in UTC.
func (p ChartProps) bucketTime(b models.ChartBucket) string {
	if p.Chart.Range.Step < 24*time.Hour {
		return b.Start.Format("2006-01-02 15:04") + " UTC"
	}
	return b.Start.Format("2006-01-02")
}

// latencyPath is the polyline of p50 or p95 over the buckets that had
// attempts; buckets without attempts break nothing, they are skipped.
func (p ChartProps) latencyPath(p95 bool) string {
	top := niceMax(p.maxLatency())
	scale := (chartBase - chartTop) / top
	var pts []string
	for i, b := range p.Chart.Buckets {
		if b.Attempts() == 0 {
			continue
		}
		v := b.P50
		if p95 {
			v = b.P95
		}
		x := chartLeft + (float64(i)+0.5)*p.slot()
		pts = append(pts, num(x)+","+num(chartBase-v*scale))
	}
	return strings.Join(pts, " ")
}

func (p ChartProps) maxLatency() float64 {
	var top float64
	for _, b := range p.Chart.Buckets {
		top = max(top, b.P95, b.P50)
	}
	return top
}

func (p ChartProps) latencyTicks() []chartTick {
	return valueTicks(niceMax(p.maxLatency()), func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + " ms" })
}

func (p ChartProps) countsDesc() string {
	t := p.Chart.Total
	return fmt.Sprintf("Over the last %s: %d succeeded, %d retried, %d failed. The table below has the numbers per %s.",
		p.Chart.Range.Name, t.Succeeded, t.Retrying, t.Failed, p.stepName())
}

func (p ChartProps) latencyDesc() string {
	t := p.Chart.Total
	if t.Attempts() == 0 {
		return "No attempts in the last " + p.Chart.Range.Name + "."
	}
	return fmt.Sprintf("Over the last %s, attempts took %s ms at the median (p50) and %s ms at p95.",
		p.Chart.Range.Name, ms(t.P50), ms(t.P95))
}

func (p ChartProps) stepName() string {
	if p.Chart.Range.Step < 24*time.Hour {
		return "hour"
	}
	return "day"
}

// ms shows a duration in milliseconds, whole unless it is small.
func ms(v float64) string {
	if v >= 10 || v == float64(int64(v)) {
		return strconv.FormatInt(int64(v+0.5), 10)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func i64(n int64) string { return strconv.FormatInt(n, 10) }

func (p ChartProps) countsTitle() string {
	return "Deliveries per " + p.stepName() + " for " + p.Subject + ", last " + p.Chart.Range.Name
}

func (p ChartProps) latencyTitle() string {
	return "Attempt latency p50 and p95 for " + p.Subject + ", last " + p.Chart.Range.Name
}

func (p ChartProps) tableCaption() string {
	return "Deliveries and attempt latency per " + p.stepName() + ", last " + p.Chart.Range.Name
}
