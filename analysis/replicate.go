package analysis

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"
)

// Replicate-weight designs, as R's survey::svrepdesign(repweights=,
// type=, scale=, rscales=, mse=, combined.weights = TRUE): the variance of
// an estimate θ̂ is scale · Σ_r rscales_r (θ̂_r − c)², where θ̂_r is the
// estimate computed with replicate weights r and c is the mean of the θ̂_r
// (or θ̂ itself with mse). Replicate columns hold whole weights (R's
// combined.weights = TRUE), such as a release's replicate weights.

// Replicate types and their default scale (R: svrepdesign).
const (
	RepJK1       = "JK1"       // scale (R−1)/R
	RepJKn       = "JKn"       // scale 1; rscales (n_h−1)/n_h must be given
	RepBRR       = "BRR"       // scale 1/R
	RepFay       = "Fay"       // scale 1/(R(1−ρ)²); rho must be given
	RepBootstrap = "bootstrap" // scale 1/(R−1)
	RepOther     = "other"     // scale and rscales as given (default 1)
)

// ReplicateSpec names a design's replicate weights.
type ReplicateSpec struct {
	// Columns are the replicate weight columns, in order.
	Columns []string `json:"columns" yaml:"columns"`
	// Type is one of JK1, JKn, BRR, Fay, bootstrap, other.
	Type string `json:"type" yaml:"type"`
	// Scale overrides the type's overall scale (0: the type's default).
	Scale float64 `json:"scale,omitempty" yaml:"scale"`
	// RScales are per-replicate scales (empty: all 1).
	RScales []float64 `json:"rscales,omitempty" yaml:"rscales"`
	// Rho is Fay's ρ (type Fay).
	Rho float64 `json:"rho,omitempty" yaml:"rho"`
	// MSE centres the squares on the full-sample estimate instead of the
	// replicates' mean (R's mse = TRUE).
	MSE bool `json:"mse,omitempty" yaml:"mse"`
	// Make asks for replicate weights made from the design's strata and
	// PSUs (R's as.svrepdesign) instead of columns; Type, Scale, RScales
	// and Rho then come from the maker and must not be given.
	Make *MakeReplicates `json:"make,omitempty" yaml:"make"`
}

// replicates is a ReplicateSpec bound to a table: replicate r's weights are
// the column w[r], or the full-sample weights times made's factors.
type replicates struct {
	w       [][]float64
	made    *ReplicateWeights
	base    []float64
	R       int
	scale   float64
	rscales []float64
	mse     bool
	df      int // degrees of freedom of the whole design, −1 until known
	// calibrated: each replicate was calibrated as the full sample was.
	calibrated bool
	// dfByDomain caches the degrees of freedom of domains by their mask's hash.
	dfByDomain map[uint64]int
	// mu guards df and dfByDomain: a plan's entries run concurrently.
	mu sync.Mutex
}

// weights returns replicate r's weights, in buf when the replicates are
// made from factors (buf has the design's length).
func (rp *replicates) weights(r int, buf []float64) []float64 {
	if rp.w != nil {
		return rp.w[r]
	}
	f, cl := rp.made.factors[r], rp.made.cluster
	for i, w := range rp.base {
		buf[i] = w * f[cl[i]]
	}
	return buf
}

func (d *Design) setReplicates(t *Table) error {
	rs := d.spec.Replicates
	if rs == nil {
		return nil
	}
	if rs.Make != nil {
		return d.setMadeReplicates(t, rs)
	}
	if d.calibrated() {
		return fmt.Errorf("design: replicates: replicate weight columns are taken as final weights; declare calibration with replicates only with make, whose replicates are then calibrated as the full sample was")
	}
	R := len(rs.Columns)
	if R < 2 {
		return fmt.Errorf("design: replicates: give at least two replicate weight columns, not %d", R)
	}
	rep := &replicates{mse: rs.MSE, rscales: rs.RScales, R: R, df: -1}
	for _, name := range rs.Columns {
		x, err := t.numeric(name)
		if err != nil {
			return fmt.Errorf("design: replicates: %w", err)
		}
		for i, v := range x {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return fmt.Errorf("design: replicate weight %s has invalid value %g in row %d", name, v, i+1)
			}
		}
		rep.w = append(rep.w, x)
	}
	if len(rep.rscales) == 0 {
		rep.rscales = make([]float64, R)
		for i := range rep.rscales {
			rep.rscales[i] = 1
		}
	} else if len(rep.rscales) != R {
		return fmt.Errorf("design: replicates: %d rscales for %d replicates", len(rep.rscales), R)
	}
	r := float64(R)
	switch strings.ToLower(rs.Type) {
	case "jk1":
		rep.scale = (r - 1) / r
	case "jkn":
		if len(rs.RScales) == 0 {
			return fmt.Errorf("design: replicates: type JKn needs rscales ((n_h − 1)/n_h for each replicate)")
		}
		rep.scale = 1
	case "brr":
		rep.scale = 1 / r
	case "fay":
		if !(rs.Rho > 0 && rs.Rho < 1) {
			return fmt.Errorf("design: replicates: type Fay needs rho in (0, 1)")
		}
		rep.scale = 1 / (r * (1 - rs.Rho) * (1 - rs.Rho))
	case "bootstrap":
		rep.scale = 1 / (r - 1)
	case "other", "":
		rep.scale = 1
	default:
		return fmt.Errorf("design: replicates: type %q is not one of JK1, JKn, BRR, Fay, bootstrap, other", rs.Type)
	}
	if rs.Scale > 0 {
		rep.scale = rs.Scale
	}
	d.rep = rep
	return nil
}

// repVariance is the replicate variance of the estimates that theta
// computes from a set of weights; full are the full-sample estimates.
func (d *Design) repVariance(full []float64, theta func(w []float64) []float64) []float64 {
	v := d.repVcov(full, theta)
	p := len(full)
	out := make([]float64, p)
	for k := range out {
		out[k] = v[k*p+k]
	}
	return out
}

// repVcov is the p×p (row-major) replicate covariance of the estimates
// theta computes, as R's svrVar: scale·Σ_r rscales_r(θ̂_r − c)(θ̂_r − c)',
// c the mean of the replicates with rscales > 0 (or full with mse).
// Replicates whose estimates are not all numbers (a domain a replicate
// leaves empty) are dropped, as R's na.omit does.
func (d *Design) repVcov(full []float64, theta func(w []float64) []float64) []float64 {
	rep := d.rep
	p := len(full)
	var est [][]float64
	var rsc []float64
	var buf []float64
	if rep.w == nil {
		buf = make([]float64, d.n)
	}
replicates:
	for r := range rep.R {
		e := theta(rep.weights(r, buf))
		for _, x := range e {
			if math.IsNaN(x) {
				continue replicates
			}
		}
		est = append(est, e)
		rsc = append(rsc, rep.rscales[r])
	}
	c := full
	if !rep.mse {
		c = make([]float64, p)
		n := 0
		for r := range est {
			if rsc[r] > 0 {
				n++
				for k := range c {
					c[k] += est[r][k]
				}
			}
		}
		for k := range c {
			c[k] /= float64(n)
		}
	}
	out := make([]float64, p*p)
	if len(est) == 0 {
		for k := range out {
			out[k] = math.NaN()
		}
		return out
	}
	dv := make([]float64, p)
	for r := range est {
		for k := range dv {
			dv[k] = est[r][k] - c[k]
		}
		for a := range p {
			for b := range p {
				out[a*p+b] += rsc[r] * dv[a] * dv[b]
			}
		}
	}
	for k := range out {
		out[k] *= rep.scale
	}
	return out
}

// weightedSums returns Σw·y (y nil: Σw) over the rows of m (nil: all).
func weightedSums(w, y []float64, m []bool) float64 {
	var s float64
	for i, wi := range w {
		if m != nil && !m[i] {
			continue
		}
		if y == nil {
			s += wi
		} else if v := y[i]; v == v {
			s += wi * v
		}
	}
	return s
}

// gathered is a domain's rows and their values of a variable, gathered
// once for the replicates' sums.
type gathered struct {
	idx []int32
	yv  []float64
}

// gatheredPool lends gathered's arrays from estimate to estimate: a
// replicate design's columns make a large heap, and garbage the size of a
// column per estimate would let the process grow by as much again before
// the collector runs.
var gatheredPool sync.Pool

// gatherDomain lists the rows of the domain m (nil: every row) and their
// values of y.
func gatherDomain(y []float64, m []bool) *gathered {
	n := len(y)
	if m != nil {
		n = 0
		for _, in := range m {
			if in {
				n++
			}
		}
	}
	g, _ := gatheredPool.Get().(*gathered)
	if g == nil || cap(g.idx) < n {
		g = &gathered{idx: make([]int32, 0, n), yv: make([]float64, 0, n)}
	}
	g.idx, g.yv = g.idx[:0], g.yv[:0]
	for i, v := range y {
		if m == nil || m[i] {
			g.idx = append(g.idx, int32(i))
			g.yv = append(g.yv, v)
		}
	}
	return g
}

// release returns g's arrays to the pool.
func (g *gathered) release() { gatheredPool.Put(g) }

// meanSums is weightedSums(w, y, m) and weightedSums(w, nil, m) over the
// gathered rows, in one pass (each sum in the same order as there).
func (g *gathered) meanSums(w []float64) (swy, sw float64) {
	yv := g.yv[:len(g.idx)]
	for j, i := range g.idx {
		wi := w[i]
		sw += wi
		if v := yv[j]; v == v {
			swy += wi * v
		}
	}
	return swy, sw
}

// replicated reports whether the design has replicate weights.
func (d *Design) replicated() bool { return d.rep != nil }

// setMadeReplicates makes the replicates a spec's make asks for.
func (d *Design) setMadeReplicates(t *Table, rs *ReplicateSpec) error {
	if len(rs.Columns) > 0 || rs.Type != "" || rs.Scale != 0 || len(rs.RScales) > 0 || rs.Rho != 0 {
		return fmt.Errorf("design: replicates: make replaces columns, type, scale, rscales and rho; give make: {type: ...} alone (with mse if wanted)")
	}
	rw, err := d.MakeReplicates(*rs.Make)
	if err != nil {
		return fmt.Errorf("design: %w", err)
	}
	d.rep = &replicates{made: rw, base: d.w, R: rw.Count(), scale: rw.Scale, rscales: rw.RScales, mse: rs.MSE, df: -1}
	if d.calibrated() {
		return d.calibrateReplicates(t)
	}
	return nil
}

// repVarianceMethod says how a replicate design's variances are computed.
func (d *Design) repVarianceMethod() string {
	rep := d.rep
	mse := ""
	if rep.mse {
		mse = ", mse"
	}
	if rep.made != nil {
		rho := ""
		if rep.made.Type == RepFay {
			rho = fmt.Sprintf(", rho %g", rep.made.Rho)
		}
		cal := ""
		if rep.calibrated {
			var steps []string
			for _, s := range d.spec.Calibration {
				steps = append(steps, s.Describe())
			}
			cal = "; each replicate calibrated as the full sample was (R's calibrate, rake or postStratify on the replicate design): " + strings.Join(steps, "; then ")
		}
		return fmt.Sprintf("replicate weights made from the design's strata and PSUs (%d replicates, type %s%s, scale %g%s), as R's as.svrepdesign%s", rep.R, rep.made.Type, rho, rep.scale, mse, cal)
	}
	return fmt.Sprintf("replicate weights (%d replicates, type %s, scale %g%s), as R's svrepdesign", rep.R, d.spec.Replicates.Type, rep.scale, mse)
}

// repDF is R's degf of a replicate design: the rank of the replicate
// weights of the rows in the domain in (nil: all rows), less one (R:
// qr(weights(design, "analysis"))$rank − 1, recomputed for a subset).
func (d *Design) repDF(in []bool) int {
	rep := d.rep
	var mkey uint64
	if in != nil {
		mkey = maskHash(in)
	}
	rep.mu.Lock()
	if df := rep.df; in == nil && df >= 0 {
		rep.mu.Unlock()
		return df
	}
	if df, ok := rep.dfByDomain[mkey]; ok && in != nil {
		rep.mu.Unlock()
		return df
	}
	rep.mu.Unlock()
	// Computed outside the lock, so that the design's and a subset's
	// degrees of freedom are found at once (a domain asked for twice at
	// once is computed twice, with the same answer).
	df := d.repRank(in) - 1
	rep.mu.Lock()
	defer rep.mu.Unlock()
	if in == nil {
		rep.df = df
	} else {
		if rep.dfByDomain == nil {
			rep.dfByDomain = map[uint64]int{}
		}
		rep.dfByDomain[mkey] = df
	}
	return df
}

// repRank is the rank of the replicate weights of the rows in the domain
// in (nil: all rows).
func (d *Design) repRank(in []bool) int {
	rep := d.rep
	R := rep.R
	if rep.w == nil {
		// Made replicates: row i is w_i times its PSU's factors, so the
		// rank is that of the factors of the PSUs with a row of positive
		// weight in the domain.
		cl := rep.made.cluster
		present := make([]bool, len(rep.made.factors[0]))
		var rows [][]float64
		for i, c := range cl {
			if (in == nil || in[i]) && rep.base[i] != 0 && !present[c] {
				present[c] = true
				row := make([]float64, R)
				for r := range R {
					row[r] = rep.made.factors[r][c]
				}
				rows = append(rows, row)
			}
		}
		return matrixRank(rows, R)
	}
	// Rows of the replicate-weight matrix, each scaled to a largest entry
	// of 1 (which leaves the rank alone), deduplicated: the distinct rows
	// are the PSUs' (few), so the rank is that of a small matrix.
	type rowKey struct{ a, b uint64 }
	seen := map[rowKey]bool{}
	var rows [][]float64
	cols := rep.w
	row := make([]float64, R)
	prev := -1
	for i := 0; i < d.n; i++ {
		if in != nil && !in[i] {
			continue
		}
		if prev >= 0 { // a row equal to the previous one (rows of a PSU) adds nothing
			same := true
			for r := range R {
				if cols[r][i] != cols[r][prev] {
					same = false
					break
				}
			}
			if same {
				continue
			}
		}
		prev = i
		var m float64
		for r := range R {
			row[r] = cols[r][i]
			m = math.Max(m, math.Abs(row[r]))
		}
		if m == 0 {
			continue
		}
		// Two FNV-1a hashes of the row rounded to 9 decimals.
		k := rowKey{14695981039346656037, 1099511628211}
		for r := range R {
			row[r] /= m
			q := uint64(int64(math.Round(row[r] * 1e9)))
			k.a = (k.a ^ q) * 1099511628211
			k.b = (k.b ^ (q + uint64(r)*0x9e3779b97f4a7c15)) * 14029467366897019727
		}
		if !seen[k] {
			seen[k] = true
			rows = append(rows, append([]float64(nil), row...))
			if len(rows) == probeRows*R && surelyFullRank(rows, R, d.n) {
				return R
			}
		}
	}
	return matrixRank(rows, R)
}

// probeRows·R distinct rows are looked at before the rest (see
// [surelyFullRank]).
const probeRows = 4

// surelyFullRank reports whether a matrix of at most n rows of p columns,
// each entry at most 1 in absolute value, whose first rows are sub, has
// rank p by [matrixRank]'s rule (every singular value above 1e-9 of the
// largest). Adding rows to a matrix never lowers its singular values
// (AᵀA only grows), so its smallest is at least sub's; and its largest is
// at most its Frobenius norm, √(n·p). When sub's smallest singular value
// is above 1e-9·√(n·p), the whole matrix has rank p, and the rest of it
// need not be read.
func surelyFullRank(sub [][]float64, p, n int) bool {
	sv, ok := singularValues(sub, p)
	if !ok {
		return false
	}
	return sv[p-1] > 1e-9*math.Sqrt(float64(n)*float64(p))
}

// maskHash is an FNV-1a hash of a domain mask.
func maskHash(in []bool) uint64 {
	h := uint64(14695981039346656037)
	for _, b := range in {
		v := uint64(0)
		if b {
			v = 1
		}
		h = (h ^ v) * 1099511628211
	}
	return h
}

// matrixRank is the numerical rank of the k×p matrix rows (singular values
// above 1e-9 of the largest). A tall matrix is first reduced to the
// triangular factors of a QR decomposition of each of its parts, on every
// core (the stacked factors have the matrix's singular values), and the SVD
// runs on those.
func matrixRank(rows [][]float64, p int) int {
	k := len(rows)
	if k == 0 {
		return 0
	}
	parts := 1
	if k >= 64*p {
		parts = runtime.GOMAXPROCS(0)
	}
	a := rows
	if k > 2*p {
		stack := make([][]float64, 0, parts*p)
		rs := make([][]float64, parts)
		var wg sync.WaitGroup
		for c := range parts {
			wg.Add(1)
			go func(c int) {
				defer wg.Done()
				rs[c] = qrFactor(rows[k*c/parts:k*(c+1)/parts], p)
			}(c)
		}
		wg.Wait()
		for _, r := range rs {
			for i := 0; i*p < len(r); i++ {
				stack = append(stack, r[i*p:(i+1)*p])
			}
		}
		a = stack
	}
	sv, ok := singularValues(a, p)
	if !ok {
		return min(k, p)
	}
	rank := 0
	for _, s := range sv {
		if s > 1e-9*sv[0] {
			rank++
		}
	}
	return rank
}

// qrFactor is the upper triangle R (min(len(rows), p) rows of p, row-major)
// of the QR decomposition of the matrix rows.
func qrFactor(rows [][]float64, p int) []float64 {
	n := len(rows)
	a := blas64.General{Rows: n, Cols: p, Stride: p, Data: make([]float64, n*p)}
	for i, r := range rows {
		copy(a.Data[i*p:], r)
	}
	tau := make([]float64, min(n, p))
	work := []float64{0}
	lapack64.Geqrf(a, tau, work, -1)
	work = make([]float64, int(work[0]))
	lapack64.Geqrf(a, tau, work, len(work))
	kr := min(n, p)
	r := make([]float64, kr*p)
	for i := range kr {
		copy(r[i*p+i:(i+1)*p], a.Data[i*p+i:(i+1)*p])
	}
	return r
}

// repUnsupported is the error of a statistic not yet available on
// replicate-weight designs.
func repUnsupported(what string) error {
	return fmt.Errorf("%s is not yet available on a replicate-weight design (means, totals, ratios, proportions, quantiles, t tests, the F chi-square test and gaussian or quasibinomial regressions are)", what)
}

// singularValues are the singular values of the matrix rows (p columns),
// largest first; false when the SVD does not converge.
func singularValues(rows [][]float64, p int) ([]float64, bool) {
	m := mat.NewDense(len(rows), p, nil)
	for i, r := range rows {
		m.SetRow(i, r)
	}
	var svd mat.SVD
	if !svd.Factorize(m, mat.SVDNone) {
		return nil, false
	}
	return svd.Values(nil), true
}
