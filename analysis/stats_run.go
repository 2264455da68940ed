package analysis

import (
	"fmt"
	"math"
)

// statsOne returns the single-domain computation of a ciprop or var
// entry. df is the entry's degrees of freedom; dfSet > 0 when the plan
// set them, else each domain gets its own (R: degf of the subset design).
func statsOne(d *Design, t *Table, e *EstimateSpec, r *Result, df, dfSet int) (single, error) {
	domDF := func(dom []bool) int {
		if dfSet > 0 {
			return dfSet
		}
		return d.DF(dom)
	}
	switch r.Type {
	case "var":
		r.Variable = e.Var
		x, err := t.numeric(e.Var)
		if err != nil {
			return nil, err
		}
		return func(dom []bool, g *Group) error {
			est, err := d.Variance(e.Var, x, dom, e.NARM, df)
			if err != nil {
				return err
			}
			e.fill(g, est)
			g.DEff = nil
			return nil
		}, nil
	case "ciprop":
		r.Variable = e.CIProp
		col, err := t.Column(e.CIProp)
		if err != nil {
			return nil, err
		}
		y := col.Num
		if col.IsText() || e.Level != "" {
			if e.Level == "" {
				return nil, fmt.Errorf("column %s is text; name the level whose proportion to estimate (level: …)", e.CIProp)
			}
			f := asFactor(col)
			code := int32(-1)
			for k, l := range f.levels {
				if l == e.Level {
					code = int32(k)
				}
			}
			if code < 0 {
				return nil, fmt.Errorf("column %s has no level %q", e.CIProp, e.Level)
			}
			y = make([]float64, len(f.codes))
			for i, c := range f.codes {
				switch {
				case c < 0:
					y[i] = math.NaN()
				case c == code:
					y[i] = 1
				}
			}
			r.Variable = e.CIProp + "=" + e.Level
		}
		return func(dom []bool, g *Group) error {
			est, err := d.CIProp(r.Variable, y, dom, e.NARM, e.Method, domDF(dom))
			if err != nil {
				return err
			}
			e.fill(g, est)
			g.DEff = nil
			return nil
		}, nil
	}
	return nil, fmt.Errorf("unknown statistic %s", r.Type)
}
