// Package suggest finds the known names nearest to a misspelt one, for
// error messages that say `did you mean "estimates"?`. It is not a general
// fuzzy matcher: it ranks by edit distance and keeps the close ones only.
package suggest

import (
	"sort"
	"strconv"
	"strings"
)

// Nearest returns up to n names of known nearest to name by edit
// distance (optimal string alignment: insertions, deletions, substitutions
// and swaps of two neighbours, ignoring case), closest first and then in
// the order of known. Only names within a third of name's length (at
// least one edit) are kept, so a name unlike every known one gets none.
func Nearest(name string, known []string, n int) []string {
	limit := max(len([]rune(name))/3, 1)
	type cand struct {
		name string
		d, i int
	}
	var cs []cand
	seen := map[string]bool{}
	lower := strings.ToLower(name)
	for i, k := range known {
		if k == name || seen[k] {
			continue
		}
		seen[k] = true
		if d := distance(lower, strings.ToLower(k)); d <= limit {
			cs = append(cs, cand{k, d, i})
		}
	}
	sort.SliceStable(cs, func(a, b int) bool { return cs[a].d < cs[b].d })
	var out []string
	for _, c := range cs {
		if len(out) == n {
			break
		}
		out = append(out, c.name)
	}
	return out
}

// DidYouMean is `did you mean "a"?`, `did you mean "a" or "b"?` or
// `did you mean "a", "b" or "c"?` for the names Nearest finds (up to three),
// or "" when none is close.
func DidYouMean(name string, known []string) string {
	near := Nearest(name, known, 3)
	if len(near) == 0 {
		return ""
	}
	q := make([]string, len(near))
	for i, n := range near {
		q[i] = strconv.Quote(n)
	}
	s := q[len(q)-1]
	if len(q) > 1 {
		s = strings.Join(q[:len(q)-1], ", ") + " or " + s
	}
	return "did you mean " + s + "?"
}

// distance is the optimal string alignment distance between a and b.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// d[i][j]: distance between ra[:i] and rb[:j]; three rows suffice.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
