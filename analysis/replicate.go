package analysis

import (
	"fmt"
	"math"
	"strings"
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
}

// replicates is a ReplicateSpec bound to a table.
type replicates struct {
	w       [][]float64 // replicate r's weights
	scale   float64
	rscales []float64
	mse     bool
}

func (d *Design) setReplicates(t *Table) error {
	rs := d.spec.Replicates
	if rs == nil {
		return nil
	}
	R := len(rs.Columns)
	if R < 2 {
		return fmt.Errorf("design: replicates: give at least two replicate weight columns, not %d", R)
	}
	rep := &replicates{mse: rs.MSE, rscales: rs.RScales}
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
	rep := d.rep
	R := len(rep.w)
	est := make([][]float64, R)
	for r, w := range rep.w {
		est[r] = theta(w)
	}
	out := make([]float64, len(full))
	for k := range full {
		c := full[k]
		if !rep.mse {
			c = 0
			for r := range est {
				c += est[r][k]
			}
			c /= float64(R)
		}
		var s float64
		for r := range est {
			dv := est[r][k] - c
			s += rep.rscales[r] * dv * dv
		}
		out[k] = rep.scale * s
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

// replicated reports whether the design has replicate weights.
func (d *Design) replicated() bool { return d.rep != nil }

// repUnsupported is the error of a statistic not yet available on
// replicate-weight designs.
func repUnsupported(what string) error {
	return fmt.Errorf("%s is not yet available on a replicate-weight design (means, totals, ratios and proportions are)", what)
}
