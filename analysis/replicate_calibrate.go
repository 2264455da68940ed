package analysis

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Calibrated replicate designs, as R survey's postStratify, rake and
// calibrate on a replicate design: every replicate's weights are calibrated
// to the same population totals as the full sample, by the same method.
//
// The totals are those the design's calibrated weights reach (Σ after·x for
// each cell, margin or model column), which are the population totals of
// the calibration up to its convergence: exact for post-stratification and
// unbounded GREG, to the iteration's tolerance for raking and bounded
// calibrations (R's grake stops at a relative misfit of 1e-7; its Newton
// steps usually leave far less).

// calibrateReplicates replaces the made replicates by their calibrated
// weights: replicate r starts from the first step's weights before times
// its factors and goes through every step.
func (d *Design) calibrateReplicates(t *Table) error {
	steps := d.spec.Calibration
	rep := d.rep
	for k := 1; k < len(steps); k++ {
		prev, _ := t.numeric(steps[k-1].After)
		cur, _ := t.numeric(steps[k].Before)
		for i := range cur {
			if !closeTo(prev[i], cur[i]) {
				return fmt.Errorf("design: calibration step %d starts from %s, not from the weights step %d made (%s, row %d): replicates cannot be trimmed between calibrations; calibrate once, or analyse without make", k+1, steps[k].Before, k, steps[k-1].After, i+1)
			}
		}
	}
	before, err := t.numeric(steps[0].Before)
	if err != nil {
		return fmt.Errorf("design: calibration: %w", err)
	}
	// R keeps the degrees of freedom of the uncalibrated replicates after
	// postStratify and a bounded or raking calibrate; rake and unbounded
	// linear calibrate recompute them from the calibrated weights.
	last := steps[len(steps)-1]
	keepDF := last.Method == CalPostStratify || last.Method != CalRake && (last.Method != CalLinear || len(last.Bounds) > 0)
	w := make([][]float64, rep.R)
	for r := range w {
		w[r] = make([]float64, d.n)
		f, cl := rep.made.factors[r], rep.made.cluster
		for i := range w[r] {
			w[r][i] = before[i] * f[cl[i]]
		}
	}
	for k, s := range steps {
		after := d.w
		if s.After != "" {
			after, _ = t.numeric(s.After)
		}
		cal, err := d.stepCalibrator(t, k, s, after)
		if err != nil {
			return fmt.Errorf("design: calibration step %d (%s): %w", k+1, s.Method, err)
		}
		for r := range w {
			if err := cal(w[r]); err != nil {
				return fmt.Errorf("design: calibration step %d (%s) of replicate %d: %w", k+1, s.Method, r+1, err)
			}
		}
	}
	if keepDF {
		rep.df = -1
		d.repDF(nil) // of the uncalibrated replicates, cached
	}
	rep.w = w
	if !keepDF {
		rep.df = -1
	}
	rep.calibrated = true
	return nil
}

func closeTo(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(math.Abs(a), math.Abs(b)) }

// stepCalibrator returns the function that calibrates a replicate's
// weights (in place) as step k calibrated the full sample to the totals
// the weights after reach.
func (d *Design) stepCalibrator(t *Table, k int, s CalibrationStep, after []float64) (func(w []float64) error, error) {
	cs := &d.cal[k]
	switch s.Method {
	case CalPostStratify:
		pop := make([]float64, cs.ncells)
		for i, c := range cs.cells {
			pop[c] += after[i]
		}
		return func(w []float64) error {
			postStratifyTo(w, cs.cells, pop)
			return nil
		}, nil
	case CalRake:
		pops := make([][]float64, len(cs.margins))
		for m, cells := range cs.margins {
			pops[m] = make([]float64, cs.mcount[m])
			for i, c := range cells {
				pops[m][c] += after[i]
			}
		}
		return func(w []float64) error {
			// Sweep the margins until each replicate reaches its totals
			// (R's rake sweeps replicates as often as the full sample).
			for sweep := 0; sweep < 1000; sweep++ {
				for m, cells := range cs.margins {
					postStratifyTo(w, cells, pops[m])
				}
				if marginMisfit(w, cs.margins, pops) < 1e-13 {
					return nil
				}
			}
			return fmt.Errorf("raking did not converge in 1000 sweeps")
		}, nil
	case CalLinear, CalRaking:
		cols, err := calibrationModel(t, s.Variables)
		if err != nil {
			return nil, err
		}
		pop := make([]float64, len(cols))
		for j, c := range cols {
			for i, x := range c {
				pop[j] += after[i] * x
			}
		}
		lo, hi := math.Inf(-1), math.Inf(1)
		if len(s.Bounds) > 0 {
			if len(s.Bounds) != 2 || !(s.Bounds[0] < 1 && s.Bounds[1] > 1) {
				return nil, fmt.Errorf("bounds: give [lower, upper] around 1, not %v", s.Bounds)
			}
			lo, hi = s.Bounds[0], s.Bounds[1]
		}
		if s.Method == CalLinear && len(s.Bounds) == 0 {
			return func(w []float64) error { return gregTo(w, cols, pop) }, nil
		}
		return func(w []float64) error { return grake(w, cols, pop, s.Method == CalRaking, lo, hi) }, nil
	}
	return nil, fmt.Errorf("calibrating replicates with %s is not available (poststratify, rake, linear and raking are)", s.Method)
}

// postStratifyTo scales w within each cell to the cell's total (R's
// postStratify on one replicate).
func postStratifyTo(w []float64, cells []int32, pop []float64) {
	sum := make([]float64, len(pop))
	for i, c := range cells {
		sum[c] += w[i]
	}
	for i, c := range cells {
		w[i] *= pop[c] / sum[c]
	}
}

// marginMisfit is the largest relative difference between w's margin
// totals and pops.
func marginMisfit(w []float64, margins [][]int32, pops [][]float64) float64 {
	var worst float64
	for m, cells := range margins {
		sum := make([]float64, len(pops[m]))
		for i, c := range cells {
			sum[c] += w[i]
		}
		for c, p := range pops[m] {
			worst = math.Max(worst, math.Abs(sum[c]-p)/math.Max(p, 1))
		}
	}
	return worst
}

// gregTo is R's regcalibrate on one replicate: g = 1 + x'(X'WX)⁻¹(T − X'w).
func gregTo(w []float64, cols [][]float64, pop []float64) error {
	p := len(cols)
	tm := mat.NewDense(p, p, nil)
	rhs := mat.NewVecDense(p, nil)
	for a := range p {
		var s float64
		for i, x := range cols[a] {
			s += w[i] * x
		}
		rhs.SetVec(a, pop[a]-s)
		for b := a; b < p; b++ {
			var s float64
			for i, x := range cols[a] {
				s += w[i] * x * cols[b][i]
			}
			tm.Set(a, b, s)
			tm.Set(b, a, s)
		}
	}
	var lambda mat.VecDense
	if err := lambda.SolveVec(tm, rhs); err != nil {
		return fmt.Errorf("the calibration model is singular for this replicate (%v)", err)
	}
	for i := range w {
		g := 1.0
		for j := range p {
			g += cols[j][i] * lambda.AtVec(j)
		}
		w[i] *= g
	}
	return nil
}

// grakeEpsilon is the relative misfit at which a replicate's calibration
// stops: tighter than R's default 1e-7 (calibrate(epsilon = 1e-12) gives
// the same replicates), so that replicates reach their totals as closely
// as the arithmetic allows.
const grakeEpsilon = 1e-12

// grake is R survey's grake on one replicate (calfun linear with bounds, or
// raking with or without): Newton steps on η from 0 with the generalized
// inverse of Σ w F'(x'η) x x' (MASS::ginv), g = 1 + F(x'η) with F clipped
// to [lo, hi], step halving on non-finite values, weights rescaled by the
// mean ratio T/Σwx when every ratio exceeds 20, until every
// |misfit_j|/(1 + |T_j|) < grakeEpsilon or 50 iterations (then R warns and
// keeps the last g, as here).
func grake(w []float64, cols [][]float64, pop []float64, raking bool, lo, hi float64) error {
	n, p := len(w), len(cols)
	fm1 := func(u float64) float64 { return math.Min(math.Max(u+1, lo), hi) - 1 }
	df := func(u float64) float64 {
		if u < hi-1 && u > lo-1 {
			return 1
		}
		return 0
	}
	if raking {
		fm1 = func(u float64) float64 { return math.Min(math.Max(math.Exp(u), lo), hi) - 1 }
		df = func(u float64) float64 {
			if u < hi-1 && u > lo-1 {
				return math.Exp(u)
			}
			return 0
		}
	}
	ww := append([]float64(nil), w...)
	total := make([]float64, p)
	for j, c := range cols {
		for i, x := range c {
			total[j] += ww[i] * x
		}
	}
	scale := 1.0
	minS, meanS := math.Inf(1), 0.0
	for j := range pop {
		s := pop[j] / total[j]
		minS = math.Min(minS, s)
		meanS += s
	}
	if minS > 20 {
		scale = meanS / float64(p)
		for i := range ww {
			ww[i] *= scale
		}
		for j := range total {
			total[j] *= scale
		}
	}
	eta := make([]float64, p)
	xeta := make([]float64, n)
	g := make([]float64, n)
	deriv := make([]float64, n)
	update := func() bool {
		ok := true
		for i := range n {
			var s float64
			for j := range p {
				s += cols[j][i] * eta[j]
			}
			xeta[i] = s
			g[i] = 1 + fm1(s)
			deriv[i] = df(s)
			if math.IsNaN(g[i]) || math.IsInf(g[i], 0) || math.IsNaN(deriv[i]) || math.IsInf(deriv[i], 0) {
				ok = false
			}
		}
		return ok
	}
	misfit := func() []float64 {
		m := append([]float64(nil), pop...)
		for j, c := range cols {
			m[j] -= total[j]
			for i, x := range c {
				m[j] -= x * ww[i] * (g[i] - 1)
			}
		}
		return m
	}
	update()
	iter := 1
	tm := mat.NewDense(p, p, nil)
	for {
		for a := range p {
			for b := a; b < p; b++ {
				var s float64
				for i := range n {
					s += cols[a][i] * ww[i] * deriv[i] * cols[b][i]
				}
				tm.Set(a, b, s)
				tm.Set(b, a, s)
			}
		}
		m := mat.NewVecDense(p, misfit())
		gi, err := ginv(tm)
		if err != nil {
			return err
		}
		var deta mat.VecDense
		deta.MulVec(gi, m)
		for j := range eta {
			eta[j] += deta.AtVec(j)
		}
		for !update() && iter < 50 {
			iter++
			for j := range eta {
				h := deta.AtVec(j) / 2
				deta.SetVec(j, h)
				eta[j] -= h
			}
		}
		done := true
		for j, v := range misfit() {
			if math.Abs(v)/(1+math.Abs(pop[j])) >= grakeEpsilon {
				done = false
			}
		}
		if done {
			break
		}
		iter++
		if iter > 50 {
			break
		}
	}
	for i := range w {
		w[i] *= g[i] * scale
	}
	return nil
}

// ginv is MASS::ginv: the Moore–Penrose inverse from the SVD, singular
// values below 256·ε times the largest taken as zero.
func ginv(a *mat.Dense) (*mat.Dense, error) {
	var svd mat.SVD
	if !svd.Factorize(a, mat.SVDThin) {
		return nil, fmt.Errorf("the calibration matrix has no singular value decomposition")
	}
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	d := svd.Values(nil)
	p := len(d)
	out := mat.NewDense(p, p, nil)
	for k, s := range d {
		if !(s > 256*2.220446049250313e-16*d[0]) {
			continue
		}
		for i := range p {
			for j := range p {
				out.Set(i, j, out.At(i, j)+v.At(i, k)*u.At(j, k)/s)
			}
		}
	}
	return out, nil
}
