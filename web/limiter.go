package web

import (
	"sync"
	"time"
)

// LoginLimiter allows a few failed sign-ins per key (an email, a client
// address) in a window, then locks that key until the window passes. It is
// per process: enough to make online guessing slow.
type LoginLimiter struct {
	mu       sync.Mutex
	max      int
	window   time.Duration
	now      func() time.Time
	failures map[string][]time.Time
}

// NewLoginLimiter allows max failures per key within window.
func NewLoginLimiter(max int, window time.Duration) *LoginLimiter {
	return &LoginLimiter{max: max, window: window, now: time.Now, failures: map[string][]time.Time{}}
}

func (l *LoginLimiter) recent(key string) []time.Time {
	cutoff := l.now().Add(-l.window)
	fs := l.failures[key]
	i := 0
	for i < len(fs) && fs[i].Before(cutoff) {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(l.failures, key)
	} else {
		l.failures[key] = fs
	}
	return fs
}

// Allow reports whether key may try now, and if not, the seconds to wait.
func (l *LoginLimiter) Allow(key string) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fs := l.recent(key)
	if len(fs) < l.max {
		return true, 0
	}
	wait := fs[len(fs)-l.max].Add(l.window).Sub(l.now())
	return false, int(wait.Seconds()) + 1
}

// Fail records a failed attempt for key.
func (l *LoginLimiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failures[key] = append(l.recent(key), l.now())
}

// Reset forgets key's failures after a successful sign-in.
func (l *LoginLimiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, key)
}
