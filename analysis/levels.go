package analysis

import "math"

// levelTotals estimates the population total of each level of f over the
// domain in, jointly, as R's svytotal of a factor (svytotal(~migrant,
// design)): for level j, Σ w_i·1[f_i = j] with scores z_i = w_i·1[f_i = j].
// Design effects as svytotal(deff = TRUE): V / (s²_j·N̂²·(N̂ − n)/(N̂·n)),
// s²_j = p_j(1 − p_j)·n/(n − 1), p_j the level's share; and deff =
// "replace": V / (s²_j·N̂²/n). Rows with a missing level are an error
// unless naRM.
func (d *Design) levelTotals(f factor, in []bool, naRM bool, df int) ([]Level, error) {
	m, err := d.factorRows(f, in, naRM)
	if err != nil {
		return nil, err
	}
	k := len(f.levels)
	sw, _, nobs := d.sums(nil, m)
	tot := make([]float64, k)
	for i, w := range d.w {
		if m == nil || m[i] {
			tot[f.codes[i]] += w
		}
	}
	var v []float64
	if d.replicated() {
		rv := d.repVariance(tot, func(w []float64) []float64 {
			s := make([]float64, k)
			for i, wi := range w {
				if m == nil || m[i] {
					s[f.codes[i]] += wi
				}
			}
			return s
		})
		v = make([]float64, k*k)
		for j := range rv {
			v[j*k+j] = rv[j]
		}
	} else {
		z := make([][]float64, k)
		for j := range z {
			z[j] = make([]float64, d.n)
		}
		for i, w := range d.w {
			if m == nil || m[i] {
				z[f.codes[i]][i] = w
			}
		}
		var err error
		if v, err = d.vcov(z, m); err != nil {
			return nil, err
		}
	}
	out := make([]Level, k)
	n := float64(nobs)
	for j := range out {
		e := Estimate{Estimate: tot[j], SE: math.Sqrt(v[j*k+j]), N: nobs, DEff: math.NaN(), DEffWR: math.NaN()}
		if sw > 0 && !d.replicated() {
			p := tot[j] / sw
			s2 := p * (1 - p) * n / (n - 1)
			e.DEff = v[j*k+j] / (s2 * sw * sw * (sw - n) / (sw * n))
			e.DEffWR = v[j*k+j] / (s2 * sw * sw / n)
		}
		e.setCI(df)
		out[j] = Level{Level: f.levels[j], Estimate: e}
	}
	return out, nil
}
