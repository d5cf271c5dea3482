package handlers

import (
	"strconv"
	"strings"
	"time"

	"github.com/automations-dev/automations/models"
)

// parseWindow reads a duration as the API and the wizard write it ("90s",
// "30m", "24h", "7d"; empty: 0) into whole seconds.
func parseWindow(field, s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil || n <= 0 {
			return 0, models.Invalid(field, "write a duration such as 24h or 7d")
		}
		return n * 24 * 3600, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Second {
		return 0, models.Invalid(field, "write a duration such as 24h or 7d")
	}
	return int64(d / time.Second), nil
}
