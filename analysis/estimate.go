package analysis

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Estimate is one design-based estimate with its standard error, a 95%
// confidence interval on DF degrees of freedom (Student t), the design
// effect (R: deff = TRUE; NaN when not defined) and the number of rows used.
type Estimate struct {
	Estimate float64
	SE       float64
	CI       [2]float64
	DEff     float64
	// DEffWR is the design effect against simple random sampling with
	// replacement (R: deff = "replace"); its square root is Kish's deft.
	DEffWR float64
	N      int
	DF     int
}

// tQuantile is the two-sided 95% critical value of Student's t with df
// degrees of freedom (NaN for df ≤ 0).
func tQuantile(df int) float64 {
	if df <= 0 {
		return math.NaN()
	}
	if df == DFInf {
		return distuv.UnitNormal.Quantile(0.975)
	}
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(df)}.Quantile(0.975)
}

// DFInf as degrees of freedom asks for normal intervals (R: confint(...,
// df = Inf)).
const DFInf = math.MaxInt32

func (e *Estimate) setCI(df int) {
	e.DF = df
	q := tQuantile(df)
	e.CI = [2]float64{e.Estimate - q*e.SE, e.Estimate + q*e.SE}
}

// domainMask returns the rows of in (nil: all) where every x is present.
// Without naRM a missing value in the domain is an error naming the column.
func (d *Design) domainMask(in []bool, naRM bool, names []string, xs ...[]float64) ([]bool, error) {
	var out []bool
	for k, x := range xs {
		missing := 0
		for i, v := range x {
			if math.IsNaN(v) && (in == nil || in[i]) {
				missing++
			}
		}
		if missing == 0 {
			continue
		}
		if !naRM {
			return nil, fmt.Errorf("column %s has %d missing values; set na_rm: true to leave them out", names[k], missing)
		}
		if out == nil {
			out = make([]bool, d.n)
			for i := range out {
				out[i] = in == nil || in[i]
			}
		}
		for i, v := range x {
			if math.IsNaN(v) {
				out[i] = false
			}
		}
	}
	if out == nil {
		return in, nil
	}
	return out, nil
}

// sums returns Σw, Σw·x and the number of rows with non-zero weight over
// the domain.
func (d *Design) sums(x []float64, in []bool) (sw, swx float64, nobs int) {
	for i, w := range d.w {
		if in != nil && !in[i] {
			continue
		}
		sw += w
		if x != nil {
			swx += w * x[i]
		}
		if w != 0 {
			nobs++
		}
	}
	return sw, swx, nobs
}

// svyvarMean is R's svyvar for one variable: Σw(x − x̄)²/Σw · n/(n−1).
func (d *Design) svyvarMean(x []float64, in []bool, xbar, sw float64, nobs int) float64 {
	var s float64
	for i, w := range d.w {
		if in != nil && !in[i] {
			continue
		}
		dx := x[i] - xbar
		s += w * dx * dx
	}
	return s / sw * float64(nobs) / float64(nobs-1)
}

// Mean estimates the population mean of y over the domain in (nil: all
// rows) as R's svymean, with CI on df degrees of freedom. Scores:
// z_i = w_i(y_i − ȳ)/Σw. Design effect: V / (svyvar·(N̂ − n)/(N̂·n)).
func (d *Design) Mean(name string, y []float64, in []bool, naRM bool, df int) (Estimate, error) {
	m, err := d.domainMask(in, naRM, []string{name}, y)
	if err != nil {
		return Estimate{}, err
	}
	sw, swy, nobs := d.sums(y, m)
	if sw == 0 {
		return Estimate{}, fmt.Errorf("column %s: total weight is zero in the domain", name)
	}
	mean := swy / sw
	var v0, ss float64
	if d.replicated() {
		// The domain's rows and values, gathered once for the replicates.
		g := gatherDomain(y, m)
		v0 = d.repVariance([]float64{mean}, func(w []float64) []float64 {
			swy, sw := g.meanSums(w)
			return []float64{swy / sw}
		})[0]
		g.release()
		e := Estimate{Estimate: mean, SE: math.Sqrt(v0), N: nobs, DEff: math.NaN()}
		e.setCI(df)
		return e, nil
	}
	if d.oneStage() && !d.calibrated() {
		if v0, ss, err = d.linearVar(y, m, 1/sw, mean); err != nil {
			return Estimate{}, err
		}
	} else {
		z := make([]float64, d.n)
		for i, w := range d.w {
			if m == nil || m[i] {
				z[i] = w * (y[i] - mean) / sw
			}
		}
		v, err := d.vcov([][]float64{z}, m)
		if err != nil {
			return Estimate{}, err
		}
		v0 = v[0]
		ss = d.svyvarMean(y, m, mean, sw, nobs) * sw * float64(nobs-1) / float64(nobs)
	}
	e := Estimate{Estimate: mean, SE: math.Sqrt(v0), N: nobs}
	vsrs := ss / sw * float64(nobs) / float64(nobs-1) * (sw - float64(nobs)) / (sw * float64(nobs))
	e.DEff = v0 / vsrs
	e.DEffWR = v0 / (ss / sw / float64(nobs-1))
	if sw < float64(nobs) {
		e.DEff = math.NaN()
	}
	e.setCI(df)
	return e, nil
}

// Total estimates the population total of y over the domain in, as R's
// svytotal. Scores: z_i = w_i·y_i. Design effect:
// V / (svyvar·N̂²·(N̂ − n)/(N̂·n)).
func (d *Design) Total(name string, y []float64, in []bool, naRM bool, df int) (Estimate, error) {
	m, err := d.domainMask(in, naRM, []string{name}, y)
	if err != nil {
		return Estimate{}, err
	}
	sw, swy, nobs := d.sums(y, m)
	if d.replicated() {
		v := d.repVariance([]float64{swy}, func(w []float64) []float64 { return []float64{weightedSums(w, y, m)} })[0]
		e := Estimate{Estimate: swy, SE: math.Sqrt(v), N: nobs, DEff: math.NaN()}
		e.setCI(df)
		return e, nil
	}
	z := make([]float64, d.n)
	for i, w := range d.w {
		if m == nil || m[i] {
			z[i] = w * y[i]
		}
	}
	v, err := d.vcov([][]float64{z}, m)
	if err != nil {
		return Estimate{}, err
	}
	e := Estimate{Estimate: swy, SE: math.Sqrt(v[0]), N: nobs, DEff: math.NaN(), DEffWR: math.NaN()}
	if sw > 0 {
		s2 := d.svyvarMean(y, m, swy/sw, sw, nobs)
		e.DEff = v[0] / (s2 * sw * sw * (sw - float64(nobs)) / (sw * float64(nobs)))
		e.DEffWR = v[0] / (s2 * sw * sw / float64(nobs))
	}
	e.setCI(df)
	return e, nil
}

// Ratio estimates Σwy/Σwx over the domain in, as R's svyratio. Scores:
// z_i = w_i(y_i − R̂x_i)/Σwx. The design effect is that of the total of
// the linearized variable, as R's svyratio(deff = TRUE).
func (d *Design) Ratio(num, den string, y, x []float64, in []bool, naRM bool, df int) (Estimate, error) {
	m, err := d.domainMask(in, naRM, []string{num, den}, y, x)
	if err != nil {
		return Estimate{}, err
	}
	sw, swx, nobs := d.sums(x, m)
	_, swy, _ := d.sums(y, m)
	if swx == 0 {
		return Estimate{}, fmt.Errorf("ratio %s/%s: the weighted total of %s is zero", num, den, den)
	}
	r := swy / swx
	if d.replicated() {
		v := d.repVariance([]float64{r}, func(w []float64) []float64 {
			return []float64{weightedSums(w, y, m) / weightedSums(w, x, m)}
		})[0]
		e := Estimate{Estimate: r, SE: math.Sqrt(v), N: nobs, DEff: math.NaN()}
		e.setCI(df)
		return e, nil
	}
	lin := make([]float64, d.n)
	z := make([]float64, d.n)
	var swl float64
	for i, w := range d.w {
		if m == nil || m[i] {
			lin[i] = (y[i] - r*x[i]) / swx
			z[i] = w * lin[i]
			swl += z[i]
		}
	}
	v, err := d.vcov([][]float64{z}, m)
	if err != nil {
		return Estimate{}, err
	}
	e := Estimate{Estimate: r, SE: math.Sqrt(v[0]), N: nobs}
	s2 := d.svyvarMean(lin, m, swl/sw, sw, nobs)
	e.DEff = v[0] / (s2 * sw * sw * (sw - float64(nobs)) / (sw * float64(nobs)))
	e.DEffWR = v[0] / (s2 * sw * sw / float64(nobs))
	e.setCI(df)
	return e, nil
}

// Level is the estimate for one level of a categorical variable.
type Level struct {
	Level string
	Estimate
}

// factorRows is the domain in without the rows where f is missing; with
// missing rows and !naRM it is an error naming the column and the count.
func (d *Design) factorRows(f factor, in []bool, naRM bool) ([]bool, error) {
	missing := 0
	for i, c := range f.codes {
		if c < 0 && (in == nil || in[i]) {
			missing++
		}
	}
	if missing == 0 {
		return in, nil
	}
	if !naRM {
		return nil, fmt.Errorf("column %s has %d missing values; set na_rm: true to leave them out", f.name, missing)
	}
	m := make([]bool, d.n)
	for i, c := range f.codes {
		m[i] = (in == nil || in[i]) && c >= 0
	}
	return m, nil
}

// Proportions estimates the share of each level of f over the domain in,
// jointly (R: svymean of a factor). Rows with a missing level are an error
// unless naRM.
func (d *Design) proportions(f factor, in []bool, naRM bool, df int) ([]Level, error) {
	m, err := d.factorRows(f, in, naRM)
	if err != nil {
		return nil, err
	}
	k := len(f.levels)
	sw, _, nobs := d.sums(nil, m)
	if sw == 0 {
		return nil, fmt.Errorf("column %s: total weight is zero in the domain", f.name)
	}
	share := make([]float64, k)
	for i, w := range d.w {
		if m == nil || m[i] {
			share[f.codes[i]] += w
		}
	}
	for j := range share {
		share[j] /= sw
	}
	if d.replicated() {
		v := d.repVariance(share, func(w []float64) []float64 {
			s := make([]float64, k)
			var tot float64
			for i, wi := range w {
				if m == nil || m[i] {
					s[f.codes[i]] += wi
					tot += wi
				}
			}
			for j := range s {
				s[j] /= tot
			}
			return s
		})
		out := make([]Level, k)
		for j := range out {
			e := Estimate{Estimate: share[j], SE: math.Sqrt(v[j]), N: nobs, DEff: math.NaN()}
			e.setCI(df)
			out[j] = Level{Level: f.levels[j], Estimate: e}
		}
		return out, nil
	}
	z := make([][]float64, k)
	for j := range z {
		z[j] = make([]float64, d.n)
	}
	for i, w := range d.w {
		if m == nil || m[i] {
			c := f.codes[i]
			for j := 0; j < k; j++ {
				ind := 0.0
				if int32(j) == c {
					ind = 1
				}
				z[j][i] = w * (ind - share[j]) / sw
			}
		}
	}
	v, err := d.vcov(z, m)
	if err != nil {
		return nil, err
	}
	out := make([]Level, k)
	for j := range out {
		e := Estimate{Estimate: share[j], SE: math.Sqrt(v[j*k+j]), N: nobs}
		// svyvar of an indicator: p(1−p)·n/(n−1).
		vsrs := share[j] * (1 - share[j]) * float64(nobs) / float64(nobs-1) * (sw - float64(nobs)) / (sw * float64(nobs))
		e.DEff = v[j*k+j] / vsrs
		e.DEffWR = v[j*k+j] / (share[j] * (1 - share[j]) / float64(nobs-1))
		e.setCI(df)
		out[j] = Level{Level: f.levels[j], Estimate: e}
	}
	return out, nil
}
