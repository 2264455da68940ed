package analysis

import "math"

// hadamard returns the 0/1 Hadamard matrix R's survey::hadamard(n) returns
// for n strata: at least n+1 rows, the smallest R finds among its
// precomputed matrices (4, 16, 28, 36), Paley's construction for a prime
// p ≡ 3 (mod 4) and Sylvester doubling. BRR uses rows 2..n+1; the number
// of columns is the number of replicates.
func hadamard(n int) [][]uint8 {
	sizes := []int{4, 16, 28, 36}
	m := n - n%4
	for k, s := range sizes {
		if m < s && m+4 >= s {
			return precookedHadamard(k)
		}
	}
	// sizes · 2^max(0, ⌈log2((n+1)/size)⌉): the precomputed sizes doubled
	// until they have n+1 rows; the first closest fit wins.
	best, bestSize, bestDoubles := -1, 0, 0
	for k, s := range sizes {
		d := max(0, int(math.Ceil(math.Log2(float64(n+1)/float64(s)))))
		sz := s << d
		if best < 0 || sz-n < bestSize-n {
			best, bestSize, bestDoubles = k, sz, d
		}
	}
	if bestSize-n > 4 {
		if h := paley(n, bestSize); h != nil {
			return h
		}
	}
	h := precookedHadamard(best)
	for range bestDoubles {
		h = hadamardDouble(h)
	}
	return h
}

func precookedHadamard(k int) [][]uint8 {
	rows := hadamardPrecooked[k]
	h := make([][]uint8, len(rows))
	for i, r := range rows {
		h[i] = make([]uint8, len(r))
		for j := range r {
			h[i][j] = r[j] - '0'
		}
	}
	return h
}

// hadamardDouble is Sylvester's doubling [H H; H 1−H] (R: hadamard.doubler).
func hadamardDouble(h [][]uint8) [][]uint8 {
	n := len(h)
	out := make([][]uint8, 2*n)
	for i := range out {
		out[i] = make([]uint8, 2*n)
		src := h[i%n]
		for j := range out[i] {
			v := src[j%n]
			if i >= n && j >= n {
				v = 1 - v
			}
			out[i][j] = v
		}
	}
	return out
}

// paley is R survey's paley(n, nmax): a Hadamard matrix of at least n+1
// rows from Paley's construction (with doublings), or nil when R's returns
// NULL.
func paley(n, nmax int) [][]uint8 {
	nceil := n + 4 - n%4
	nn := nceil
	if n%4+4 == n%8 {
		for nn%8 == 0 {
			nn /= 2
		}
		if isPaleyPrime(nn - 1) {
			m := paleyPrime(nn - 1)
			for nn < nceil {
				m = hadamardDouble(m)
				nn *= 2
			}
			return m
		}
	}
	if n > paleyMaxPrime {
		return nil
	}
	p := n
	for !isPaleyPrime(p) {
		p++
	}
	if p+1 > nceil+4 && nceil+4 < nmax {
		return paley(nceil+3, 2*(nceil+3))
	}
	if p > nmax {
		return nil
	}
	return paleyPrime(p)
}

// paleyMaxPrime is the largest prime in R's paley table (primes ≡ 3 mod 4
// up to 7919).
const paleyMaxPrime = 7919

// isPaleyPrime reports whether p is a prime ≡ 3 (mod 4) in R's table.
func isPaleyPrime(p int) bool {
	if p < 3 || p > paleyMaxPrime || p%4 != 3 {
		return false
	}
	for d := 3; d*d <= p; d += 2 {
		if p%d == 0 {
			return false
		}
	}
	return true
}

// paleyPrime is Paley's construction for the prime p: entry (i, j) of the
// p×p core is 0 when (i+j) mod p is a quadratic residue (or 0), else 1,
// bordered by a row and a column of ones.
func paleyPrime(p int) [][]uint8 {
	res := map[int]bool{0: true, 1: true}
	for i := 2; i <= (p-1)/2; i++ {
		res[i*i%p] = true
	}
	out := make([][]uint8, p+1)
	for i := range out {
		out[i] = make([]uint8, p+1)
		for j := range out[i] {
			switch {
			case i == 0 || j == 0:
				out[i][j] = 1
			case !res[(i-1+j-1)%p]:
				out[i][j] = 1
			}
		}
	}
	return out
}
