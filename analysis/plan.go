package analysis

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/dotm-survey/dotm/internal/yamlkeys"
)

// Plan is an analysis plan: where the data are, the design, and the list
// of estimates. Its YAML form:
//
//	data: households.csv            # .csv or .parquet; or survey: <id>
//	design: {strata: stratum, psu: psu, weight: weight, fpc: fpc, lonely_psu: adjust}
//	estimates:
//	  - {id: m1, mean: remit_amount}
//	  - {id: b1, mean: bank_account, by: migrant}
//	  - {id: d1, compare: bank_account, between: migrant, levels: [non_migrant, current_migrant]}
//	  - {id: c1, chisq: [migrant, head_female]}
//	  - {id: l1, lm: "children_enrolled ~ migrant + urban + hh_size"}
//	  - {id: g1, logit: "bank_account ~ migrant + urban"}
//	  - {id: q1, quantile: remit_amount, p: [0.5], subset: "remit_received = 1"}
//	  - {id: t1, total: migrant}                     # every level's total
//	  - {id: b2, mean: bank_account, by: [migrant, region]}
//	  - {id: p1, ciprop: remit_received, method: beta}
//	  - {id: r1, glm: "children_enrolled ~ migrant * urban", family: poisson}
//
// The keys of those statistics (chisq's statistic, deff: replace and
// deft, ciprop, var, glm with family, meff, tests and contrasts,
// quantile's qrule and interval) are documented on [Stats].
//
// psu and fpc take a column or a list of columns (one per stage).
//
// When the weights were calibrated, declare how, so that standard errors
// are the calibrated design's (R: the design that calibrate, rake or
// postStratify return) rather than those of fixed weights, which can be
// too large or too small (a raking margin's share has SE 0, not the
// sampling error of fixed weights). before names the weights the
// calibration started from; one step or a list applied in order:
//
//	design:
//	  strata: stratum
//	  psu: psu
//	  weight: weight                 # the final (calibrated) weight
//	  fpc: fpc
//	  calibration: {method: rake, variables: [region, urban], before: weight_nr}
//	  # or: {method: linear, variables: [region, factor(urban), hh_size], before: weight_nr}
//	  # or rake here, to population margins (a CSV: variable,category,total), as R's rake:
//	  # weight: w_raked   (made, not read)
//	  # calibration: {method: rake, variables: [region, urban], before: weight_nr, margins: margins.csv}
//	  # trimmed after calibrating, then calibrated again:
//	  # - {method: linear, variables: [region], before: weight_nr, after: weight_cal1}
//	  # - {method: linear, variables: [region], before: weight_trimmed}
//
// Replicate weights (R's svrepdesign, combined weights) replace strata and
// PSUs for the variance:
//
//	design: {weight: weight, replicates: {columns: [rw1, rw2, rw3], type: JK1}}
//
// or are made from the design's strata and PSUs, as R's as.svrepdesign
// (type JK1, JKn, BRR, Fay with rho, bootstrap or subbootstrap; BRR and Fay
// take small/large: split|merge|fail for strata of one or more than two
// PSUs; the bootstraps take replicates: N and seed: S):
//
//	design: {strata: stratum, psu: psu, weight: weight, replicates: {make: {type: JKn}}}
//	# replicates: {make: {type: Fay, rho: 0.5, large: merge}}
//	# replicates: {make: {type: subbootstrap, replicates: 80, seed: 7}}
//
// With a calibration and make, each replicate is calibrated as the full
// sample was, to the totals the calibrated weights reach (R's calibrate,
// rake or postStratify on the replicate design); a bounded calibration
// names its bounds on g:
//
//	design:
//	  strata: stratum
//	  psu: psu
//	  weight: weight
//	  calibration: {method: raking, variables: [region, sex], before: weight_nr, bounds: [0.5, 2]}
//	  replicates: {make: {type: JKn}}
//
// The design as dotm draws it (dotm weights base writes it as a design
// file): certainty PSUs as strata of their households, screening classes
// as second-stage strata, PSUs with replacement (Hansen–Hurwitz) or, with
// pps: brewer and fpc as inclusion probabilities, Brewer's approximation:
//
//	design: {file: base.design.yaml, weight: w_final}   # keys given here win
//	design: {strata: stratum, stage_strata: class, psu: [psu, household_id],
//	         certainty: certainty, weight: weight, nest: true, lonely_psu: adjust}
//	        # + fpc: [pi1, pi2], pps: brewer
//
// A survey's plan (survey: ID) with no weight gets the survey's design as
// drawn with the calibration its stored weights were made with.
// adjust_domain_lonely: true is R's survey.adjust.domain.lonely. Intervals
// are Student t intervals on the design's degrees of freedom (PSUs −
// strata of the domain, as R's degf), as R's confint(..., df = degf(design));
// an estimate's df: inf asks for normal intervals (df = Inf), df: N for N.
type Plan struct {
	Data   string `yaml:"data"`
	Survey string `yaml:"survey"`
	// Surveys stacks several surveys (one per country round) into one
	// design, and Rescale ("equal") gives each the same total weight; see
	// StackEntry and Stack.
	Surveys   []StackEntry   `yaml:"surveys"`
	Rescale   string         `yaml:"rescale"`
	Design    PlanDesign     `yaml:"design"`
	Estimates []EstimateSpec `yaml:"estimates"`
}

// PlanDesign is the YAML form of [DesignSpec].
type PlanDesign struct {
	Strata    string   `yaml:"strata"`
	PSU       nameList `yaml:"psu"`
	Weight    string   `yaml:"weight"`
	Prob      string   `yaml:"prob"`
	FPC       nameList `yaml:"fpc"`
	LonelyPSU string   `yaml:"lonely_psu"`
	Nest      bool     `yaml:"nest"`
	// AdjustDomainLonely: R's survey.adjust.domain.lonely (see DesignSpec).
	AdjustDomainLonely bool `yaml:"adjust_domain_lonely"`
	// Replicates: a replicate-weight design (see ReplicateSpec), e.g.
	// replicates: {columns: [repw1, repw2, …], type: JK1}, or replicates
	// made from the design: replicates: {make: {type: JKn}}.
	Replicates *ReplicateSpec `yaml:"replicates"`
	// Calibration: the calibrations that made the weights (one step, or
	// a list applied in order); see [CalibrationStep].
	Calibration calibrationList `yaml:"calibration"`
	// StageStrata, PPS and Certainty describe a design as drawn (see
	// DesignSpec); File names a design file (dotm weights base --design)
	// whose keys apply where the plan gives none; the command line reads it.
	StageStrata nameList `yaml:"stage_strata"`
	PPS         string   `yaml:"pps"`
	Certainty   string   `yaml:"certainty"`
	File        string   `yaml:"file"`
}

// calibrationList reads one calibration step or a list of them.
type calibrationList []CalibrationStep

func (c *calibrationList) UnmarshalYAML(v *yaml.Node) error {
	steps := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		steps = v.Content
	}
	*c = nil
	for _, n := range steps {
		if n.Kind != yaml.MappingNode {
			return fmt.Errorf("line %d: a calibration step is a mapping {method: ..., variables: [...], before: COLUMN}", n.Line)
		}
		// Node.Decode does not inherit the decoder's KnownFields: decodeStrict
		// has checked every key of the plan (yamlkeys.Check) before decoding.
		var s CalibrationStep
		if err := n.Decode(&s); err != nil {
			return err
		}
		*c = append(*c, s)
	}
	return nil
}

// Spec converts the plan's design to a [DesignSpec].
func (p PlanDesign) Spec() DesignSpec {
	return DesignSpec{Strata: p.Strata, PSU: p.PSU, Weight: p.Weight, Prob: p.Prob, FPC: p.FPC, LonelyPSU: p.LonelyPSU, Nest: p.Nest, Calibration: p.Calibration, AdjustDomainLonely: p.AdjustDomainLonely, Replicates: p.Replicates,
		StageStrata: p.StageStrata, PPS: p.PPS, Certainty: p.Certainty}
}

// nameList accepts a scalar or a sequence of column names.
type nameList []string

// UnmarshalYAML reads a scalar or a sequence of names.
func (n *nameList) UnmarshalYAML(v *yaml.Node) error {
	switch v.Kind {
	case yaml.ScalarNode:
		*n = nameList{v.Value}
		return nil
	case yaml.SequenceNode:
		var s []string
		if err := v.Decode(&s); err != nil {
			return err
		}
		*n = s
		return nil
	}
	return fmt.Errorf("line %d: expected a column name or a list of names", v.Line)
}

// RatioSpec names a ratio's numerator and denominator.
type RatioSpec struct {
	Numerator   string `yaml:"numerator"`
	Denominator string `yaml:"denominator"`
}

// EstimateSpec is one plan entry. Exactly one of Mean, Total, Ratio,
// Proportion, Quantile, Compare, Chisq, LM, Logit is set.
type EstimateSpec struct {
	ID         string     `yaml:"id"`
	Mean       string     `yaml:"mean"`
	Total      string     `yaml:"total"`
	Ratio      *RatioSpec `yaml:"ratio"`
	Proportion string     `yaml:"proportion"`
	Quantile   string     `yaml:"quantile"`
	P          []float64  `yaml:"p"`
	Compare    string     `yaml:"compare"`
	Between    string     `yaml:"between"`
	Levels     []string   `yaml:"levels"`
	Chisq      []string   `yaml:"chisq"`
	LM         string     `yaml:"lm"`
	Logit      string     `yaml:"logit"`
	// By names one domain variable or several (by: [migrant, region]):
	// one estimate per combination of their levels, as R's svyby(~y,
	// ~a + b, ...).
	By     nameList `yaml:"by"`
	Subset string   `yaml:"subset"`
	NARM   bool     `yaml:"na_rm"`
	// Deff: true (default), false, or replace (against simple random
	// sampling with replacement, R's deff = "replace"); see [Stats].
	Deff  deffOption `yaml:"deff"`
	Stats `yaml:",inline"`
	// DF overrides the degrees of freedom of the intervals of means,
	// totals, ratios, proportions and quantiles: "inf" (normal intervals,
	// R's confint(..., df = Inf)) or a whole number. Default: the design's
	// degrees of freedom in the domain.
	DF     string `yaml:"df"`
	subset *condition
}

// Kind names the entry's statistic.
func (e *EstimateSpec) Kind() string {
	switch {
	case e.Mean != "":
		return "mean"
	case e.Total != "":
		return "total"
	case e.Ratio != nil:
		return "ratio"
	case e.Proportion != "":
		return "proportion"
	case e.Quantile != "":
		return "quantile"
	case e.Compare != "":
		return "compare"
	case len(e.Chisq) > 0:
		return "chisq"
	case e.LM != "":
		return "lm"
	case e.Logit != "":
		return "logit"
	}
	return e.Stats.kind()
}

// ParsePlan reads and checks a YAML plan. Unknown keys are errors.
func ParsePlan(b []byte) (*Plan, error) {
	var p Plan
	if err := decodeStrict(b, &p); err != nil {
		return nil, err
	}
	if err := p.check(true); err != nil {
		return nil, err
	}
	return &p, nil
}

func decodeStrict(b []byte, p *Plan) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return fmt.Errorf("plan: empty")
	}
	if err := yamlkeys.Check(&doc, reflect.TypeFor[Plan](), ""); err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(p); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("plan: empty")
		}
		return fmt.Errorf("plan: %w", yamlkeys.Explain(err))
	}
	return nil
}

func (p *Plan) check(needEstimates bool) error {
	if p.Stacked() || p.Rescale != "" {
		if err := p.checkStack(); err != nil {
			return err
		}
	} else if p.Data == "" && p.Survey == "" {
		return fmt.Errorf("plan: give data: FILE (.csv or .parquet) or survey: ID")
	}
	if p.Data != "" && p.Survey != "" {
		return fmt.Errorf("plan: give data or survey, not both")
	}
	if p.Stacked() && p.Design.File != "" {
		return fmt.Errorf("plan: design: file is not read in a stack; give the design's keys")
	}
	switch p.Design.LonelyPSU {
	case "", LonelyFail, LonelyRemove, LonelyCertainty, LonelyAdjust, LonelyAverage:
	default:
		return fmt.Errorf("plan: design: lonely_psu %q is not one of fail, remove, certainty, adjust, average", p.Design.LonelyPSU)
	}
	if p.Design.File != "" && p.Survey != "" {
		return fmt.Errorf("plan: design: file is for plans over a data file; a survey's plan uses the design stored with its weights")
	}
	if p.Design.PPS != "" && p.Design.PPS != PPSBrewer {
		return fmt.Errorf("plan: design: pps %q: the only PPS approximation is brewer (leave pps out for the with-replacement design)", p.Design.PPS)
	}
	if len(p.Estimates) == 0 && needEstimates {
		return fmt.Errorf("plan: no estimates")
	}
	seen := map[string]bool{}
	for i := range p.Estimates {
		e := &p.Estimates[i]
		where := fmt.Sprintf("plan: estimates[%d]", i)
		if e.ID == "" {
			return fmt.Errorf("%s: no id", where)
		}
		where = fmt.Sprintf("plan: estimate %s", e.ID)
		if seen[e.ID] {
			return fmt.Errorf("%s: id used twice", where)
		}
		seen[e.ID] = true
		kinds := 0
		for _, set := range []bool{e.Mean != "", e.Total != "", e.Ratio != nil, e.Proportion != "", e.Quantile != "", e.Compare != "", len(e.Chisq) > 0, e.LM != "", e.Logit != "", e.Stats.kind() != ""} {
			if set {
				kinds++
			}
		}
		if kinds != 1 {
			return fmt.Errorf("%s: give exactly one of mean, total, ratio, proportion, quantile, compare, chisq, lm, logit, %s (found %d)", where, statsKinds, kinds)
		}
		if err := e.checkStats(); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if e.Ratio != nil && (e.Ratio.Numerator == "" || e.Ratio.Denominator == "") {
			return fmt.Errorf("%s: ratio needs numerator and denominator", where)
		}
		if e.Compare != "" && e.Between == "" {
			return fmt.Errorf("%s: compare needs between: GROUP", where)
		}
		if e.Between != "" && e.Compare == "" {
			return fmt.Errorf("%s: between is only for compare", where)
		}
		if len(e.Levels) > 0 && (e.Compare == "" || len(e.Levels) != 2) {
			return fmt.Errorf("%s: levels: [a, b] names the two groups of a compare", where)
		}
		if len(e.Chisq) > 0 && len(e.Chisq) != 2 {
			return fmt.Errorf("%s: chisq takes two variables, not %d", where, len(e.Chisq))
		}
		if e.Quantile != "" {
			if len(e.P) == 0 {
				e.P = []float64{0.5}
			}
			for _, q := range e.P {
				if !(q >= 0 && q <= 1) {
					return fmt.Errorf("%s: p = %g is not in [0, 1]", where, q)
				}
			}
		} else if len(e.P) > 0 {
			return fmt.Errorf("%s: p is only for quantile", where)
		}
		if len(e.By) > 0 {
			switch e.Kind() {
			case "mean", "total", "ratio", "proportion", "quantile", "var", "ciprop":
			default:
				return fmt.Errorf("%s: by is not available for %s", where, e.Kind())
			}
		}
		for _, f := range []string{e.LM, e.Logit} {
			if f != "" {
				if _, err := ParseFormula(f); err != nil {
					return fmt.Errorf("%s: %w", where, err)
				}
			}
		}
		if e.DF != "" {
			if _, err := e.dfOverride(); err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
		}
		if e.Subset != "" {
			c, err := parseCondition(e.Subset)
			if err != nil {
				return fmt.Errorf("%s: subset: %w", where, err)
			}
			e.subset = c
		}
	}
	return nil
}

// Columns lists every column the plan reads, design first.
func (p *Plan) Columns() []string {
	var out []string
	seen := map[string]bool{}
	add := func(names ...string) {
		for _, n := range names {
			if n != "" && !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	add(p.Design.Spec().Columns()...)
	for i := range p.Estimates {
		e := &p.Estimates[i]
		add(factorArg(e.Mean), factorArg(e.Total), e.Proportion, e.Quantile, e.Compare, e.Between)
		add(e.By...)
		add(e.Stats.columns()...)
		if e.Ratio != nil {
			add(e.Ratio.Numerator, e.Ratio.Denominator)
		}
		add(e.Chisq...)
		for _, f := range []string{e.LM, e.Logit} {
			if fm, err := ParseFormula(f); err == nil {
				add(fm.Columns()...)
			}
		}
		if e.subset != nil {
			for _, c := range e.subset.terms {
				add(c.column)
			}
		}
	}
	return out
}

// condition is a conjunction of comparisons: "a = 1 and b != 'x'".
type condition struct{ terms []comparison }

type comparison struct {
	column, op, text string
	num              float64
	isNum            bool
}

// parseCondition parses col OP value [and|& col OP value]..., OP one of
// = == != < <= > >=, value a number, a quoted string or a bare word.
func parseCondition(s string) (*condition, error) {
	var c condition
	rest := strings.TrimSpace(s)
	if rest == "" {
		return nil, fmt.Errorf("empty condition")
	}
	for {
		i := 0
		for i < len(rest) && (rest[i] == '_' || rest[i] == '.' || rest[i] >= '0' && rest[i] <= '9' || rest[i] >= 'a' && rest[i] <= 'z' || rest[i] >= 'A' && rest[i] <= 'Z') {
			i++
		}
		if i == 0 {
			return nil, fmt.Errorf("%q: expected a column name at %q", s, rest)
		}
		cmp := comparison{column: rest[:i]}
		rest = strings.TrimSpace(rest[i:])
		for _, op := range []string{"==", "!=", "<=", ">=", "=", "<", ">"} {
			if strings.HasPrefix(rest, op) {
				cmp.op = op
				if op == "==" {
					cmp.op = "="
				}
				rest = strings.TrimSpace(rest[len(op):])
				break
			}
		}
		if cmp.op == "" {
			return nil, fmt.Errorf("%q: expected = != < <= > >= after %s", s, cmp.column)
		}
		if rest == "" {
			return nil, fmt.Errorf("%q: no value after %s %s", s, cmp.column, cmp.op)
		}
		if q := rest[0]; q == '\'' || q == '"' {
			end := strings.IndexByte(rest[1:], q)
			if end < 0 {
				return nil, fmt.Errorf("%q: unterminated string", s)
			}
			cmp.text = rest[1 : 1+end]
			rest = strings.TrimSpace(rest[2+end:])
		} else {
			j := 0
			for j < len(rest) && rest[j] != ' ' && rest[j] != '&' {
				j++
			}
			cmp.text = rest[:j]
			rest = strings.TrimSpace(rest[j:])
			if v, ok := parseNumber([]byte(cmp.text)); ok {
				cmp.num, cmp.isNum = v, true
			}
		}
		c.terms = append(c.terms, cmp)
		if rest == "" {
			return &c, nil
		}
		switch {
		case strings.HasPrefix(rest, "&&"):
			rest = rest[2:]
		case strings.HasPrefix(rest, "&"):
			rest = rest[1:]
		case strings.HasPrefix(rest, "and "):
			rest = rest[4:]
		default:
			return nil, fmt.Errorf("%q: expected 'and' before %q", s, rest)
		}
		rest = strings.TrimSpace(rest)
	}
}

// mask evaluates the condition on t; missing values never match.
func (c *condition) mask(t *Table) ([]bool, error) {
	m := make([]bool, t.Len())
	for i := range m {
		m[i] = true
	}
	for _, cmp := range c.terms {
		col, err := t.Column(cmp.column)
		if err != nil {
			return nil, err
		}
		if !col.IsText() {
			if !cmp.isNum {
				return nil, fmt.Errorf("column %s is numeric; %q is not a number", cmp.column, cmp.text)
			}
			for i, v := range col.Num {
				m[i] = m[i] && !math.IsNaN(v) && compareNum(v, cmp.op, cmp.num)
			}
			continue
		}
		res := make([]bool, len(col.Levels))
		for k, l := range col.Levels {
			res[k] = compareText(l, cmp.op, cmp.text)
		}
		for i, code := range col.Codes {
			m[i] = m[i] && code >= 0 && res[code]
		}
	}
	return m, nil
}

func compareNum(a float64, op string, b float64) bool {
	switch op {
	case "=":
		return a == b
	case "!=":
		return a != b
	case "<":
		return a < b
	case "<=":
		return a <= b
	case ">":
		return a > b
	}
	return a >= b
}

func compareText(a, op, b string) bool {
	switch op {
	case "=":
		return a == b
	case "!=":
		return a != b
	case "<":
		return a < b
	case "<=":
		return a <= b
	case ">":
		return a > b
	}
	return a >= b
}

// dfOverride reads DF: 0 when unset.
func (e *EstimateSpec) dfOverride() (int, error) {
	switch strings.ToLower(strings.TrimSpace(e.DF)) {
	case "":
		return 0, nil
	case "inf", "infinity":
		return DFInf, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(e.DF))
	if err != nil || n < 1 {
		return 0, fmt.Errorf("df: %q is not inf or a whole number of at least 1", e.DF)
	}
	return n, nil
}
