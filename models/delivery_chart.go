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

// chartSampleLimit bounds the attempts percentiles are computed over:
// exact up to it, above it over an even sample of about this many
// (percentile_cont on PostgreSQL, the same interpolation in Go on SQLite).
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
	// In flight: through the small partial index of unfinished deliveries
	// (held ones wait for a person, not for a worker: nothing to watch).
	// The unary + keeps both planners off the by-automation index, which
	// would walk every delivery the automation ever had.
	var inFlight []int64
	if err := db.WithContext(ctx).Raw(`SELECT 1 FROM deliveries WHERE completed_at IS NULL AND state IN ('queued', 'running', 'retrying') AND +`+col+` = ? LIMIT 1`, id).
		Scan(&inFlight).Error; err != nil {
		return nil, fmt.Errorf("delivery chart: deliveries in flight: %w", err)
	}
	ch.InFlight = len(inFlight) > 0
	return ch, nil
}

// sampled is the condition picking an even sample of about 1 in k
// attempts: a multiplicative hash of the delivery id modulo a prime, so
// ids in any stride (two automations firing on the same events take
// turns) are sampled alike; a delivery's attempts stay together. 40503 ×
// an id stays inside 64 bits for ids below 2×10^14.
const sampled = `(delivery_id * 40503) % 65521 < ?`

// sampleEvery is the share of attempts (out of 65521) sampled for an
// even sample of about chartSampleLimit of total; 65521 keeps them all.
func sampleEvery(total int64) int64 {
	if total <= chartSampleLimit {
		return 65521
	}
	return max(65521*chartSampleLimit/total, 1)
}

// chartPostgres counts exactly (a hash aggregate over date_bin, no sort),
// then computes percentile_cont per bucket and, in the grouping set (),
// over the whole range (the row whose bucket is NULL), over at most about
// chartSampleLimit attempts: sorting every attempt of a busy month is
// what made the chart slow (see BenchmarkDeliveryChartMillion).
func chartPostgres(ctx context.Context, db *gorm.DB, col string, id int64, since, end time.Time, step time.Duration, ch *DeliveryChart) error {
	bucket := `date_bin(make_interval(secs => ?), started_at, ?)`
	stepSec := step.Seconds()
	var counts []chartTimeRow
	err := db.WithContext(ctx).Raw(`SELECT `+bucket+` AS at,
  count(*) FILTER (WHERE outcome = 'succeeded') AS succeeded,
  count(*) FILTER (WHERE outcome = 'retrying') AS retrying,
  count(*) FILTER (WHERE outcome = 'failed') AS failed
FROM delivery_attempts WHERE `+col+` = ? AND started_at >= ? AND started_at < ?
GROUP BY 1`, stepSec, since, id, since, end).Scan(&counts).Error
	if err != nil {
		return err
	}
	total := ch.setCounts(counts, since, step)
	if total == 0 {
		return nil
	}
	share := sampleEvery(total)
	ch.Sampled = share < 65521
	var rows []chartTimeRow
	err = db.WithContext(ctx).Raw(`SELECT `+bucket+` AS at,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50,
  percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95
FROM delivery_attempts WHERE `+col+` = ? AND started_at >= ? AND started_at < ? AND `+sampled+`
GROUP BY GROUPING SETS ((1), ())`, stepSec, since, id, since, end, share).Scan(&rows).Error
	if err != nil {
		return err
	}
	for _, r := range rows {
		b := &ch.Total
		if r.At != nil {
			if b = ch.bucketAt(*r.At, since, step); b == nil {
				continue
			}
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

// chartTimeRow is a chart row: PostgreSQL names its bucket by date_bin's
// start, SQLite by its number.
type chartTimeRow struct {
	At        *time.Time `gorm:"column:at"`
	Bucket    *int64     `gorm:"column:bucket"` // SQLite's bucket number
	Succeeded int64      `gorm:"column:succeeded"`
	Retrying  int64      `gorm:"column:retrying"`
	Failed    int64      `gorm:"column:failed"`
	P50       *float64   `gorm:"column:p50"`
	P95       *float64   `gorm:"column:p95"`
}

// bucketAt is the bucket starting at t, nil outside the range.
func (ch *DeliveryChart) bucketAt(t, since time.Time, step time.Duration) *ChartBucket {
	i := int(t.Sub(since) / step)
	if t.Before(since) || i >= len(ch.Buckets) {
		return nil
	}
	return &ch.Buckets[i]
}

// setCounts puts each row's counts in its bucket and returns the sum.
func (ch *DeliveryChart) setCounts(rows []chartTimeRow, since time.Time, step time.Duration) int64 {
	var total int64
	for _, r := range rows {
		var b *ChartBucket
		switch {
		case r.At != nil:
			b = ch.bucketAt(*r.At, since, step)
		case r.Bucket != nil && *r.Bucket >= 0 && int(*r.Bucket) < len(ch.Buckets):
			b = &ch.Buckets[*r.Bucket]
		}
		if b == nil {
			continue
		}
		b.Succeeded, b.Retrying, b.Failed = r.Succeeded, r.Retrying, r.Failed
		total += b.Attempts()
	}
	return total
}

// chartSQLite counts exactly in SQL and computes percentiles in Go over at
// most about chartSampleLimit durations (an evenly spread sample by
// delivery id, not the newest only), like chartPostgres.
func chartSQLite(ctx context.Context, db *gorm.DB, col string, id int64, since, end time.Time, step time.Duration, ch *DeliveryChart) error {
	bucket := `(CAST(strftime('%s', started_at) AS INTEGER) - ?) / ?`
	stepSec := int64(step.Seconds())
	var rows []chartTimeRow
	err := db.WithContext(ctx).Raw(`SELECT `+bucket+` AS bucket,
  SUM(outcome = 'succeeded') AS succeeded, SUM(outcome = 'retrying') AS retrying, SUM(outcome = 'failed') AS failed
FROM delivery_attempts WHERE `+col+` = ? AND started_at >= ? AND started_at < ?
GROUP BY 1`, since.Unix(), stepSec, id, since, end).Scan(&rows).Error
	if err != nil {
		return err
	}
	total := ch.setCounts(rows, since, step)
	if total == 0 {
		return nil
	}
	share := sampleEvery(total)
	ch.Sampled = share < 65521
	var samples []struct {
		Bucket     int64 `gorm:"column:bucket"`
		DurationMS int64 `gorm:"column:duration_ms"`
	}
	err = db.WithContext(ctx).Raw(`SELECT `+bucket+` AS bucket, duration_ms
FROM delivery_attempts WHERE `+col+` = ? AND started_at >= ? AND started_at < ? AND `+sampled,
		since.Unix(), stepSec, id, since, end, share).Scan(&samples).Error
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
