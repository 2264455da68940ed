package analysis

import (
	"context"
	"fmt"
	"strconv"
)

// StackColumn is the column of a stacked table that names each row's
// survey: a domain like any other (by: survey).
const StackColumn = "survey"

// RescaleEqual is Plan.Rescale for giving each survey of a stack the same
// weight: every survey's weights are multiplied by T̄/T_s, T_s the sum of
// survey s's weights and T̄ the mean of the T_s, so that each survey's
// weights sum to the same total and the stack's total is unchanged.
const RescaleEqual = "equal"

// StackEntry is one survey (one country round) of a stacked plan: its
// data file or stored survey, and its design when it differs from the
// plan's.
//
//	surveys:
//	  - {name: ghana, data: ghana.csv}
//	  - {name: senegal, survey: sn-2026}
//	  - {name: mali, data: mali.parquet, design: {strata: strate, psu: grappe, weight: poids}}
//	rescale: equal
//	design: {strata: stratum, psu: psu, weight: weight, lonely_psu: adjust}
type StackEntry struct {
	Name   string      `yaml:"name" json:"name"`
	Data   string      `yaml:"data" json:"data,omitempty"`
	Survey string      `yaml:"survey" json:"survey,omitempty"`
	Design *PlanDesign `yaml:"design" json:"design,omitempty"`
}

// StackOpener returns the source of one survey of a stack and, for a
// stored survey, its stored design (nil: the plan's design applies).
type StackOpener func(ctx context.Context, e StackEntry) (Source, *PlanDesign, error)

// checkStack checks a stacked plan's surveys and rescale.
func (p *Plan) checkStack() error {
	if p.Data != "" || p.Survey != "" {
		return fmt.Errorf("plan: give surveys (a stack) or data or survey, not both")
	}
	if len(p.Surveys) < 2 {
		return fmt.Errorf("plan: surveys: a stack needs at least two surveys, got %d", len(p.Surveys))
	}
	seen := map[string]bool{}
	for i, e := range p.Surveys {
		switch {
		case e.Name == "":
			return fmt.Errorf("plan: surveys[%d]: no name (the name is the survey's level of the %s domain)", i, StackColumn)
		case seen[e.Name]:
			return fmt.Errorf("plan: surveys[%d]: name %q used twice", i, e.Name)
		case (e.Data == "") == (e.Survey == ""):
			return fmt.Errorf("plan: surveys[%d] (%s): give data: FILE or survey: ID", i, e.Name)
		case e.Design != nil && e.Design.File != "":
			return fmt.Errorf("plan: surveys[%d] (%s): design: file is not read in a stack; give the design's keys", i, e.Name)
		}
		seen[e.Name] = true
	}
	if p.Rescale != "" && p.Rescale != RescaleEqual {
		return fmt.Errorf("plan: rescale %q: the only rescaling is equal (each survey's weights sum to the same total)", p.Rescale)
	}
	return nil
}

// CheckStack checks a stacked plan built in code (ParsePlan checks the
// plans it reads).
func CheckStack(p *Plan) error { return p.checkStack() }

// Stacked reports whether the plan names several surveys.
func (p *Plan) Stacked() bool { return len(p.Surveys) > 0 }

// LoadStack loads every survey of a stacked plan (the columns it needs
// besides the design's) and stacks them: see [Stack].
func LoadStack(ctx context.Context, p *Plan, columns []string, open StackOpener) (*Table, DesignSpec, error) {
	names := make([]string, len(p.Surveys))
	tables := make([]*Table, len(p.Surveys))
	specs := make([]DesignSpec, len(p.Surveys))
	for i, e := range p.Surveys {
		src, stored, err := open(ctx, e)
		if err != nil {
			return nil, DesignSpec{}, fmt.Errorf("survey %s: %w", e.Name, err)
		}
		design := p.Design
		switch {
		case e.Design != nil:
			design = *e.Design
		case stored != nil && design.Weight == "" && design.Prob == "":
			design = *stored
			if p.Design.LonelyPSU != "" {
				design.LonelyPSU = p.Design.LonelyPSU
			}
		}
		spec := design.Spec()
		var cols []string
		seen := map[string]bool{StackColumn: true}
		for _, c := range append(append([]string(nil), columns...), spec.Columns()...) {
			if !seen[c] {
				seen[c] = true
				cols = append(cols, c)
			}
		}
		t, err := src.Load(ctx, cols)
		if err != nil {
			return nil, DesignSpec{}, fmt.Errorf("survey %s: %w", e.Name, err)
		}
		names[i], tables[i], specs[i] = e.Name, t, spec
	}
	lonely := p.Design.LonelyPSU
	if lonely == "" {
		lonely = specs[0].LonelyPSU
	}
	return Stack(names, tables, specs, columns, p.Rescale, lonely)
}

// Stack stacks the tables of several surveys (R: rbind) into one table
// and design: each survey's strata and PSUs are kept apart (prefixed with
// its name: R's strata made distinct before svydesign on the stack), its
// certainty PSUs moved up a stage, its weights (or 1/prob, or fpc-derived
// weights) multiplied by the rescaling factor (rescale "equal": see
// RescaleEqual), and the column survey holds each row's survey name. The
// columns listed are stacked; a column numeric in one survey and text in
// another, or missing from one, is an error. The surveys' designs must
// have the same number of stages, all or none an fpc, the same pps, and
// no calibration or replicate weights (not yet stackable).
func Stack(names []string, tables []*Table, specs []DesignSpec, columns []string, rescale, lonely string) (*Table, DesignSpec, error) {
	if len(names) != len(tables) || len(names) != len(specs) {
		panic("analysis: Stack length mismatch")
	}
	type part struct {
		t    *Table
		spec DesignSpec
		w    []float64
	}
	parts := make([]part, len(names))
	n := 0
	for i, t := range tables {
		spec := specs[i]
		if len(spec.Calibration) > 0 || spec.Replicates != nil {
			return nil, DesignSpec{}, fmt.Errorf("survey %s: a stack cannot carry calibrated or replicate-weight designs yet; stack their weights as fixed (design: {weight: ...} without calibration)", names[i])
		}
		if spec.Certainty != "" {
			v, vs, err := certaintyView(t, spec)
			if err != nil {
				return nil, DesignSpec{}, fmt.Errorf("survey %s: %w", names[i], err)
			}
			t, spec = v, vs
		}
		d, err := NewDesign(t, spec)
		if err != nil {
			return nil, DesignSpec{}, fmt.Errorf("survey %s: %w", names[i], err)
		}
		p0 := specs[0]
		switch {
		case max(1, len(spec.PSU)) != max(1, len(parts[0].spec.PSU)) && i > 0:
			return nil, DesignSpec{}, fmt.Errorf("survey %s has %d stages of clusters, survey %s %d: stacked designs need the same stages", names[i], max(1, len(spec.PSU)), names[0], max(1, len(parts[0].spec.PSU)))
		case i > 0 && (len(spec.FPC) > 0) != (len(parts[0].spec.FPC) > 0):
			return nil, DesignSpec{}, fmt.Errorf("survey %s and survey %s: one design has an fpc and the other not; stacked designs need fpc in all or none", names[i], names[0])
		case i > 0 && spec.PPS != p0.PPS:
			return nil, DesignSpec{}, fmt.Errorf("survey %s has pps %q, survey %s %q: stacked designs need the same", names[i], spec.PPS, names[0], p0.PPS)
		}
		parts[i] = part{t: t, spec: spec, w: append([]float64(nil), d.Weights()...)}
		n += t.Len()
	}
	if rescale == RescaleEqual {
		totals := make([]float64, len(parts))
		var mean float64
		for i, p := range parts {
			for _, x := range p.w {
				totals[i] += x
			}
			mean += totals[i] / float64(len(parts))
		}
		for i, p := range parts {
			f := mean / totals[i]
			for k := range p.w {
				p.w[k] *= f
			}
		}
	} else if rescale != "" {
		return nil, DesignSpec{}, fmt.Errorf("rescale %q: the only rescaling is equal", rescale)
	}
	out := NewTable(n)
	// Survey variables.
	for _, name := range columns {
		if name == StackColumn {
			continue
		}
		var cols []*Column
		text := false
		for i, p := range parts {
			c, err := p.t.Column(name)
			if err != nil {
				return nil, DesignSpec{}, fmt.Errorf("survey %s: %w", names[i], err)
			}
			if i > 0 && c.IsText() != text {
				return nil, DesignSpec{}, fmt.Errorf("column %s is %s in survey %s and %s in survey %s", name, kindName(text), names[0], kindName(c.IsText()), names[i])
			}
			text = c.IsText()
			cols = append(cols, c)
		}
		if !text {
			x := make([]float64, 0, n)
			for _, c := range cols {
				x = append(x, c.Num...)
			}
			out.AddNumeric(name, x)
			continue
		}
		var levels []string
		idx := map[string]int32{}
		codes := make([]int32, 0, n)
		for _, c := range cols {
			remap := make([]int32, len(c.Levels))
			for k, l := range c.Levels {
				code, ok := idx[l]
				if !ok {
					code = int32(len(levels))
					idx[l] = code
					levels = append(levels, l)
				}
				remap[k] = code
			}
			for _, code := range c.Codes {
				if code < 0 {
					codes = append(codes, -1)
				} else {
					codes = append(codes, remap[code])
				}
			}
		}
		out.AddText(name, codes, levels)
	}
	// Design columns, kept apart by survey.
	nst := max(1, len(parts[0].spec.PSU))
	const pre = "(stacked) "
	spec := DesignSpec{Strata: pre + "stratum", Weight: pre + "weight", LonelyPSU: lonely, PPS: parts[0].spec.PPS, AdjustDomainLonely: specs[0].AdjustDomainLonely}
	strata := make([]string, 0, n)
	psus := make([][]string, nst)
	stageStrata := make([][]string, nst)
	fpc := make([][]float64, len(parts[0].spec.FPC))
	w := make([]float64, 0, n)
	survey := make([]string, 0, n)
	for i, p := range parts {
		m := p.t.Len()
		values := func(name string) ([]string, error) {
			out := make([]string, m)
			if name == "" {
				return out, nil
			}
			c, err := p.t.Column(name)
			if err != nil {
				return nil, fmt.Errorf("survey %s: design: %w", names[i], err)
			}
			f := asFactor(c)
			for r, code := range f.codes {
				if code < 0 {
					return nil, fmt.Errorf("survey %s: design column %s is missing in row %d", names[i], name, r+1)
				}
				out[r] = f.levels[code]
			}
			return out, nil
		}
		st, err := values(p.spec.Strata)
		if err != nil {
			return nil, DesignSpec{}, err
		}
		prefix := make([]string, m) // survey/stratum: what a PSU id is unique within
		for r := range st {
			prefix[r] = names[i] + "/" + st[r]
			strata = append(strata, prefix[r])
			survey = append(survey, names[i])
		}
		for s := 0; s < nst; s++ {
			var ids []string
			if len(p.spec.PSU) == 0 {
				ids = make([]string, m)
				for r := range ids {
					ids[r] = strconv.Itoa(r)
				}
			} else if ids, err = values(p.spec.PSU[s]); err != nil {
				return nil, DesignSpec{}, err
			}
			for r := range ids {
				prefix[r] += "/" + ids[r]
				psus[s] = append(psus[s], prefix[r])
			}
			if s > 0 {
				ss := ""
				if s-1 < len(p.spec.StageStrata) {
					ss = p.spec.StageStrata[s-1]
				}
				v, err := values(ss)
				if err != nil {
					return nil, DesignSpec{}, err
				}
				stageStrata[s] = append(stageStrata[s], v...)
			}
		}
		for s := range fpc {
			x, err := p.t.numeric(p.spec.FPC[s])
			if err != nil {
				return nil, DesignSpec{}, fmt.Errorf("survey %s: design: fpc: %w", names[i], err)
			}
			fpc[s] = append(fpc[s], x...)
		}
		w = append(w, p.w...)
	}
	out.AddStrings(spec.Strata, strata)
	for s := 0; s < nst; s++ {
		name := fmt.Sprintf("%sstage %d cluster", pre, s+1)
		spec.PSU = append(spec.PSU, name)
		out.AddStrings(name, psus[s])
		if s > 0 {
			name := fmt.Sprintf("%sstage %d strata", pre, s+1)
			spec.StageStrata = append(spec.StageStrata, name)
			out.AddStrings(name, stageStrata[s])
		}
	}
	for s := range fpc {
		name := fmt.Sprintf("%sstage %d fpc", pre, s+1)
		spec.FPC = append(spec.FPC, name)
		out.AddNumeric(name, fpc[s])
	}
	out.AddNumeric(spec.Weight, w)
	out.AddStrings(StackColumn, survey)
	return out, spec, nil
}

func kindName(text bool) string {
	if text {
		return "text"
	}
	return "numeric"
}

// RunStacked evaluates a stacked plan: every survey opened, stacked (see
// Stack) and the estimates computed on the stack, where survey is a
// domain like any other.
func RunStacked(ctx context.Context, p *Plan, open StackOpener) (*Results, error) {
	var cols []string
	for _, c := range p.Columns() {
		if c != StackColumn {
			cols = append(cols, c)
		}
	}
	// The plan's own design columns are loaded with each survey's design.
	own := map[string]bool{}
	for _, c := range p.Design.Spec().Columns() {
		own[c] = true
	}
	var vars []string
	for _, c := range cols {
		if !own[c] {
			vars = append(vars, c)
		}
	}
	t, spec, err := LoadStack(ctx, p, vars, open)
	if err != nil {
		return nil, err
	}
	res, err := runSpec(p, t, spec)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range p.Surveys {
		names = append(names, e.Name)
	}
	res.Design.Variance += "; " + stackNote(names, p.Rescale)
	return res, nil
}

// stackNote says how a stack was made, for the variance method.
func stackNote(names []string, rescale string) string {
	s := fmt.Sprintf("stack of surveys %v, each survey's strata kept apart", names)
	if rescale == RescaleEqual {
		s += ", weights rescaled so that each survey's sum to the same total"
	}
	return s
}
