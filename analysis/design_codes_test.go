package analysis

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestRenumberFirstSeen: renumber codes values 0..k−1 in first-seen order
// whether it uses its table (small dense codes) or its map (negative or
// sparse codes), and pairCodes does the same for pairs.
func TestRenumberFirstSeen(t *testing.T) {
	// The reference: a value's code is the number of distinct values seen
	// before its first row.
	naive := func(a []int32) []int32 {
		out := make([]int32, len(a))
		var firsts []int32
		for i, v := range a {
			out[i] = int32(slices.Index(firsts, v))
			if out[i] < 0 {
				out[i] = int32(len(firsts))
				firsts = append(firsts, v)
			}
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

// TestMatrixRankTall: the rank of tall matrices (reduced by QR in parts
// before the SVD) is the rank they were built with, and the same as the
// SVD of the whole matrix gives.
func TestMatrixRankTall(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct{ n, p, rank int }{{10, 4, 4}, {30, 8, 5}, {700, 10, 7}, {5000, 12, 12}, {5000, 12, 1}, {20000, 80, 60}} {
		basis := make([][]float64, tc.rank)
		for j := range basis {
			basis[j] = make([]float64, tc.p)
			for c := range basis[j] {
				basis[j][c] = r.NormFloat64()
			}
		}
		rows := make([][]float64, tc.n)
		for i := range rows {
			rows[i] = make([]float64, tc.p)
			for _, b := range basis {
				f := r.NormFloat64()
				for c := range b {
					rows[i][c] += f * b[c]
				}
			}
		}
		got := matrixRank(rows, tc.p)
		m := mat.NewDense(tc.n, tc.p, nil)
		for i, row := range rows {
			m.SetRow(i, row)
		}
		whole := svdRank(m)
		if got != tc.rank || whole != tc.rank {
			t.Errorf("%d×%d of rank %d: matrixRank %d, SVD of the whole matrix %d", tc.n, tc.p, tc.rank, got, whole)
		}
	}
}

// TestRepRankProbe: the rank of a replicate-weight matrix read from its
// first distinct rows when they already show full rank equals the rank of
// the whole matrix: full rank, a repeated column (rank R−1, seen only in
// the whole), and first rows that span less than the whole.
func TestRepRankProbe(t *testing.T) {
	const R, psus, per = 20, 3000, 4
	r := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct {
		name string
		want int
		fill func(psu int, f []float64)
	}{
		{"full rank", R, func(psu int, f []float64) {
			for j := range f {
				f[j] = float64(r.IntN(3)) // bootstrap multiplicities
			}
		}},
		{"repeated column", R - 1, func(psu int, f []float64) {
			for j := range f {
				f[j] = float64(r.IntN(3))
			}
			f[R-1] = f[0]
		}},
		{"late rows add the last direction", R, func(psu int, f []float64) {
			for j := range f {
				f[j] = float64(r.IntN(3))
			}
			if psu < psus-10 {
				f[R-1] = f[0] + f[1]
			}
		}},
	} {
		n := psus * per
		tb := NewTable(n)
		w := make([]float64, n)
		cols := make([][]float64, R)
		for j := range cols {
			cols[j] = make([]float64, n)
		}
		f := make([]float64, R)
		for p := range psus {
			tc.fill(p, f)
			for k := range per {
				i := p*per + k
				w[i] = 10 + float64(p%7)
				for j := range cols {
					cols[j][i] = w[i] * f[j]
				}
			}
		}
		tb.add(&Column{Name: "w", Num: w})
		names := make([]string, R)
		for j := range cols {
			names[j] = fmt.Sprintf("rw%d", j+1)
			tb.add(&Column{Name: names[j], Num: cols[j]})
		}
		d, err := NewDesign(tb, DesignSpec{Weight: "w", Replicates: &ReplicateSpec{Columns: names, Type: "bootstrap"}})
		if err != nil {
			t.Fatal(err)
		}
		m := mat.NewDense(n, R, nil)
		for i := range n {
			for j := range cols {
				m.Set(i, j, cols[j][i])
			}
		}
		whole := svdRank(m)
		if got := d.repRank(nil); got != tc.want || whole != tc.want {
			t.Errorf("%s: repRank %d, SVD of the whole matrix %d, want %d", tc.name, got, whole, tc.want)
		}
	}
}

// svdRank is the number of singular values of m above 1e-9 of the
// largest, from one SVD of the whole matrix.
func svdRank(m *mat.Dense) int {
	var svd mat.SVD
	svd.Factorize(m, mat.SVDNone)
	sv := svd.Values(nil)
	rank := 0
	for _, s := range sv {
		if s > 1e-9*sv[0] {
			rank++
		}
	}
	return rank
}
