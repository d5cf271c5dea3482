package web

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The endpoint health policy's defaults (ENDPOINT_DISABLE_AFTER,
// ENDPOINT_DISABLE_MIN_FAILURES), also for a Config built in code.
const (
	DefaultEndpointDisableAfter       = 72 * time.Hour
	DefaultEndpointDisableMinFailures = 20
)

// Days is a duration setting that also takes whole days ("30d"), since
// retention and health periods are naturally counted in days.
type Days time.Duration

// UnmarshalText reads "30d", "72h", "90m" or "0".
func (d *Days) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 {
			return fmt.Errorf("%q is not a number of days like 30d", s)
		}
		*d = Days(time.Duration(days) * 24 * time.Hour)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("%q is not a duration like 30d or 72h", s)
	}
	*d = Days(v)
	return nil
}

// Duration is the setting as a time.Duration.
func (d Days) Duration() time.Duration { return time.Duration(d) }
