package analysis

import (
	"fmt"
	"strings"

	"github.com/dotm-survey/dotm/sampling"
)

// rakeToMargins makes the design's weight when the last calibration step
// names margins: the step's before weights raked (iterative proportional
// fitting, as R's rake) to the margins' totals, added to t under the
// design's weight name. The design then treats the step as any declared
// calibration (the raked weights are its after weights).
func rakeToMargins(t *Table, spec DesignSpec) error {
	n := len(spec.Calibration)
	if n == 0 {
		return nil
	}
	for i, s := range spec.Calibration[:n-1] {
		if s.Margins != "" {
			return fmt.Errorf("design: calibration step %d: margins are for the last step only (dotm weights calibrate makes earlier ones)", i+1)
		}
	}
	s := spec.Calibration[n-1]
	if s.Margins == "" {
		return nil
	}
	if s.Method != CalRake {
		return fmt.Errorf("design: calibration: margins with method %s: dotm analyze rakes to margins (method rake); make other calibrations with dotm weights calibrate", s.Method)
	}
	if spec.Weight == "" {
		return fmt.Errorf("design: calibration: margins: name the raked weight with weight:")
	}
	if s.After != "" && s.After != spec.Weight {
		return fmt.Errorf("design: calibration: margins: after is the design's weight (%s), not %s", spec.Weight, s.After)
	}
	if _, err := t.Column(spec.Weight); err == nil {
		return fmt.Errorf("design: weight %s is in the data, and the calibration's margins would make it: name the raked weight another column", spec.Weight)
	}
	if len(s.MarginRows) == 0 {
		return fmt.Errorf("design: calibration: margins %s were not read (dotm analyze reads them, relative to the plan)", s.Margins)
	}
	w0, err := t.numeric(s.Before)
	if err != nil {
		return fmt.Errorf("design: calibration: before: %w", err)
	}
	byVar := map[string][]sampling.Margin{}
	var order []string
	for _, m := range s.MarginRows {
		if _, ok := byVar[m.Variable]; !ok {
			order = append(order, m.Variable)
		}
		byVar[m.Variable] = append(byVar[m.Variable], m)
	}
	want := map[string]bool{}
	for _, v := range s.Variables {
		want[strings.TrimSpace(v)] = true
		if _, ok := byVar[strings.TrimSpace(v)]; !ok {
			return fmt.Errorf("design: calibration: %s has no margins in %s", v, s.Margins)
		}
	}
	var vars []sampling.MarginVariable
	for _, name := range order {
		if !want[name] {
			return fmt.Errorf("design: calibration: margins %s has variable %s, which the step's variables do not list", s.Margins, name)
		}
		c, err := t.Column(name)
		if err != nil {
			return fmt.Errorf("design: calibration: %w", err)
		}
		f := asFactor(c)
		mv := sampling.MarginVariable{Name: name}
		catOf := map[string]int{}
		for _, m := range byVar[name] {
			if m.Category == "" {
				return fmt.Errorf("design: calibration: margins %s line %d: %s needs a category (raking takes categorical margins)", s.Margins, m.Line, name)
			}
			catOf[m.Category] = len(mv.Categories)
			mv.Categories = append(mv.Categories, m.Category)
			mv.Totals = append(mv.Totals, m.Total)
		}
		levelCat := make([]int, len(f.levels))
		for l, lv := range f.levels {
			k, ok := catOf[lv]
			if !ok {
				k = -1
			}
			levelCat[l] = k
		}
		mv.Code = make([]int, len(f.codes))
		for i, code := range f.codes {
			if w0[i] == 0 {
				mv.Code[i] = 0
				continue
			}
			if code < 0 {
				return fmt.Errorf("design: calibration: %s is missing in data row %d (raking needs every row's category)", name, i+1)
			}
			if levelCat[code] < 0 {
				return fmt.Errorf("design: calibration: %s = %s (data row %d) has no margin in %s", name, f.levels[code], i+1, s.Margins)
			}
			mv.Code[i] = levelCat[code]
		}
		seen := make([]bool, len(mv.Categories))
		for i, k := range mv.Code {
			if w0[i] != 0 {
				seen[k] = true
			}
		}
		for k, ok := range seen {
			if !ok && mv.Totals[k] > 0 {
				return fmt.Errorf("design: calibration: %s = %s has a total of %g in %s and no row in the data", name, mv.Categories[k], mv.Totals[k], s.Margins)
			}
		}
		vars = append(vars, mv)
	}
	tol, maxIter := s.Tol, s.MaxIter
	if tol == 0 {
		tol = 1e-10
	}
	if maxIter == 0 {
		maxIter = 100
	}
	res, err := sampling.Rake(w0, vars, maxIter, tol)
	if err != nil {
		return fmt.Errorf("design: calibration: %w", err)
	}
	if !res.Converged {
		return fmt.Errorf("design: calibration: raking to %s did not converge in %d cycles (largest relative misfit %.3g); raise max_iter or check the margins", s.Margins, maxIter, res.MaxRelDiff)
	}
	t.add(&Column{Name: spec.Weight, Num: res.Weights})
	return nil
}
