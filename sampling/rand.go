package sampling

import (
	"hash/fnv"
	"math/bits"
	"math/rand/v2"
)

// NewRand returns the generator used for every draw in this package: PCG-DXSM
// (math/rand/v2) seeded with (seed, key-hash), where key-hash is the 64-bit
// FNV-1a hash of key. Each stratum and each PSU draws from its own stream
// (key = stratum name or PSU id), so a unit's draw depends only on the seed
// and its own stratum or PSU, not on the order of the input or on other
// strata.
func NewRand(seed uint64, key string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(key))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// uniformOpen returns a uniform number in the open interval (0, 1) with 53
// random bits: (k + 0.5)/2^53 for a uniform integer k in [0, 2^53). Like R's
// runif it never returns 0 or 1.
func uniformOpen(r *rand.Rand) float64 {
	return (float64(r.Uint64()>>11) + 0.5) / (1 << 53)
}

// uniformIndex returns a uniform integer in [0, n) by Lemire's multiply and
// reject method (unbiased), using only the generator's 64-bit output.
func uniformIndex(r *rand.Rand, n int) int {
	if n <= 0 {
		panic("sampling: uniformIndex with n <= 0")
	}
	bound := uint64(n)
	hi, lo := bits.Mul64(r.Uint64(), bound)
	if lo < bound {
		thresh := -bound % bound
		for lo < thresh {
			hi, lo = bits.Mul64(r.Uint64(), bound)
		}
	}
	return int(hi)
}

// shuffle permutes idx uniformly (Fisher–Yates, from the end).
func shuffle(r *rand.Rand, idx []int) {
	for i := len(idx) - 1; i > 0; i-- {
		j := uniformIndex(r, i+1)
		idx[i], idx[j] = idx[j], idx[i]
	}
}
