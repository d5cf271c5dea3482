package runs

import (
	"cmp"
	"slices"

	"github.com/automations-dev/automations/models/runcond"
)

// firing is where a candidate's condition first held in a batch: the
// index of the logged step and the value the payload reports.
type firing struct {
	at    int // index into the logged steps; -1: never held
	value float64
}

// firstFirings decides, for candidates watching one metric, at which
// logged step each condition first holds. series is the metric's values
// in step order; at[k] is the position in series of the k-th logged step
// (ascending). It gives the answer of asking each candidate's Eval at
// each logged step, computed so that cost grows with the distinct
// statistics (window, aggregation, …) rather than with the candidates:
// each statistic is computed once a step, and the candidates comparing it
// with a bound are kept sorted by that bound, so those that hold are a
// prefix found by a binary search, and leave the batch once they fired.
func firstFirings(cs []*candidate, series []float64, at []int) []firing {
	out := make([]firing, len(cs))
	for i := range out {
		out[i].at = -1
	}
	type member struct {
		i     int // into cs
		bound float64
	}
	type bucket struct {
		side    int
		strict  bool
		members []member // by bound ascending
		head    int      // members before head have fired
	}
	type group struct {
		rep     *candidate // any member: the statistic depends only on the key
		need    int
		buckets []*bucket
		linear  []int // == and !=: asked one by one
		left    int
	}
	var groups []*group
	byKey := map[runcond.StatKey]*group{}
	type bucketKey struct {
		g      *group
		side   int
		strict bool
	}
	buckets := map[bucketKey]*bucket{}
	for i, c := range cs {
		k := c.cfg.Key(c.EventType)
		g := byKey[k]
		if g == nil {
			g = &group{rep: c, need: c.cfg.Need(c.EventType)}
			byKey[k] = g
			groups = append(groups, g)
		}
		g.left++
		side, strict, bound, ok := c.cfg.Bound(c.EventType)
		if !ok {
			g.linear = append(g.linear, i)
			continue
		}
		bk := bucketKey{g, side, strict}
		b := buckets[bk]
		if b == nil {
			b = &bucket{side: side, strict: strict}
			buckets[bk] = b
			g.buckets = append(g.buckets, b)
		}
		b.members = append(b.members, member{i, bound})
	}
	for _, b := range buckets {
		slices.SortStableFunc(b.members, func(x, y member) int { return cmp.Compare(x.bound, y.bound) })
	}
	for k, pos := range at {
		for _, g := range groups {
			if g.left == 0 {
				continue
			}
			lo := max(0, pos+1-g.need)
			st, ok := g.rep.cfg.Stat(g.rep.EventType, series[lo:pos+1])
			if !ok || st.Undefined {
				continue
			}
			for _, b := range g.buckets {
				score := runcond.SideOf(b.side, st.Compared)
				for b.head < len(b.members) && (b.members[b.head].bound < score || !b.strict && b.members[b.head].bound == score) {
					out[b.members[b.head].i] = firing{at: k, value: st.Reported}
					b.head++
					g.left--
				}
			}
			kept := g.linear[:0]
			for _, i := range g.linear {
				if cs[i].cfg.Holds(cs[i].EventType, st) {
					out[i] = firing{at: k, value: st.Reported}
					g.left--
					continue
				}
				kept = append(kept, i)
			}
			g.linear = kept
		}
	}
	return out
}
