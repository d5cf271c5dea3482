package runcond

import "testing"

func TestCacheParsesOnceAndSeesEdits(t *testing.T) {
	c := NewCache()
	a, err := c.Parse(RunMetric, `{"metric": "loss", "op": "<", "threshold": 0.2}`)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Parse(RunMetric, `{"metric": "loss", "op": "<", "threshold": 0.2}`)
	if err != nil || a != b {
		t.Fatalf("the same text parsed twice: %p %p %v", a, b, err)
	}
	edited, err := c.Parse(RunMetric, `{"metric": "loss", "op": "<", "threshold": 0.3}`)
	if err != nil || edited == a || *edited.Threshold != 0.3 {
		t.Fatalf("edited text: %+v %v", edited, err)
	}
	if _, err := c.Parse(RunMetric, `{"metric": ""}`); err == nil {
		t.Fatal("an invalid condition was accepted")
	}
	var none *Cache
	if cfg, err := none.Parse(RunMetric, `{"metric": "loss", "op": "<", "threshold": 0.2}`); err != nil || cfg == a {
		t.Fatalf("a nil cache parses anew: %p %v", cfg, err)
	}
}
