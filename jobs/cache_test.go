package jobs

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Many concurrent gets of one key load it once; a failed load is not kept.
func TestCacheLoadsOncePerKey(t *testing.T) {
	c := newCache[int, int](time.Hour, 10)
	var loads atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			v, err := c.get(1, func() (int, error) {
				loads.Add(1)
				<-release
				return 42, nil
			})
			if err != nil || v != 42 {
				t.Errorf("get = %d, %v", v, err)
			}
		})
	}
	for loads.Load() == 0 {
		time.Sleep(time.Millisecond) // until the first load started
	}
	close(release)
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Fatalf("loaded %d times, want 1", n)
	}
	if _, err := c.get(2, func() (int, error) { return 0, errors.New("down") }); err == nil {
		t.Fatal("want the load error")
	}
	if v, err := c.get(2, func() (int, error) { return 7, nil }); err != nil || v != 7 {
		t.Fatalf("after a failed load: %d, %v", v, err)
	}
}

// A load that panics (the runner recovers an action's panic) lets the next
// get of its key load again instead of waiting forever, and caches nothing.
func TestCacheLoadThatPanicsReleasesTheKey(t *testing.T) {
	c := newCache[int, int](time.Hour, 10)
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the panic did not reach the caller")
			}
		}()
		_, _ = c.get(1, func() (int, error) { panic("boom") })
	}()
	got := make(chan int, 1)
	go func() {
		v, _ := c.get(1, func() (int, error) { return 5, nil })
		got <- v
	}()
	select {
	case v := <-got:
		if v != 5 {
			t.Fatalf("after the panic: %d, want 5 from a new load", v)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the get after a panicking load is still waiting")
	}
}
