package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/automations-dev/automations/web"
	"github.com/automations-dev/automations/web/webtest"
)

func TestParallelWrongPasswordsAreCountedBeforeTheyAreChecked(t *testing.T) {
	app := webtest.Start(t)
	app.User(t, "ada@example.com", false)
	s := app.Anonymous(t)
	s.Get(t, "/login") // the CSRF cookie
	token := s.CSRFToken()
	form := url.Values{"email": {"ada@example.com"}, "password": {"wrong guess"}, "_csrf": {token}}.Encode()

	const n = 100
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", app.URL+"/login", strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(&http.Cookie{Name: "_csrf", Value: token})
			<-start
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	counts := map[int]int{}
	for _, st := range statuses {
		counts[st]++
	}
	// A 401 is a request whose password reached bcrypt; the rest were
	// refused before it.
	limit := web.DefaultIPThrottle.Free
	if counts[http.StatusUnauthorized] != limit || counts[http.StatusTooManyRequests] != n-limit {
		t.Fatalf("statuses %v: want %d checked (401) and %d refused (429)", counts, limit, n-limit)
	}
	status, body := s.PostForm(t, "/login", url.Values{"email": {"ada@example.com"}, "password": {webtest.Password}})
	if status != http.StatusTooManyRequests || !contains(body, "Too many failed sign-in attempts") {
		t.Fatalf("right password after the burst: %d, want 429", status)
	}
}

// failFrom makes n wrong-password attempts, each for a different email so
// only the address's bucket fills, with header added to each request.
func failFrom(t *testing.T, s *webtest.Session, n int, header http.Header) {
	t.Helper()
	for i := range n {
		form := url.Values{"email": {fmt.Sprintf("guess%d@example.com", i)}, "password": {"wrong guess"}}
		if status, _ := s.PostFormWithHeader(t, "/login", form, header); status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d, want 401", i, status)
		}
	}
}

func TestForwardedForFromAnUntrustedPeerDoesNotChangeTheBucket(t *testing.T) {
	app := webtest.Start(t)
	app.User(t, "ada@example.com", false)
	s := app.Anonymous(t)
	failFrom(t, s, web.DefaultIPThrottle.Free, nil)
	forged := http.Header{"X-Forwarded-For": {"203.0.113.9"}}
	status, _ := s.PostFormWithHeader(t, "/login", url.Values{"email": {"ada@example.com"}, "password": {webtest.Password}}, forged)
	if status != http.StatusTooManyRequests {
		t.Fatalf("with a forged X-Forwarded-For: %d, want 429 (same address)", status)
	}
}

func TestForwardedForFromATrustedProxyNamesTheClient(t *testing.T) {
	app := webtest.Start(t, webtest.WithConfig(func(c *web.Config) { c.TrustedProxies = []string{"127.0.0.1/32"} }))
	app.User(t, "ada@example.com", false)
	s := app.Anonymous(t)
	first := http.Header{"X-Forwarded-For": {"203.0.113.9"}}
	failFrom(t, s, web.DefaultIPThrottle.Free, first)
	login := url.Values{"email": {"ada@example.com"}, "password": {webtest.Password}}
	if status, _ := s.PostFormWithHeader(t, "/login", login, first); status != http.StatusTooManyRequests {
		t.Fatalf("same forwarded client: %d, want 429", status)
	}
	second := http.Header{"X-Forwarded-For": {"198.51.100.7"}, "User-Agent": {"TestBrowser/1.0"}}
	if status, body := s.PostFormWithHeader(t, "/login", login, second); status != http.StatusSeeOther {
		t.Fatalf("another forwarded client: %d, want signed in: %s", status, body)
	}
	_, page := s.Get(t, "/settings")
	if !contains(page, "198.51.100.7") || !contains(page, "TestBrowser/1.0") {
		t.Error("the sessions list does not show the forwarded client's address and agent")
	}
}

// clock is a hand-moved time for the limiter.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestLimiterDelaysGrowAndAreCapped(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	ipPolicy := web.ThrottlePolicy{Free: 3, First: 30 * time.Second, Max: 2 * time.Minute, Forget: time.Hour}
	l := web.NewLoginLimiter(web.DefaultEmailThrottle, ipPolicy, c.now)
	for i := range 3 {
		if ok, _ := l.Reserve(fmt.Sprintf("u%d@example.com", i), "192.0.2.1"); !ok {
			t.Fatalf("free attempt %d refused", i)
		}
	}
	for _, want := range []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 2 * time.Minute} {
		ok, wait := l.Reserve("x@example.com", "192.0.2.1")
		if ok || wait != want {
			t.Fatalf("after the free attempts: ok=%v wait=%v, want refused for %v", ok, wait, want)
		}
		c.t = c.t.Add(wait - time.Second)
		if ok, _ := l.Reserve("x@example.com", "192.0.2.1"); ok {
			t.Fatal("allowed a second early")
		}
		c.t = c.t.Add(time.Second)
		if ok, _ := l.Reserve("x@example.com", "192.0.2.1"); !ok {
			t.Fatalf("refused after waiting %v", want)
		}
	}
	// Another address is unaffected; a quiet hour forgets the address.
	if ok, _ := l.Reserve("y@example.com", "192.0.2.2"); !ok {
		t.Fatal("another address was throttled")
	}
	c.t = c.t.Add(time.Hour + time.Second)
	if ok, _ := l.Reserve("z@example.com", "192.0.2.1"); !ok {
		t.Fatal("the address was not forgotten after Forget")
	}
}

func TestGuessesFromManyAddressesLockTheOwnerOutBriefly(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := web.NewLoginLimiter(web.DefaultEmailThrottle, web.DefaultIPThrottle, c.now)
	// A distributed guesser takes every attempt the account allows, for a day.
	// It ends on a guess that went through, the owner's worst moment.
	attacker, longest := 0, time.Duration(0)
	for lastOK := false; !lastOK || c.t.Before(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)); {
		attacker++
		ok, wait := l.Reserve("ada@example.com", fmt.Sprintf("198.51.100.%d", attacker%250))
		longest = max(longest, wait)
		if !ok {
			c.t = c.t.Add(wait)
		}
		lastOK = ok
	}
	if longest != 15*time.Minute {
		t.Fatalf("the account's longest wait was %v, want it to grow to the 15-minute cap", longest)
	}
	// The owner, on an address of their own, gets in within 15 minutes of
	// the last guess and is counted fresh afterwards.
	ok, wait := l.Reserve("ada@example.com", "192.0.2.50")
	if ok || wait > 15*time.Minute {
		t.Fatalf("owner right after a guess: ok=%v wait=%v", ok, wait)
	}
	c.t = c.t.Add(wait)
	if ok, _ := l.Reserve("ada@example.com", "192.0.2.50"); !ok {
		t.Fatal("owner refused after the wait")
	}
	l.Succeeded("ada@example.com", "192.0.2.50")
	if ok, _ := l.Reserve("ada@example.com", "192.0.2.50"); !ok {
		t.Fatal("a successful sign-in did not start the account's count over")
	}
}
