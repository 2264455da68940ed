package analysis

import (
	"fmt"
	"math"
	"strings"

	"gopkg.in/yaml.v3"
)

// Stats are the plan keys of the statistics R survey and Stata svy users
// reach for beyond means and totals. They sit inline in [EstimateSpec]:
//
//   - {id: t1, total: migrant}                     # svytotal(~migrant): a total per level
//   - {id: t2, total: factor(urban)}               # a numeric column as categories
//   - {id: b2, mean: bank, by: [migrant, region]}  # svyby(~bank, ~migrant + region, svymean)
//   - {id: m2, mean: cons, deff: replace, deft: true}
//   - {id: c2, chisq: [migrant, bank], statistic: adjWald}   # F (default), Chisq, Wald, adjWald
//   - {id: p1, ciprop: remit, method: logit}       # svyciprop: logit, likelihood, beta, mean, asin, xlogit
//   - {id: v1, var: cons, na_rm: true}             # svyvar
//   - id: g2
//     glm: "children ~ migrant * urban + I(hh_size^2)"
//     family: poisson                              # gaussian, quasibinomial, poisson, quasipoisson
//     meff: true                                   # svyglm(deff = TRUE): misspecification effects
//     tests: [{terms: "migrant + migrant:urban"}, {terms: urban, statistic: Chisq}]   # regTermTest
//     contrasts: [{name: gap, weights: {migrantreturn: 1, migrantnone: -1}}]         # svycontrast
//   - {id: q2, quantile: cons, p: [0.25, 0.5], qrule: hf7, interval: score}
type Stats struct {
	// Deft adds Kish's deft, the square root of the design effect against
	// simple random sampling with replacement (R: sqrt(deff(…, deff =
	// "replace"))), to means, totals, ratios and proportions.
	Deft bool `yaml:"deft"`
	// Meff adds each regression coefficient's misspecification effect:
	// the design-based variance over the model-based one (R: deff of
	// svyglm(…, deff = TRUE); Stata: estat effects, meff).
	Meff bool `yaml:"meff"`
	// Statistic is the test statistic of a chisq entry: F (default;
	// Rao–Scott second order), Chisq (first-order corrected X²), Wald or
	// adjWald (R: svychisq(statistic = …)). For a regression term test,
	// F (default) or Chisq.
	Statistic string `yaml:"statistic"`
	// CIProp estimates a proportion (a 0/1 column, or one level of a text
	// column given as level) with R's svyciprop interval named by Method:
	// logit (default), likelihood, beta, mean, asin, xlogit (see
	// [Design.CIProp]).
	CIProp string `yaml:"ciprop"`
	Level  string `yaml:"level"`
	Method string `yaml:"method"`
	// Var estimates the population variance of a column (R: svyvar).
	Var string `yaml:"var"`
	// GLM fits a design-based generalized linear model (R: svyglm) with
	// Family gaussian, quasibinomial, poisson or quasipoisson. Formulas
	// (here and in lm, logit) take a:b interactions, a*b (main effects and
	// interaction) and I(expression) terms.
	GLM    string `yaml:"glm"`
	Family string `yaml:"family"`
	// Tests are Wald tests that regression terms are zero (R:
	// regTermTest).
	Tests []TermTestSpec `yaml:"tests"`
	// Contrasts are linear combinations of an entry's estimates (R:
	// svycontrast): of the coefficients of a regression, or of the domain
	// estimates of a by entry (named by the domain's label).
	Contrasts []ContrastSpec `yaml:"contrasts"`
	// QRule is svyquantile's qrule: math (default), school, shahvaish,
	// hf1 … hf9. Interval is its interval.type: mean (default, Woodruff),
	// beta, xlogit, asin, score (see [QuantileOptions]).
	QRule    string `yaml:"qrule"`
	Interval string `yaml:"interval"`
}

// TermTestSpec names regression terms to test jointly ("a + a:b").
type TermTestSpec struct {
	Terms     string `yaml:"terms" json:"terms"`
	Statistic string `yaml:"statistic" json:"statistic,omitempty"`
}

// ContrastSpec is a named linear combination: weights by item name
// (coefficient or domain label); items not named get 0.
type ContrastSpec struct {
	Name    string             `yaml:"name" json:"name"`
	Weights map[string]float64 `yaml:"weights" json:"weights"`
}

const statsKinds = "ciprop, var, glm"

func (s *Stats) kind() string {
	switch {
	case s.CIProp != "":
		return "ciprop"
	case s.Var != "":
		return "var"
	case s.GLM != "":
		return "glm"
	}
	return ""
}

func (s *Stats) columns() []string {
	out := []string{s.CIProp, s.Var}
	if f, err := ParseFormula(s.GLM); err == nil {
		out = append(out, f.Columns()...)
	}
	return out
}

// checkStats checks the Stats keys against the entry's kind.
func (e *EstimateSpec) checkStats() error {
	s := &e.Stats
	kind := e.Kind()
	only := func(set bool, key string, kinds ...string) error {
		if set {
			for _, k := range kinds {
				if k == kind {
					return nil
				}
			}
			return fmt.Errorf("%s is only for %s", key, strings.Join(kinds, ", "))
		}
		return nil
	}
	for _, c := range []error{
		only(s.Deft, "deft", "mean", "total", "ratio", "proportion"),
		only(e.Deff == "replace", "deff: replace", "mean", "total", "ratio", "proportion"),
		only(s.Meff, "meff", "lm", "logit", "glm"),
		only(s.Statistic != "", "statistic", "chisq"),
		only(s.Method != "" || s.Level != "", "method and level", "ciprop"),
		only(s.Family != "", "family", "glm"),
		only(len(s.Tests) > 0, "tests", "lm", "logit", "glm"),
		only(s.QRule != "" || s.Interval != "", "qrule and interval", "quantile"),
	} {
		if c != nil {
			return c
		}
	}
	if len(s.Contrasts) > 0 && !(kind == "lm" || kind == "logit" || kind == "glm" || len(e.By) > 0 && (kind == "mean" || kind == "total" || kind == "ratio")) {
		return fmt.Errorf("contrasts are for regressions (lm, logit, glm) and for mean, total or ratio with by")
	}
	for i, c := range s.Contrasts {
		if c.Name == "" || len(c.Weights) == 0 {
			return fmt.Errorf("contrasts[%d]: give name and weights: {ITEM: COEFFICIENT, ...}", i)
		}
	}
	switch s.Statistic {
	case "", "F", "Chisq", "Wald", "adjWald":
	default:
		return fmt.Errorf("statistic %q is not one of F, Chisq, Wald, adjWald", s.Statistic)
	}
	for i, t := range s.Tests {
		if strings.TrimSpace(t.Terms) == "" {
			return fmt.Errorf("tests[%d]: give terms: \"a + a:b\"", i)
		}
		switch t.Statistic {
		case "", "F", "Chisq":
		default:
			return fmt.Errorf("tests[%d]: statistic %q is not F or Chisq", i, t.Statistic)
		}
	}
	switch s.Method {
	case "", "logit", "likelihood", "beta", "mean", "asin", "xlogit":
	default:
		return fmt.Errorf("method %q is not one of logit, likelihood, beta, mean, asin, xlogit", s.Method)
	}
	switch s.Family {
	case "", string(Gaussian), string(Quasibinomial), "poisson", "quasipoisson":
	default:
		return fmt.Errorf("family %q is not one of gaussian, quasibinomial, poisson, quasipoisson", s.Family)
	}
	if s.GLM != "" {
		if _, err := ParseFormula(s.GLM); err != nil {
			return err
		}
	}
	if _, err := quantileRule(s.QRule); err != nil {
		return err
	}
	switch s.Interval {
	case "", "mean", "beta", "xlogit", "asin", "score":
	default:
		return fmt.Errorf("interval %q is not one of mean, beta, xlogit, asin, score", s.Interval)
	}
	return nil
}

// deffOption is the deff key: true (default), false or replace.
type deffOption string

// UnmarshalYAML reads true, false or replace.
func (o *deffOption) UnmarshalYAML(v *yaml.Node) error {
	switch strings.ToLower(v.Value) {
	case "true", "yes", "on":
		*o = "true"
	case "false", "no", "off":
		*o = "false"
	case "replace":
		*o = "replace"
	default:
		return fmt.Errorf("line %d: deff is true, false or replace, not %q", v.Line, v.Value)
	}
	return nil
}

// factorArg returns the column named by "factor(x)" or the name itself.
func factorArg(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "factor(") && strings.HasSuffix(s, ")") {
		return strings.TrimSpace(s[len("factor(") : len(s)-1])
	}
	return s
}

// fill sets g's estimate, SE, interval, n and, as the entry asks, its
// design effect (R's deff = TRUE or "replace") and deft.
func (e *EstimateSpec) fill(g *Group, est Estimate) {
	g.Estimate, g.SE = np(est.Estimate), np(est.SE)
	g.CI = []Num{Num(est.CI[0]), Num(est.CI[1])}
	g.N = est.N
	wr := est.DEffWR
	if math.IsNaN(est.DEff) && wr == 0 {
		wr = math.NaN() // not computed (replicate designs)
	}
	switch e.Deff {
	case "", "true":
		g.DEff = np(est.DEff)
	case "replace":
		g.DEff = np(wr)
	}
	if e.Deft {
		g.DEft = np(math.Sqrt(wr))
	}
}
