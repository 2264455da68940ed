package analysis

import (
	"fmt"
	"math"
	"strings"

	"github.com/dotm-survey/dotm/sampling"
)

// Calibration methods of a [CalibrationStep], as R survey's functions that
// make the weights.
const (
	// CalPostStratify is survey::postStratify on the cells crossed from
	// the step's variables.
	CalPostStratify = "poststratify"
	// CalRake is survey::rake with one margin per variable ("a*b" is the
	// margin of the cells of a and b crossed).
	CalRake = "rake"
	// CalLinear, CalRaking and CalLogit are survey::calibrate with calfun
	// "linear" (GREG; with or without bounds), "raking" or "logit": one
	// generalized-regression calibration on the model of the variables.
	CalLinear  = "linear"
	CalRaking  = "raking"
	CalLogit   = "logit"
	calMethods = "poststratify, rake, linear, raking, logit"
)

// CalibrationStep declares one calibration that made the design's weights,
// so that variances are those of the calibrated design (R's svyrecvar with
// the design's postStrata) instead of treating the weights as fixed.
//
// Before names the column of weights the step started from (the base or
// nonresponse-adjusted weight), After the column of weights it produced
// (empty: the design's weight, which is right for the last step). Steps are
// applied in order, as R applies its postStrata list: a trimmed and
// recalibrated design is two steps, the first with After naming the
// calibrated weights before trimming and the second starting from the
// trimmed ones.
//
// Variables: for poststratify, the variables whose crossed cells are the
// post-strata; for rake, one margin per entry ("region*urban" crosses two
// variables into one margin); for linear, raking and logit, the terms of
// the calibration model ~v1 + v2 + …: a text column (or factor(x)) enters
// as indicators of its levels, a numeric column as it is, "a*b" as the
// crossed cells of two factors; the model has an intercept unless a term
// is "-1" or "0".
type CalibrationStep struct {
	Method    string   `json:"method" yaml:"method"`
	Variables []string `json:"variables" yaml:"variables"`
	Before    string   `json:"before" yaml:"before"`
	After     string   `json:"after,omitempty" yaml:"after"`
	// Bounds are [lower, upper] of g = after/before of a bounded linear or
	// raking calibration (R's calibrate(bounds =)); they matter only when
	// replicates made from the design are calibrated the same way.
	Bounds []float64 `json:"bounds,omitempty" yaml:"bounds"`
	// Margins names a margins CSV (variable, category, total, as dotm
	// weights calibrate reads) for the last step of method rake: dotm then
	// rakes the before weights to those totals itself, as R's rake does
	// inside one script, and the raked weights are the design's weight
	// (a column that must not be in the data). Tol and MaxIter are the
	// raking's convergence tolerance (largest |weighted count −
	// total|/total, default 1e-10) and cycles (default 100).
	Margins string  `json:"margins,omitempty" yaml:"margins"`
	Tol     float64 `json:"tol,omitempty" yaml:"tol"`
	MaxIter int     `json:"max_iter,omitempty" yaml:"max_iter"`
	// MarginRows are the margins file's rows, read by the caller that
	// resolves Margins against the plan's directory.
	MarginRows []sampling.Margin `json:"-" yaml:"-"`
}

// Describe says the step in words for reports: "raking on region, sex
// (weights nr_weight → weight)".
func (s CalibrationStep) Describe() string {
	after := s.After
	if after == "" {
		after = "the design weight"
	}
	return fmt.Sprintf("%s on %s (weights %s → %s)", s.Method, strings.Join(s.Variables, ", "), s.Before, after)
}

// Columns lists the columns the step reads.
func (s CalibrationStep) Columns() []string {
	out := []string{s.Before}
	if s.After != "" {
		out = append(out, s.After)
	}
	for _, v := range s.Variables {
		v = strings.TrimSpace(v)
		if v == "-1" || v == "0" {
			continue
		}
		if strings.HasPrefix(v, "factor(") && strings.HasSuffix(v, ")") {
			v = v[len("factor(") : len(v)-1]
		}
		for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == '*' || r == ':' }) {
			out = append(out, strings.TrimSpace(part))
		}
	}
	return out
}

// Columns lists every column the design reads: strata, weight or
// probability, clusters, fpc and the calibration's.
func (s DesignSpec) Columns() []string {
	var out []string
	weight := s.Weight
	if n := len(s.Calibration); n > 0 && s.Calibration[n-1].Margins != "" {
		weight = "" // made by raking, not read
	}
	for _, c := range append(append(append([]string{s.Strata, weight, s.Prob, s.Certainty}, s.PSU...), s.FPC...), s.StageStrata...) {
		if c != "" {
			out = append(out, c)
		}
	}
	for _, st := range s.Calibration {
		out = append(out, st.Columns()...)
	}
	if s.Replicates != nil {
		out = append(out, s.Replicates.Columns...)
	}
	return out
}

// VarianceMethod says in words how the design's standard errors are
// computed, for reports and the JSON of results.
func (d *Design) VarianceMethod() string {
	if d.rep != nil {
		return d.repVarianceMethod()
	}
	base := "Taylor linearization, ultimate clusters"
	if d.hasFPC && len(d.stages) > 1 {
		base = "Taylor linearization, multistage with finite population corrections"
	}
	if a := d.spec.asDrawnDescription(); a != "" {
		base += " (" + a + ")"
	}
	if !d.calibrated() {
		return base + "; weights treated as fixed (no calibration declared)"
	}
	var steps []string
	for _, s := range d.spec.Calibration {
		steps = append(steps, s.Describe())
	}
	return base + "; calibrated design (residuals of the calibration, as R survey's svyrecvar with postStrata): " + strings.Join(steps, "; then ")
}

// calStep is a CalibrationStep bound to the data: what svyrecvar needs to
// replace a linearized variable by its calibration residual.
type calStep struct {
	method string
	// poststratify: cell of each row, the weights after (psw) and before (oldw).
	cells  []int32
	ncells int
	psw    []float64
	oldw   []float64
	// rake: the margins' cells; psw as above; joint the rows' cells of all
	// margins at once (nil when there are too many such cells).
	margins [][]int32
	mcount  []int
	joint   *rakeJoint
	// GREG: orthonormal basis of the columns of mm·√before (q[j][i]) and
	// the scale w = g·√before = after/√before.
	q [][]float64
	w []float64
}

// setCalibration binds spec.Calibration to t. It runs after setWeights:
// the last step's weights after default to the design weights.
func (d *Design) setCalibration(t *Table) error {
	steps := d.spec.Calibration
	for k, s := range steps {
		where := fmt.Sprintf("design: calibration step %d (%s)", k+1, s.Method)
		if len(s.Variables) == 0 {
			return fmt.Errorf("%s: no variables", where)
		}
		if s.Before == "" {
			return fmt.Errorf("%s: before: name the column of weights the calibration started from", where)
		}
		before, err := t.numeric(s.Before)
		if err != nil {
			return fmt.Errorf("%s: before: %w", where, err)
		}
		after := d.w
		if s.After != "" {
			if after, err = t.numeric(s.After); err != nil {
				return fmt.Errorf("%s: after: %w", where, err)
			}
		} else if k != len(steps)-1 {
			return fmt.Errorf("%s: after: name the column of weights this step produced (only the last step may leave it to the design weight)", where)
		}
		for i := range before {
			if !(before[i] >= 0) || math.IsInf(before[i], 0) {
				return fmt.Errorf("%s: column %s has invalid weight %g in row %d", where, s.Before, before[i], i+1)
			}
			if math.IsNaN(after[i]) || math.IsInf(after[i], 0) {
				return fmt.Errorf("%s: weights after have invalid value %g in row %d", where, after[i], i+1)
			}
		}
		var cs calStep
		cs.method = s.Method
		switch s.Method {
		case CalPostStratify:
			cells, n, err := crossCells(t, s.Variables)
			if err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			cs.cells, cs.ncells = cells, n
			cs.psw, cs.oldw = make([]float64, d.n), before
			for i := range cs.psw {
				cs.psw[i] = after[i]
				if after[i] == 0 && before[i] == 0 {
					cs.psw[i] = 1 // R: psw[zeroes] = 1
				}
			}
		case CalRake:
			for _, v := range s.Variables {
				cells, n, err := crossCells(t, strings.Split(v, "*"))
				if err != nil {
					return fmt.Errorf("%s: margin %s: %w", where, v, err)
				}
				cs.margins = append(cs.margins, cells)
				cs.mcount = append(cs.mcount, n)
			}
			for i, w := range after {
				if w == 0 {
					return fmt.Errorf("%s: weight 0 in row %d; raking gives every row a positive weight", where, i+1)
				}
			}
			cs.psw = after
			cs.joint = newRakeJoint(cs.margins, cs.mcount)
		case CalLinear, CalRaking, CalLogit:
			cols, err := calibrationModel(t, s.Variables)
			if err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			cs.w = make([]float64, d.n)
			for i := range before {
				if before[i] == 0 || after[i] == 0 {
					return fmt.Errorf("%s: weight 0 in row %d (before %g, after %g); a calibrated design needs positive weights", where, i+1, before[i], after[i])
				}
				h := math.Sqrt(before[i])
				for _, c := range cols {
					c[i] *= h
				}
				cs.w[i] = after[i] / h
			}
			cs.q = orthonormalize(cols)
		default:
			return fmt.Errorf("%s: method %q is not one of %s", where, s.Method, calMethods)
		}
		d.cal = append(d.cal, cs)
	}
	return nil
}

// crossCells codes the cells of the variables crossed, 0..k−1. A missing
// value in any of them is an error: R's model frames refuse it too.
func crossCells(t *Table, vars []string) ([]int32, int, error) {
	var codes []int32
	for _, v := range vars {
		v = strings.TrimSpace(v)
		c, err := t.Column(v)
		if err != nil {
			return nil, 0, err
		}
		f := asFactor(c)
		for i, x := range f.codes {
			if x < 0 {
				return nil, 0, fmt.Errorf("column %s is missing in row %d", v, i+1)
			}
		}
		if codes == nil {
			codes = f.codes
		} else {
			codes = pairCodes(codes, f.codes)
		}
	}
	codes = renumber(codes)
	n := 0
	for _, c := range codes {
		n = max(n, int(c)+1)
	}
	return codes, n, nil
}

// calibrationModel returns the columns of the model matrix of ~terms (R's
// model.matrix with treatment contrasts: only its column space matters).
func calibrationModel(t *Table, terms []string) ([][]float64, error) {
	n := t.Len()
	intercept := true
	var cols [][]float64
	for _, term := range terms {
		term = strings.TrimSpace(term)
		switch {
		case term == "-1" || term == "0":
			intercept = false
			continue
		case strings.Contains(term, "*") || strings.Contains(term, ":"):
			parts := strings.FieldsFunc(term, func(r rune) bool { return r == '*' || r == ':' })
			for _, p := range parts {
				c, err := t.Column(strings.TrimSpace(p))
				if err != nil {
					return nil, err
				}
				if !c.IsText() {
					return nil, fmt.Errorf("term %s: %s is numeric; crossed terms take categorical variables (write factor(%s) if its numbers are codes)", term, p, p)
				}
			}
			cells, k, err := crossCells(t, parts)
			if err != nil {
				return nil, fmt.Errorf("term %s: %w", term, err)
			}
			cols = append(cols, levelIndicators(cells, k, n)...)
			continue
		}
		name, asFac := term, false
		if strings.HasPrefix(term, "factor(") && strings.HasSuffix(term, ")") {
			name, asFac = strings.TrimSpace(term[len("factor("):len(term)-1]), true
		}
		c, err := t.Column(name)
		if err != nil {
			return nil, err
		}
		if c.IsText() || asFac {
			cells, k, err := crossCells(t, []string{name})
			if err != nil {
				return nil, fmt.Errorf("term %s: %w", term, err)
			}
			cols = append(cols, levelIndicators(cells, k, n)...)
			continue
		}
		x := make([]float64, n)
		for i, v := range c.Num {
			if math.IsNaN(v) {
				return nil, fmt.Errorf("term %s: missing in row %d", term, i+1)
			}
			x[i] = v
		}
		cols = append(cols, x)
	}
	if intercept {
		one := make([]float64, n)
		for i := range one {
			one[i] = 1
		}
		cols = append([][]float64{one}, cols...)
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("the calibration model has no columns")
	}
	return cols, nil
}

// levelIndicators returns the 0/1 columns of levels 1..k−1 of cells (the first
// level is the reference, as R's treatment contrasts).
func levelIndicators(cells []int32, k, n int) [][]float64 {
	out := make([][]float64, 0, k-1)
	for l := 1; l < k; l++ {
		x := make([]float64, n)
		for i, c := range cells {
			if int(c) == l {
				x[i] = 1
			}
		}
		out = append(out, x)
	}
	return out
}

// orthonormalize returns an orthonormal basis of the span of cols by
// modified Gram–Schmidt with one re-orthogonalization ("twice is enough"),
// dropping columns that are linearly dependent on earlier ones (relative
// norm below 1e-7, the tolerance of R's qr). It overwrites cols.
func orthonormalize(cols [][]float64) [][]float64 {
	var q [][]float64
	for _, c := range cols {
		n0 := norm2(c)
		if n0 == 0 {
			continue
		}
		for pass := 0; pass < 2; pass++ {
			for _, b := range q {
				p := dot(b, c)
				for i := range c {
					c[i] -= p * b[i]
				}
			}
		}
		nc := norm2(c)
		if nc <= 1e-7*n0 {
			continue
		}
		for i := range c {
			c[i] /= nc
		}
		q = append(q, c)
	}
	return q
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func norm2(a []float64) float64 { return math.Sqrt(dot(a, a)) }

// calibrated reports whether the design carries calibration steps.
func (d *Design) calibrated() bool { return len(d.cal) > 0 }

// calResiduals returns copies of the linearized variables z replaced, step
// by step, by their residuals from the calibration (R: svyrecvar's
// postStrata loop): poststratify subtracts each cell's weighted mean,
// rake sweeps its margins ten times, GREG takes the residual of the
// regression of z/w on the model columns (qr.resid) times w.
func (d *Design) calResiduals(z [][]float64) [][]float64 {
	out := make([][]float64, len(z))
	for k := range z {
		out[k] = append([]float64(nil), z[k]...)
	}
	// Rows per cell of each raking margin, counted once for every variable.
	counts := make([][][]float64, len(d.cal))
	for si := range d.cal {
		s := &d.cal[si]
		if s.method != CalRake {
			continue
		}
		counts[si] = make([][]float64, len(s.margins))
		for m, cells := range s.margins {
			cnt := make([]float64, s.mcount[m])
			if j := s.joint; j != nil { // from the joint cells' counts, not the rows again
				for c, n := range j.count {
					cnt[j.cell[m][c]] += n
				}
			} else {
				for _, c := range cells {
					cnt[c]++
				}
			}
			counts[si][m] = cnt
		}
	}
	for _, x := range out {
		for si := range d.cal {
			calResidual(&d.cal[si], counts[si], x)
		}
	}
	return out
}

// calResidual replaces x by its residual from calibration step s (counts:
// the rows in each cell of each raking margin).
func calResidual(s *calStep, counts [][]float64, x []float64) {
	switch s.method {
	case CalPostStratify:
		num := make([]float64, s.ncells)
		den := make([]float64, s.ncells)
		for i, c := range s.cells {
			num[c] += x[i] * s.oldw[i] / s.psw[i]
			den[c] += s.oldw[i]
		}
		for i, c := range s.cells {
			if den[c] != 0 {
				x[i] -= num[c] / den[c] * s.psw[i]
			} else {
				x[i] = math.NaN() // R: 0/0 in psmeans
			}
		}
	case CalRake:
		if s.joint != nil {
			s.joint.residual(s, counts, x)
			return
		}
		sums := make([][]float64, len(s.margins))
		for m := range s.margins {
			sums[m] = make([]float64, s.mcount[m])
		}
		for iter := 0; iter < 10; iter++ {
			for m, cells := range s.margins {
				sum, cnt := sums[m], counts[m]
				clear(sum)
				for i, c := range cells {
					sum[c] += x[i] / s.psw[i]
				}
				for i, c := range cells {
					x[i] -= s.psw[i] * (sum[c] / cnt[c])
				}
			}
		}
	default:
		y := make([]float64, len(x))
		for i := range x {
			y[i] = x[i] / s.w[i]
		}
		for pass := 0; pass < 2; pass++ {
			for _, b := range s.q {
				p := dot(b, y)
				for i := range y {
					y[i] -= p * b[i]
				}
			}
		}
		for i := range x {
			x[i] = y[i] * s.w[i]
		}
	}
}

// rakeJoint is raking's cells crossed: each row's cell in every margin at
// once. The ten sweeps of calResidual subtract from x, row by row,
// psw·(a constant of the row's cell in the margin swept), so a row's
// x/psw moves only by the sum of its cells' constants: the sweeps can run
// on the sums of x/psw per joint cell and the rows' counts per joint cell,
// and x is read once and written once instead of forty times.
type rakeJoint struct {
	row   []int32   // joint cell of each row
	cell  [][]int32 // cell[m][j]: margin m's cell of joint cell j
	count []float64 // rows per joint cell
}

// newRakeJoint crosses the margins' cells (nil past 1<<16 joint cells,
// where the sweeps over the rows are used).
func newRakeJoint(margins [][]int32, mcount []int) *rakeJoint {
	if len(margins) == 0 {
		return nil
	}
	span := 1
	for _, n := range mcount {
		if n <= 0 || span > (1<<16)/n {
			return nil
		}
		span *= n
	}
	n := len(margins[0])
	key := make([]int32, n)
	for i := range key {
		k := 0
		for m, cells := range margins {
			k = k*mcount[m] + int(cells[i])
		}
		key[i] = int32(k)
	}
	id := make([]int32, span)
	for i := range id {
		id[i] = -1
	}
	j := &rakeJoint{row: bigMake[int32](n, n), cell: make([][]int32, len(margins))}
	for i, k := range key {
		c := id[k]
		if c < 0 {
			c = int32(len(j.count))
			id[k] = c
			j.count = append(j.count, 0)
			for m, cells := range margins {
				j.cell[m] = append(j.cell[m], cells[i])
			}
		}
		j.row[i] = c
		j.count[c]++
	}
	return j
}

// residual is calResidual's rake sweeps over the joint cells.
func (j *rakeJoint) residual(s *calStep, counts [][]float64, x []float64) {
	nj := len(j.count)
	t := make([]float64, nj) // Σ x/psw per joint cell
	for i, c := range j.row {
		t[c] += x[i] / s.psw[i]
	}
	tot := make([]float64, nj) // Σ over margins of a joint cell's constants
	for iter := 0; iter < 10; iter++ {
		for m := range s.margins {
			sum, cnt, cell := make([]float64, s.mcount[m]), counts[m], j.cell[m]
			for c := range nj {
				sum[cell[c]] += t[c] - j.count[c]*tot[c]
			}
			for c := range sum {
				if cnt[c] != 0 {
					sum[c] /= cnt[c]
				}
			}
			for c := range nj {
				tot[c] += sum[cell[c]]
			}
		}
	}
	for i, c := range j.row {
		x[i] -= s.psw[i] * tot[c]
	}
}
