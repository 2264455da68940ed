package analysis

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

// TestRenumberFirstSeen: renumber codes values 0..k−1 in first-seen order
// whether it uses its table (small dense codes) or its map (negative or
// sparse codes), and pairCodes does the same for pairs.
func TestRenumberFirstSeen(t *testing.T) {
	naive := func(a []int32) []int32 {
		m := map[int32]int32{}
		out := make([]int32, len(a))
		for i, v := range a {
			c, ok := m[v]
			if !ok {
				c = int32(len(m))
				m[v] = c
			}
			out[i] = c
		}
		return out
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, span := range []int32{1, 7, 1000, 1 << 30} {
		for _, n := range []int{0, 1, 5, 300} {
			a := make([]int32, n)
			for i := range a {
				if i > 0 && r.IntN(3) > 0 {
					a[i] = a[i-1] // runs, as rows of a cluster
					continue
				}
				a[i] = r.Int32N(span)
				if span == 7 && r.IntN(4) == 0 {
					a[i] = -a[i] - 1
				}
			}
			if got, want := renumber(a), naive(a); !reflect.DeepEqual(got, want) {
				t.Fatalf("span %d, n %d: %v, want %v", span, n, got, want)
			}
			b := make([]int32, n)
			for i := range b {
				b[i] = int32(r.IntN(2))
			}
			pairs := make([]int32, n)
			for i := range pairs {
				pairs[i] = a[i]*2 + b[i]
			}
			if got, want := pairCodes(a, b), naive(pairs); n > 0 && span < 1<<20 && !reflect.DeepEqual(got, want) {
				t.Fatalf("pairs, span %d, n %d: %v, want %v", span, n, got, want)
			}
		}
	}
}
