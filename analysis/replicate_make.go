package analysis

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
)

// Types of replicate weights [Design.MakeReplicates] makes, beside JK1,
// JKn, BRR, Fay and bootstrap.
const (
	// RepSubbootstrap is the Rao–Wu rescaled bootstrap (R's
	// subbootweights): n_h − 1 PSUs drawn with replacement in each stratum,
	// weights rescaled by n_h/(n_h − 1), scale 1/(R − 1).
	RepSubbootstrap = "subbootstrap"
)

// MakeReplicates asks for replicate weights made from the design's
// first-stage strata and PSUs, as R's as.svrepdesign(design, type=, ...).
type MakeReplicates struct {
	// Type is JK1 (unstratified designs), JKn, BRR, Fay, bootstrap or
	// subbootstrap.
	Type string `json:"type" yaml:"type"`
	// Rho is Fay's ρ (type Fay; 0 < ρ < 1).
	Rho float64 `json:"rho,omitempty" yaml:"rho"`
	// Small and Large say what BRR and Fay do with strata of one PSU
	// (fail, the default; split; merge) and of more than two (split, the
	// default, pairs them in order of appearance; merge halves them; fail),
	// as R's brrweights(small=, large=).
	Small string `json:"small,omitempty" yaml:"small"`
	Large string `json:"large,omitempty" yaml:"large"`
	// Replicates is the number of bootstrap replicates (default 50).
	Replicates int `json:"replicates,omitempty" yaml:"replicates"`
	// Seed makes bootstrap replicates reproducible.
	Seed uint64 `json:"seed,omitempty" yaml:"seed"`
}

// ReplicateWeights are replicate weights made from a design: replicate r's
// weight of row i is Factor(r, i) times the full-sample weight (R's
// repweights with combined.weights = FALSE).
type ReplicateWeights struct {
	// Type is JK1, JKn, BRR, Fay, bootstrap or subbootstrap.
	Type string
	// Rho is Fay's ρ (0 for the others).
	Rho float64
	// Scale and RScales give the variance scale·Σ_r rscales_r(θ̂_r − θ̄)².
	Scale   float64
	RScales []float64
	// factors[r][c] is replicate r's factor of first-stage cluster c.
	factors [][]float64
	cluster []int32
}

// Count is the number of replicates.
func (rw *ReplicateWeights) Count() int { return len(rw.factors) }

// Factor is replicate r's factor of row i.
func (rw *ReplicateWeights) Factor(r, i int) float64 { return rw.factors[r][rw.cluster[i]] }

// RType is the type to declare with R's svrepdesign (subbootstrap is
// declared as type "bootstrap" with its scale).
func (rw *ReplicateWeights) RType() string {
	if rw.Type == RepSubbootstrap {
		return RepBootstrap
	}
	return rw.Type
}

// MakeReplicates makes replicate weights from the design's first-stage
// strata and PSUs as R's as.svrepdesign does (survey 4.1): the same
// replicates in the same order for JK1 (R's jk1weights), JKn (jknweights,
// with the design's lonely-PSU rule and first-stage fpc), BRR and Fay
// (brrweights and hadamard), and R's bootweights and subbootweights
// algorithms with this package's random numbers for bootstrap and
// subbootstrap. Later stages and their fpc are ignored, as R drops them.
func (d *Design) MakeReplicates(m MakeReplicates) (*ReplicateWeights, error) {
	stratified := d.spec.Strata != ""
	typ := strings.ToLower(m.Type)
	if m.Rho != 0 && typ != "fay" {
		return nil, fmt.Errorf("replicates: rho is for type Fay")
	}
	if (m.Small != "" || m.Large != "") && typ != "brr" && typ != "fay" {
		return nil, fmt.Errorf("replicates: small and large are for types BRR and Fay")
	}
	if (m.Replicates != 0 || m.Seed != 0) && typ != "bootstrap" && typ != "subbootstrap" {
		return nil, fmt.Errorf("replicates: replicates and seed are for types bootstrap and subbootstrap")
	}
	switch typ {
	case "jk1":
		if stratified {
			return nil, fmt.Errorf("replicates: JK1 is for unstratified designs; use JKn for a stratified one (as R's as.svrepdesign)")
		}
		if n := d.PSUs(); n < 2 || d.fpcFactor(0) == 0 {
			return nil, fmt.Errorf("replicates: JK1 needs at least two PSUs sampled from a larger population (have %d PSUs)", n)
		}
		return d.jk1(), nil
	case "jkn":
		if !stratified {
			return nil, fmt.Errorf("replicates: JKn, BRR and Fay need strata; use JK1 or bootstrap for an unstratified design")
		}
		return d.jkn()
	case "brr", "fay":
		if !stratified {
			return nil, fmt.Errorf("replicates: JKn, BRR and Fay need strata; use JK1 or bootstrap for an unstratified design")
		}
		rho := m.Rho
		if typ == "fay" && !(rho > 0 && rho < 1) {
			return nil, fmt.Errorf("replicates: type Fay needs rho in (0, 1), e.g. rho: 0.5")
		}
		return d.brr(rho, m.Small, m.Large)
	case "bootstrap", "subbootstrap":
		R := m.Replicates
		if R == 0 {
			R = 50
		}
		if R < 2 {
			return nil, fmt.Errorf("replicates: %d bootstrap replicates; give at least 2", R)
		}
		rng := rand.New(rand.NewPCG(m.Seed, 0x9e3779b97f4a7c15))
		if typ == "bootstrap" {
			return d.bootstrap(R, rng)
		}
		return d.subbootstrap(R, rng)
	}
	return nil, fmt.Errorf("replicates: make type %q is not one of JK1, JKn, BRR, Fay, bootstrap, subbootstrap", m.Type)
}

// strataInOrder lists the first-stage strata in order of first appearance
// of their PSUs (R's unique(strata)), each with its PSUs in order of
// appearance (cluster codes are numbered so).
func (d *Design) strataInOrder() [][]int32 {
	st := &d.stages[0]
	seen := make([]bool, len(st.stratumName))
	var order [][]int32
	pos := make([]int, len(st.stratumName))
	for c, h := range st.clusterStratum {
		if !seen[h] {
			seen[h] = true
			pos[h] = len(order)
			order = append(order, nil)
		}
		order[pos[h]] = append(order[pos[h]], int32(c))
	}
	return order
}

func (d *Design) newReplicateWeights(typ string, R int) *ReplicateWeights {
	nc := len(d.stages[0].clusterStratum)
	rw := &ReplicateWeights{Type: typ, cluster: d.stages[0].cluster, factors: make([][]float64, R), RScales: make([]float64, R)}
	for r := range rw.factors {
		rw.factors[r] = make([]float64, nc)
		rw.RScales[r] = 1
	}
	return rw
}

// fpcFactor is (N − n)/N of stratum h's first stage (1 without fpc).
func (d *Design) fpcFactor(h int32) float64 {
	st := &d.stages[0]
	pop := st.stratumPop[h]
	if math.IsInf(pop, 1) {
		return 1
	}
	return (pop - float64(st.stratumNPSU[h])) / pop
}

// jk1 is R's jk1weights: replicate k drops PSU k and multiplies the
// others by n/(n − 1); scale f·(n − 1)/n with f the fpc factor. A design
// that took every PSU has no replicates.
func (d *Design) jk1() *ReplicateWeights {
	n := len(d.stages[0].clusterStratum)
	f := d.fpcFactor(0)
	rw := d.newReplicateWeights(RepJK1, n)
	for r := range rw.factors {
		for c := range rw.factors[r] {
			if c != r {
				rw.factors[r][c] = float64(n) / float64(n-1)
			}
		}
	}
	rw.Scale = f * float64(n-1) / float64(n)
	return rw
}

// jkn is R's jknweights: in each stratum h (in order of appearance) one
// replicate per PSU, dropping it and multiplying the stratum's other PSUs
// by n_h/(n_h − 1), with rscale f_h(n_h − 1)/n_h. A stratum with a single
// PSU follows the design's lonely-PSU rule as R's does: fail; remove,
// certainty and average give it no replicate (average then scales by
// PSUs/replicates); adjust gives it one replicate that drops it and
// multiplies every other PSU by H/(H − 1), rscale (H − 1)/H.
func (d *Design) jkn() (*ReplicateWeights, error) {
	st := &d.stages[0]
	strata := d.strataInOrder()
	nstrat := len(strata)
	nc := len(st.clusterStratum)
	var factors [][]float64
	var rscales []float64
	for _, psus := range strata {
		h := st.clusterStratum[psus[0]]
		f := d.fpcFactor(h)
		n := len(psus)
		if f == 0 {
			continue // taken whole: no replicates (survey.drop.replicates)
		}
		if n == 1 {
			switch d.lonely {
			case LonelyFail:
				return nil, fmt.Errorf("replicates: stratum %s has only one PSU; choose a lonely_psu rule (remove, certainty, adjust, average)", st.stratumName[h])
			case LonelyAdjust:
				col := make([]float64, nc)
				for c := range col {
					if st.clusterStratum[c] != h {
						col[c] = float64(nstrat) / float64(nstrat-1)
					}
				}
				factors = append(factors, col)
				rscales = append(rscales, float64(nstrat-1)/float64(nstrat))
			}
			continue
		}
		for _, drop := range psus {
			col := make([]float64, nc)
			for c := range col {
				col[c] = 1
			}
			for _, c := range psus {
				if c != drop {
					col[c] = float64(n) / float64(n-1)
				} else {
					col[c] = 0
				}
			}
			factors = append(factors, col)
			rscales = append(rscales, f*float64(n-1)/float64(n))
		}
	}
	if len(factors) == 0 {
		return nil, fmt.Errorf("replicates: every stratum was taken whole; the design has no sampling variance")
	}
	rw := &ReplicateWeights{Type: RepJKn, factors: factors, RScales: rscales, cluster: st.cluster, Scale: 1}
	if len(factors) < nc && d.lonely == LonelyAverage {
		rw.Scale = float64(nc) / float64(len(factors))
	}
	return rw, nil
}

// brr is R's brrweights + as.svrepdesign(type = "BRR" or "Fay"). PSUs are
// ordered by stratum name (byte order, as R sorts in the C locale) and
// appearance; each pair of PSUs, or half-stratum, is assigned a row of
// the Hadamard matrix for as many strata as there are pairs
// ([hadamard]); replicate r gives factor 2 − ρ to the half the row's r-th
// entry picks and ρ to the other. Strata of one PSU: small fail (default);
// split (factor 1 in every replicate); merge (pairs of such strata form
// pseudo-strata; an odd third joins the first pair). Strata of more than
// two PSUs: large split (default; even sizes only: consecutive pairs
// become pseudo-strata); merge (the first ⌊n/2⌋ PSUs against the rest);
// fail. Scale 1/(R(1 − ρ)²). The first-stage fpc is ignored, as R drops it.
func (d *Design) brr(rho float64, small, large string) (*ReplicateWeights, error) {
	switch small {
	case "":
		small = "fail"
	case "fail", "split", "merge":
	default:
		return nil, fmt.Errorf("replicates: small %q is not one of fail, split, merge", small)
	}
	switch large {
	case "":
		large = "split"
	case "fail", "split", "merge":
	default:
		return nil, fmt.Errorf("replicates: large %q is not one of split, merge, fail", large)
	}
	st := &d.stages[0]
	nc := len(st.clusterStratum)
	// PSUs sorted by stratum name then appearance (R: order(sunq, match)).
	oo := make([]int32, nc)
	for c := range oo {
		oo[c] = int32(c)
	}
	name := func(c int32) string { return st.stratumName[st.clusterStratum[c]] }
	sort.SliceStable(oo, func(a, b int) bool { return name(oo[a]) < name(oo[b]) })
	// Strata by name with their PSUs in that order.
	type stratum struct {
		name string
		psus []int32
	}
	var strata []stratum
	for _, c := range oo {
		if len(strata) == 0 || strata[len(strata)-1].name != name(c) {
			strata = append(strata, stratum{name: name(c)})
		}
		s := &strata[len(strata)-1]
		s.psus = append(s.psus, c)
	}
	w1 := make([]float64, nc) // weights[, 1]; weights[, 2] = 1 − w1 (0.5 for split singletons)
	ws := make([]int, nc)     // weightstrata, 1-based
	upto := 0
	var smallS, largeS, goodS []stratum
	for _, s := range strata {
		switch {
		case len(s.psus) == 1:
			smallS = append(smallS, s)
		case len(s.psus) > 2:
			largeS = append(largeS, s)
		default:
			goodS = append(goodS, s)
		}
	}
	if len(smallS) > 0 {
		switch small {
		case "fail":
			return nil, fmt.Errorf("replicates: stratum %s has one PSU; BRR needs two per stratum (small: split or merge)", smallS[0].name)
		case "split":
			for k, s := range smallS {
				w1[s.psus[0]] = 0.5
				ws[s.psus[0]] = k + 1
			}
			upto = len(smallS)
		case "merge":
			k := len(smallS)
			if k < 2 {
				return nil, fmt.Errorf("replicates: stratum %s is the only stratum with one PSU; it cannot be merged (small: split)", smallS[0].name)
			}
			var wsv []int
			if k%2 == 0 {
				for rep := 0; rep < 2; rep++ {
					for j := 1; j <= k/2; j++ {
						wsv = append(wsv, j)
					}
				}
			} else {
				wsv = append(wsv, 1)
				for rep := 0; rep < 2; rep++ {
					for j := 1; j <= k/2; j++ {
						wsv = append(wsv, j)
					}
				}
			}
			for j, s := range smallS {
				w1[s.psus[0]] = float64(j % 2)
				ws[s.psus[0]] = wsv[j]
			}
			upto = k / 2
		}
	}
	if len(largeS) > 0 {
		switch large {
		case "fail":
			return nil, fmt.Errorf("replicates: stratum %s has %d PSUs; BRR needs two per stratum (large: split or merge)", largeS[0].name, len(largeS[0].psus))
		case "split":
			for _, s := range largeS {
				if len(s.psus)%2 == 1 {
					return nil, fmt.Errorf("replicates: stratum %s has an odd number of PSUs (%d); large: split pairs them, use large: merge", s.name, len(s.psus))
				}
			}
			for _, s := range largeS {
				for j, c := range s.psus {
					w1[c] = float64(j % 2)
					ws[c] = upto + j/2 + 1
				}
				upto += len(s.psus) / 2
			}
		case "merge":
			for k, s := range largeS {
				half := len(s.psus) / 2
				for j, c := range s.psus {
					if j >= half {
						w1[c] = 1
					}
					ws[c] = upto + k + 1
				}
			}
			upto += len(largeS)
		}
	}
	for k, s := range goodS {
		w1[s.psus[1]] = 1
		ws[s.psus[0]] = upto + k + 1
		ws[s.psus[1]] = upto + k + 1
	}
	upto += len(goodS)
	H := hadamard(upto)
	R := len(H[0])
	rw := d.newReplicateWeights(RepBRR, R)
	if rho != 0 {
		rw.Type, rw.Rho = RepFay, rho
	}
	for r := 0; r < R; r++ {
		for c := 0; c < nc; c++ {
			wa, wb := w1[c], 1-w1[c]
			if H[ws[c]][r] == 1 { // column 2 of weights
				wa, wb = wb, wa
			}
			rw.factors[r][c] = wa*(2-rho) + wb*rho
		}
	}
	rw.Scale = 1 / (float64(R) * (1 - rho) * (1 - rho))
	return rw, nil
}

// bootstrap is R's bootweights: in each stratum, R draws of n_h PSUs with
// replacement (without fpc) or n_h of the N_h units of a pseudo-population
// that repeats the PSUs (with the first-stage fpc); a PSU's factor is the
// number of times it was drawn. Scale n̄/((n̄ − 1)(R − 1)) with n̄ the
// harmonic mean of the PSUs per stratum.
func (d *Design) bootstrap(R int, rng *rand.Rand) (*ReplicateWeights, error) {
	st := &d.stages[0]
	rw := d.newReplicateWeights(RepBootstrap, R)
	strata := d.strataInOrder()
	var inv float64
	for _, psus := range strata {
		n := len(psus)
		inv += 1 / float64(n)
		pop := st.stratumPop[st.clusterStratum[psus[0]]]
		var pseudo []int32
		if !math.IsInf(pop, 1) {
			N := int(pop)
			pseudo = make([]int32, N)
			for k := range pseudo {
				pseudo[k] = psus[k%n]
			}
		}
		for r := 0; r < R; r++ {
			f := rw.factors[r]
			if pseudo == nil {
				for range n {
					f[psus[rng.IntN(n)]]++
				}
				continue
			}
			// n draws without replacement from the pseudo-population
			// (partial Fisher–Yates on a copy).
			p := append([]int32(nil), pseudo...)
			for k := 0; k < n; k++ {
				j := k + rng.IntN(len(p)-k)
				p[k], p[j] = p[j], p[k]
				f[p[k]]++
			}
		}
	}
	nbar := float64(len(strata)) / inv
	if nbar <= 1 {
		return nil, fmt.Errorf("replicates: every stratum has one PSU; the bootstrap has no variance to measure")
	}
	rw.Scale = nbar / ((nbar - 1) * float64(R-1))
	return rw, nil
}

// subbootstrap is R's subbootweights, the Rao–Wu rescaled bootstrap: in
// each stratum, R draws of n_h − 1 PSUs with replacement; a PSU's factor
// is its count times n_h/(n_h − 1). Scale 1/(R − 1). A stratum of one PSU
// is an error, unless the design's lonely-PSU rule is certainty or remove:
// its PSU then keeps factor 1 (R's gives NaN).
func (d *Design) subbootstrap(R int, rng *rand.Rand) (*ReplicateWeights, error) {
	st := &d.stages[0]
	rw := d.newReplicateWeights(RepSubbootstrap, R)
	for _, psus := range d.strataInOrder() {
		n := len(psus)
		if n < 2 {
			if d.lonely == LonelyCertainty || d.lonely == LonelyRemove {
				// Taken with certainty: factor 1 in every replicate.
				for r := range rw.factors {
					rw.factors[r][psus[0]] = 1
				}
				continue
			}
			return nil, fmt.Errorf("replicates: stratum %s has one PSU; the subbootstrap draws n − 1 PSUs per stratum and needs two (or lonely_psu: certainty)", st.stratumName[st.clusterStratum[psus[0]]])
		}
		for r := 0; r < R; r++ {
			f := rw.factors[r]
			for range n - 1 {
				f[psus[rng.IntN(n)]]++
			}
			for _, c := range psus {
				f[c] = f[c] * float64(n) / float64(n-1)
			}
		}
	}
	rw.Scale = 1 / float64(R-1)
	return rw, nil
}

// DF is the degrees of freedom of a design with these replicates, as R's
// degf: the rank of the replicate weights less one (every PSU having a
// positive weight).
func (rw *ReplicateWeights) DF() int {
	if len(rw.factors) == 0 {
		return 0
	}
	rows := make([][]float64, len(rw.factors[0]))
	for c := range rows {
		rows[c] = make([]float64, len(rw.factors))
		for r := range rw.factors {
			rows[c][r] = rw.factors[r][c]
		}
	}
	return matrixRank(rows, len(rw.factors)) - 1
}
