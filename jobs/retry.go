// Package jobs is the background runner: it claims due deliveries, runs
// their actions (webhook, Slack, launch), retries with backoff and records
// every attempt.
package jobs

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// DefaultRetrySchedule is the wait after each failed attempt: ten tries
// over about 15 hours, then the delivery is failed.
var DefaultRetrySchedule = []time.Duration{
	10 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour,
}

// MaxRetryAfter caps how long a receiver's Retry-After can push a retry out.
const MaxRetryAfter = 24 * time.Hour

// RetrySchedule decides when to try again.
type RetrySchedule struct {
	Waits  []time.Duration
	Jitter float64 // ±fraction of each wait, e.g. 0.2
}

// ParseRetrySchedule reads "10s,30s,2m" (RETRY_SCHEDULE); empty means the default.
func ParseRetrySchedule(s string) (RetrySchedule, error) {
	rs := RetrySchedule{Waits: DefaultRetrySchedule, Jitter: 0.2}
	if strings.TrimSpace(s) == "" {
		return rs, nil
	}
	rs.Waits = nil
	for _, part := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil || d < 0 {
			return rs, fmt.Errorf("RETRY_SCHEDULE: %q is not a duration like 30s or 2m", part)
		}
		rs.Waits = append(rs.Waits, d)
	}
	return rs, nil
}

// Next says when attempt number `attempt` (1-based, just failed) is
// retried, or ok=false when the schedule is exhausted. retryAfter, when the
// receiver sent one, is honoured if it is later than the schedule's wait.
func (rs RetrySchedule) Next(now time.Time, attempt int, retryAfter time.Duration) (time.Time, bool) {
	if attempt > len(rs.Waits) {
		return time.Time{}, false
	}
	wait := rs.Waits[attempt-1]
	if rs.Jitter > 0 && wait > 0 {
		wait += time.Duration((rand.Float64()*2 - 1) * rs.Jitter * float64(wait))
	}
	if retryAfter > wait {
		wait = min(retryAfter, MaxRetryAfter)
	}
	return now.Add(wait), true
}
