package analysis

import (
	"fmt"
	"math"
)

// TTest is the design-based difference between two domain means.
type TTest struct {
	// Levels are the two groups; Difference = mean(Levels[1]) − mean(Levels[0]).
	Levels     [2]string
	Difference float64
	SE         float64
	T          float64
	DF         int
	P          float64
	CI         [2]float64
	N          int
}

// Compare tests the difference in the mean of y between two levels of
// group, as R's svyttest(y ~ group, subset(design, group %in% levels)): a
// design-based gaussian regression on a group indicator, t on design
// df − 1 degrees of freedom (PSUs − strata among the two groups' rows).
// With levels nil the group must have exactly two levels in the domain in,
// taken in sorted order. Rows with y missing are left out.
func (d *Design) Compare(name string, y []float64, group *Column, levels []string, in []bool) (TTest, error) {
	f := asFactor(group)
	present := make([]bool, len(f.levels))
	for i, c := range f.codes {
		if c >= 0 && (in == nil || in[i]) {
			present[c] = true
		}
	}
	var pick [2]int32
	if levels == nil {
		var have []int32
		for c, p := range present {
			if p {
				have = append(have, int32(c))
			}
		}
		if len(have) != 2 {
			return TTest{}, fmt.Errorf("compare %s between %s: %s has %d levels; name the two to compare (levels: [a, b])", name, group.Name, group.Name, len(have))
		}
		pick = [2]int32{have[0], have[1]}
	} else {
		if len(levels) != 2 {
			return TTest{}, fmt.Errorf("compare %s between %s: give exactly two levels, not %d", name, group.Name, len(levels))
		}
		for k, l := range levels {
			pick[k] = -1
			for c, fl := range f.levels {
				if fl == l && present[c] {
					pick[k] = int32(c)
				}
			}
			if pick[k] < 0 {
				return TTest{}, fmt.Errorf("compare %s between %s: level %q does not occur", name, group.Name, l)
			}
		}
	}
	dom := make([]bool, d.n)
	used := make([]bool, d.n)
	x := make([]float64, d.n)
	for i, c := range f.codes {
		if (in == nil || in[i]) && (c == pick[0] || c == pick[1]) {
			dom[i] = true
			used[i] = !math.IsNaN(y[i])
			if c == pick[1] {
				x[i] = 1
			}
		}
	}
	// The regression on an intercept and a group indicator is saturated:
	// its slope is the difference of the weighted group means and its
	// sandwich scores A⁻¹·x_i·r_i·w_i reduce to w_i(y_i − ȳ_b)/Σ_b w for
	// the second group and −w_i(y_i − ȳ_a)/Σ_a w for the first, so the
	// closed form below equals svyglm's coefficient and SE.
	var sw, swy [2]float64
	n := 0
	for i, u := range used {
		if u {
			k := int(x[i])
			sw[k] += d.w[i]
			swy[k] += d.w[i] * y[i]
			n++
		}
	}
	if sw[0] == 0 || sw[1] == 0 {
		return TTest{}, fmt.Errorf("compare %s between %s: a group has no rows with %s present and positive weight", name, group.Name, name)
	}
	mean := [2]float64{swy[0] / sw[0], swy[1] / sw[1]}
	if d.replicated() {
		return d.repTTest([2]string{f.levels[pick[0]], f.levels[pick[1]]}, y, x, used, dom, mean[1]-mean[0], n), nil
	}
	z := make([]float64, d.n)
	for i, u := range used {
		if u {
			k := int(x[i])
			sign := 1.0
			if k == 0 {
				sign = -1
			}
			z[i] = sign * d.w[i] * (y[i] - mean[k]) / sw[k]
		}
	}
	v, err := d.vcov([][]float64{z}, used)
	if err != nil {
		return TTest{}, fmt.Errorf("compare %s between %s: %w", name, group.Name, err)
	}
	df := d.DF(used) - 1
	t := TTest{Levels: [2]string{f.levels[pick[0]], f.levels[pick[1]]}, Difference: mean[1] - mean[0], SE: math.Sqrt(v[0]), DF: df, N: n}
	t.T = t.Difference / t.SE
	t.P = tPValue(t.T, df)
	q := tQuantile(df)
	t.CI = [2]float64{t.Difference - q*t.SE, t.Difference + q*t.SE}
	return t, nil
}
