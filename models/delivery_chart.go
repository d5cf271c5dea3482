package models

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"gorm.io/gorm"
)

// ChartRange is a window of an activity chart and the width of its bars.
type ChartRange struct {
	Name string // "24h", "7d", "30d"
	Span time.Duration
	Step time.Duration
}

// ChartRanges are the windows a chart offers, the first the default.
var ChartRanges = []ChartRange{
	{Name: "24h", Span: 24 * time.Hour, Step: time.Hour},
	{Name: "7d", Span: 7 * 24 * time.Hour, Step: 24 * time.Hour},
	{Name: "30d", Span: 30 * 24 * time.Hour, Step: 24 * time.Hour},
}

// ChartRangeByName finds a range; an unknown name is the default.
func ChartRangeByName(name string) ChartRange {
	for _, r := range ChartRanges {
		if r.Name == name {
			return r
		}
	}
	return ChartRanges[0]
}

// ChartBucket is one bar: what the attempts started in [Start, Start+Step)
// ended as, and how long they took. Succeeded and Failed count deliveries
// that finished then (an attempt that succeeded, or the last one before
// giving up); Retrying counts attempts that failed and were retried.
type ChartBucket struct {
	Start     time.Time
	Succeeded int64
	Retrying  int64
	Failed    int64
	// P50 and P95 are attempt durations in milliseconds; 0 without attempts.
	P50, P95 float64
}

// Attempts is every attempt of the bucket.
func (b ChartBucket) Attempts() int64 { return b.Succeeded + b.Retrying + b.Failed }

// DeliveryChart is an automation's or a webhook's activity over a range.
type DeliveryChart struct {
	Range   ChartRange
	Buckets []ChartBucket
	// Total sums the buckets; its P50 and P95 are over the whole range.
	Total ChartBucket
	// InFlight is true while a delivery of the target is queued, running
	// or retrying: the chart is still moving.
	InFlight bool
	// Sampled is true when SQLite's percentiles came from a sample.
	Sampled bool
}

// chartSampleLimit bounds the durations SQLite reads to compute
// percentiles in Go; PostgreSQL computes them exactly with percentile_cont.
const chartSampleLimit = 20000

// DeliveryChartOf reads the chart of target (an automation or a webhook)
// for the range ending with the bucket that holds now. It reads only the
// attempts' covering index by target and time (migration 00018).
func DeliveryChartOf(ctx context.Context, db *gorm.DB, target RetryTarget, rng ChartRange, now time.Time) (*DeliveryChart, error) {
	col, id := target.column()
	n := int(rng.Span / rng.Step)
	end := now.UTC().Truncate(rng.Step).Add(rng.Step)
	since := end.Add(-time.Duration(n) * rng.Step)
	ch := &DeliveryChart{Range: rng, Buckets: make([]ChartBucket, n)}
	for i := range ch.Buckets {
		ch.Buckets[i].Start = since.Add(time.Duration(i) * rng.Step)
	}
	var err error
	if Dialect(db) == "postgres" {
		err = chartPostgres(ctx, db, col, id, since, end, rng.Step, ch)
	} else {
		err = chartSQLite(ctx, db, col, id, since, end, rng.Step, ch)
	}
	if err != nil {
		return nil, fmt.Errorf("delivery chart: %w", err)
	}
	for _, b := range ch.Buckets {
		ch.Total.Succeeded += b.Succeeded
		ch.Total.Retrying += b.Retrying
		ch.Total.Failed += b.Failed
	}
	// In flight: through the small partial index of unfinished deliveries.
	var inFlight []int64
	if err := db.WithContext(ctx).Raw(`SELECT 1 FROM deliveries WHERE completed_at IS NULL AND `+col+` = ? LIMIT 1`, id).
		Scan(&inFlight).Error; err != nil {
		return nil, fmt.Errorf("delivery chart: deliveries in flight: %w", err)
	}
	ch.InFlight = len(inFlight) > 0
	return ch, nil
}

type chartRow struct {
	Bucket    *int64   `gorm:"column:bucket"`
	Succeeded int64    `gorm:"column:succeeded"`
	Retrying  int64    `gorm:"column:retrying"`
	Failed    int64    `gorm:"column:failed"`
	P50       *float64 `gorm:"column:p50"`
	P95       *float64 `gorm:"column:p95"`
}

// chartPostgres counts and computes exact percentiles per bucket and, in
// the grouping set (), over the whole range (the row whose bucket is NULL).
func chartPostgres(ctx context.Context, db *gorm.DB, col string, id int64, since, end time.Time, step time.Duration, ch *DeliveryChart) error {
	var rows []chartRow
	err := db.WithContext(ctx).Raw(`SELECT floor(extract(epoch FROM started_at - ?) / ?)::bigint AS bucket,
  count(*) FILTER (WHERE outcome = 'succeeded') AS succeeded,
  count(*) FILTER (WHERE outcome = 'retrying') AS retrying,
  count(*) FILTER (WHERE outcome = 'failed') AS failed,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50,
  percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95
FROM delivery_attempts WHERE `+col+` = ? AND started_at >= ? AND started_at < ?
GROUP BY GROUPING SETS ((1), ())`, since, step.Seconds(), id, since, end).Scan(&rows).Error
	if err != nil {
		return err
	}
	for _, r := range rows {
		b := &ch.Total
		if r.Bucket != nil {
			if *r.Bucket < 0 || int(*r.Bucket) >= len(ch.Buckets) {
				continue
			}
			b = &ch.Buckets[*r.Bucket]
			b.Succeeded, b.Retrying, b.Failed = r.Succeeded, r.Retrying, r.Failed
		}
		if r.P50 != nil {
			b.P50 = *r.P50
		}
		if r.P95 != nil {
			b.P95 = *r.P95
		}
	}
	return nil
}

// chartSQLite counts exactly in SQL and computes percentiles in Go over at
// most chartSampleLimit durations: every k-th attempt by id when there are
// more (an evenly spread sample, not the newest only).
func chartSQLite(ctx context.Context, db *gorm.DB, col string, id int64, since, end time.Time, step time.Duration, ch *DeliveryChart) error {
	bucket := `(CAST(strftime('%s', started_at) AS INTEGER) - ?) / ?`
	stepSec := int64(step.Seconds())
	var rows []chartRow
	err := db.WithContext(ctx).Raw(`SELECT `+bucket+` AS bucket,
  SUM(outcome = 'succeeded') AS succeeded, SUM(outcome = 'retrying') AS retrying, SUM(outcome = 'failed') AS failed
FROM delivery_attempts WHERE `+col+` = ? AND started_at >= ? AND started_at < ?
GROUP BY 1`, since.Unix(), stepSec, id, since, end).Scan(&rows).Error
	if err != nil {
		return err
	}
	var total int64
	for _, r := range rows {
		if r.Bucket == nil || *r.Bucket < 0 || int(*r.Bucket) >= len(ch.Buckets) {
			continue
		}
		b := &ch.Buckets[*r.Bucket]
		b.Succeeded, b.Retrying, b.Failed = r.Succeeded, r.Retrying, r.Failed
		total += b.Attempts()
	}
	if total == 0 {
		return nil
	}
	k := (total + chartSampleLimit - 1) / chartSampleLimit
	ch.Sampled = k > 1
	var samples []struct {
		Bucket     int64 `gorm:"column:bucket"`
		DurationMS int64 `gorm:"column:duration_ms"`
	}
	err = db.WithContext(ctx).Raw(`SELECT `+bucket+` AS bucket, duration_ms
FROM delivery_attempts WHERE `+col+` = ? AND started_at >= ? AND started_at < ? AND id % ? = 0`,
		since.Unix(), stepSec, id, since, end, k).Scan(&samples).Error
	if err != nil {
		return err
	}
	per := make([][]float64, len(ch.Buckets))
	all := make([]float64, 0, len(samples))
	for _, s := range samples {
		if s.Bucket < 0 || int(s.Bucket) >= len(per) {
			continue
		}
		per[s.Bucket] = append(per[s.Bucket], float64(s.DurationMS))
		all = append(all, float64(s.DurationMS))
	}
	for i, d := range per {
		ch.Buckets[i].P50, ch.Buckets[i].P95 = percentile(d, 0.5), percentile(d, 0.95)
	}
	ch.Total.P50, ch.Total.P95 = percentile(all, 0.5), percentile(all, 0.95)
	return nil
}

// percentile is PostgreSQL's percentile_cont: linear interpolation
// between the two nearest ranks. It sorts xs.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	pos := p * float64(len(xs)-1)
	lo := math.Floor(pos)
	hi := math.Ceil(pos)
	return xs[int(lo)] + (xs[int(hi)]-xs[int(lo)])*(pos-lo)
}
