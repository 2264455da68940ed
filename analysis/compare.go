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
	var wsum float64
	nd := 0
	for i, c := range f.codes {
		if (in == nil || in[i]) && (c == pick[0] || c == pick[1]) {
			dom[i] = true
			wsum += d.w[i]
			nd++
			used[i] = !math.IsNaN(y[i])
			if c == pick[1] {
				x[i] = 1
			}
		}
	}
	if wsum == 0 {
		return TTest{}, fmt.Errorf("compare %s between %s: total weight is zero", name, group.Name)
	}
	reg, err := d.glmFit([]string{"(Intercept)", group.Name}, [][]float64{nil, x}, y, used, wsum/float64(nd), Gaussian)
	if err != nil {
		return TTest{}, fmt.Errorf("compare %s between %s: %w", name, group.Name, err)
	}
	c := reg.Coefficients[1]
	t := TTest{Levels: [2]string{f.levels[pick[0]], f.levels[pick[1]]}, Difference: c.Estimate, SE: c.SE, T: c.T, DF: reg.DF, P: c.P, N: reg.N}
	q := tQuantile(reg.DF)
	t.CI = [2]float64{t.Difference - q*t.SE, t.Difference + q*t.SE}
	return t, nil
}
