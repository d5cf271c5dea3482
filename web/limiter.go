package web

import (
	"sync"
	"time"
)

// ThrottlePolicy is how attempts under one kind of key (an email, a client
// address) are slowed down: Free attempts go through at once, then each
// further attempt must wait First after the previous one, doubling every
// time up to Max. A key with no attempt for Forget starts over.
type ThrottlePolicy struct {
	Free   int
	First  time.Duration
	Max    time.Duration
	Forget time.Duration
}

// gap is how long attempt number n (1-based) must wait after the one before.
func (p ThrottlePolicy) gap(n int) time.Duration {
	if n <= p.Free {
		return 0
	}
	d := p.First
	for i := p.Free + 1; i < n && d < p.Max; i++ {
		d *= 2
	}
	return min(d, p.Max)
}

// Default throttling. One address gets fewer tries than one account, so a
// guesser on a single address is stopped by its own bucket before the
// account's, and the owner signing in from elsewhere is not affected. An
// account's wait never exceeds 15 minutes: a distributed guesser can slow
// its owner down, not lock them out for long.
var (
	DefaultIPThrottle    = ThrottlePolicy{Free: 10, First: 30 * time.Second, Max: time.Hour, Forget: time.Hour}
	DefaultEmailThrottle = ThrottlePolicy{Free: 20, First: 30 * time.Second, Max: 15 * time.Minute, Forget: time.Hour}
)

type attempts struct {
	count int
	last  time.Time
}

type bucket struct {
	policy ThrottlePolicy
	keys   map[string]*attempts
}

// wait is how long key must still wait before its next attempt.
func (b *bucket) wait(key string, now time.Time) time.Duration {
	a := b.keys[key]
	if a == nil {
		return 0
	}
	return max(a.last.Add(b.policy.gap(a.count+1)).Sub(now), 0)
}

func (b *bucket) sweep(now time.Time) {
	for k, a := range b.keys {
		if now.Sub(a.last) > b.policy.Forget {
			delete(b.keys, k)
		}
	}
}

// LoginLimiter throttles password checks per email and per client address.
// An attempt is counted when it is reserved, before the password is
// checked, so parallel guesses cannot all slip in before the first failure
// is recorded. It is per process: enough to make online guessing slow.
type LoginLimiter struct {
	mu        sync.Mutex
	now       func() time.Time
	email, ip bucket
	lastSweep time.Time
}

// NewLoginLimiter throttles with the given policies; now is the clock
// (time.Now in production).
func NewLoginLimiter(email, ip ThrottlePolicy, now func() time.Time) *LoginLimiter {
	return &LoginLimiter{
		now:   now,
		email: bucket{policy: email, keys: map[string]*attempts{}},
		ip:    bucket{policy: ip, keys: map[string]*attempts{}},
	}
}

// Reserve counts an attempt for email and ip if both may try now. If
// either must wait, nothing is counted and the longer wait is returned.
func (l *LoginLimiter) Reserve(email, ip string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.lastSweep) > time.Minute {
		// Forgetting idle keys keeps a spray of made-up emails from
		// growing the maps without bound.
		l.email.sweep(now)
		l.ip.sweep(now)
		l.lastSweep = now
	}
	if w := max(l.email.wait(email, now), l.ip.wait(ip, now)); w > 0 {
		return false, w
	}
	for _, c := range []struct {
		b   *bucket
		key string
	}{{&l.email, email}, {&l.ip, ip}} {
		a := c.b.keys[c.key]
		if a == nil || now.Sub(a.last) > c.b.policy.Forget {
			a = &attempts{}
			c.b.keys[c.key] = a
		}
		a.count++
		a.last = now
	}
	return true, 0
}

// Succeeded records that the reserved attempt had the right password: the
// account's count starts over and the address gets its attempt back.
func (l *LoginLimiter) Succeeded(email, ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.email.keys, email)
	if a := l.ip.keys[ip]; a != nil && a.count > 0 {
		a.count--
	}
}
