package redact

import "strings"

// finder answers "does any needle occur in s?" without allocating, in one
// pass over s: a Bloom filter of the needles' first four bytes (two bits
// per needle, so a run of one repeated character that happens to share a
// bit with a needle does not make every position a hit) is probed at each
// position of s, and only a hit is checked against the
// needles that start with those four bytes. A few needles (a plain ASCII
// value has five forms) and needles shorter than four bytes are searched
// for one by one instead: strings.Contains scans with vector
// instructions, faster than the probe while there are few.
//
// It only decides whether the Replacer must run: a miss here is exactly
// "the Replacer would change nothing", so String's output is the same.
type finder struct {
	bits  []uint64            // 1<<finderBits bits
	heads map[uint32][]string // first four bytes → needles starting with them
	short []string            // needles under four bytes
}

const finderBits = 14

// finderDirect is how many needles are searched for one by one.
const finderDirect = 16

func newFinder(needles []string) finder {
	if len(needles) <= finderDirect {
		return finder{short: needles}
	}
	f := finder{bits: make([]uint64, (1<<finderBits)/64), heads: map[uint32][]string{}}
	for _, n := range needles {
		if len(n) < 4 {
			f.short = append(f.short, n)
			continue
		}
		k := head(n, 0)
		h1, h2 := hashHead(k)
		f.bits[h1/64] |= 1 << (h1 % 64)
		f.bits[h2/64] |= 1 << (h2 % 64)
		f.heads[k] = append(f.heads[k], n)
	}
	return f
}

// any reports whether a needle occurs in s.
func (f *finder) any(s string) bool {
	for _, n := range f.short {
		if strings.Contains(s, n) {
			return true
		}
	}
	if f.bits == nil {
		return false
	}
	for i := 0; i+4 <= len(s); i++ {
		k := head(s, i)
		h1, h2 := hashHead(k)
		if f.bits[h1/64]&(1<<(h1%64)) == 0 || f.bits[h2/64]&(1<<(h2%64)) == 0 {
			continue
		}
		for _, n := range f.heads[k] {
			if strings.HasPrefix(s[i:], n) {
				return true
			}
		}
	}
	return false
}

// head is the four bytes of s at i, little-endian.
func head(s string, i int) uint32 {
	return uint32(s[i]) | uint32(s[i+1])<<8 | uint32(s[i+2])<<16 | uint32(s[i+3])<<24
}

// hashHead spreads four bytes over the bitmap twice (Fibonacci hashing:
// two slices of one 64-bit product).
func hashHead(k uint32) (uint32, uint32) {
	h := uint64(k) * 0x9e3779b97f4a7c15
	return uint32(h >> (64 - finderBits)), uint32(h>>(64-2*finderBits)) & (1<<finderBits - 1)
}
