package exports

import (
	"fmt"
	"strings"
)

// DesignCode tells a researcher how to declare the release's sampling design
// in their own tool, with the release's actual file and column names.
type DesignCode struct {
	Table   string `json:"table"`
	File    string `json:"file"`
	Strata  string `json:"strata,omitempty"`
	PSU     string `json:"psu,omitempty"`
	Weight  string `json:"weight"`
	FPC     string `json:"fpc,omitempty"`
	R       string `json:"r"`
	Stata   string `json:"stata"`
	Python  string `json:"python"`
	Caveats string `json:"caveats,omitempty"`
	// Specification says which design the columns encode when the table
	// carries the design as drawn (see drawnDesign).
	Specification string `json:"specification,omitempty"`
}

// designColumns are the canonical names of the design columns a release
// carries (see designDescriptions).
var designColumns = struct{ strata, psu, weight, fpc string }{"stratum", "psu", "weight", "fpc"}

// NewDesignCode returns the design declaration for the first table of ds
// that carries a weight column, or nil when no table does. The design is
// the one the release describes: PSUs (ids) within strata, household
// weights, and the number of PSUs in the stratum's frame as the finite
// population correction (R survey's svydesign fpc given as a population
// size; Stata's svyset fpc() accepts the same).
func NewDesignCode(ds *Dataset) *DesignCode {
	for _, t := range ds.Tables {
		has := map[string]bool{}
		for _, c := range t.Columns {
			has[c.Name] = true
		}
		if !has[designColumns.weight] {
			continue
		}
		d := &DesignCode{Table: t.Name, File: t.Name + ".parquet", Weight: designColumns.weight}
		if has[designColumns.strata] {
			d.Strata = designColumns.strata
		}
		if has[designColumns.psu] {
			d.PSU = designColumns.psu
		}
		if has[designColumns.fpc] && d.PSU != "" {
			d.FPC = designColumns.fpc
		}
		d.R, d.Stata, d.Python = d.rCode(), d.stataCode(), d.pythonCode()
		if d.Strata != "" && d.PSU != "" && has[drawn.certainty] && has[drawn.class] && has[drawn.household] {
			d.drawnDesign(t.Column(drawn.certainty).Meta.Source)
		}
		if d.PSU == "" {
			d.Caveats = "the release carries no PSU codes: households are treated as the sampling units, which understates standard errors of a clustered design"
		}
		return d
	}
	return nil
}

func (d *DesignCode) rCode() string {
	var b strings.Builder
	b.WriteString("library(arrow)\nlibrary(survey)\n")
	fmt.Fprintf(&b, "%s <- as.data.frame(read_parquet(%q))\n", d.Table, d.File)
	args := []string{"ids = ~1"}
	if d.PSU != "" {
		args[0] = "ids = ~" + d.PSU
	}
	if d.Strata != "" {
		args = append(args, "strata = ~"+d.Strata)
	}
	args = append(args, "weights = ~"+d.Weight)
	if d.FPC != "" {
		args = append(args, "fpc = ~"+d.FPC)
	}
	if d.Strata != "" && d.PSU != "" {
		args = append(args, "nest = TRUE")
	}
	args = append(args, "data = "+d.Table)
	fmt.Fprintf(&b, "des <- svydesign(%s)\n", strings.Join(args, ", "))
	return b.String()
}

func (d *DesignCode) stataCode() string {
	var b strings.Builder
	fmt.Fprintf(&b, "use %s.dta, clear\n", d.Table)
	psu := "_n"
	if d.PSU != "" {
		fmt.Fprintf(&b, "encode %s, generate(%s_id)\n", d.PSU, d.PSU)
		psu = d.PSU + "_id"
	}
	var opts []string
	if d.Strata != "" {
		fmt.Fprintf(&b, "encode %s, generate(%s_id)\n", d.Strata, d.Strata)
		opts = append(opts, "strata("+d.Strata+"_id)")
	}
	if d.FPC != "" {
		opts = append(opts, "fpc("+d.FPC+")")
	}
	line := fmt.Sprintf("svyset %s [pweight = %s]", psu, d.Weight)
	if len(opts) > 0 {
		line += ", " + strings.Join(opts, " ")
	}
	b.WriteString(line + "\n")
	return b.String()
}

func (d *DesignCode) pythonCode() string {
	var b strings.Builder
	b.WriteString("import pandas as pd\nfrom samplics.estimation import TaylorEstimator\n\n")
	fmt.Fprintf(&b, "%s = pd.read_parquet(%q)\n", d.Table, d.File)
	b.WriteString("est = TaylorEstimator(\"mean\")\n")
	args := []string{fmt.Sprintf("y=%s[\"<variable>\"]", d.Table), fmt.Sprintf("samp_weight=%s[%q]", d.Table, d.Weight)}
	if d.Strata != "" {
		args = append(args, fmt.Sprintf("stratum=%s[%q]", d.Table, d.Strata))
	}
	if d.PSU != "" {
		args = append(args, fmt.Sprintf("psu=%s[%q]", d.Table, d.PSU))
	}
	args = append(args, "remove_nan=True")
	fmt.Fprintf(&b, "est.estimate(%s)\n", strings.Join(args, ", "))
	if d.FPC != "" {
		fmt.Fprintf(&b, "# without the finite population correction (%s), standard errors are\n# the with-replacement ones: slightly larger than R's and Stata's above\n", d.FPC)
	}
	return b.String()
}

// writeMarkdown renders the design section of codebook.md.
func (d *DesignCode) writeMarkdown(b *strings.Builder) {
	fmt.Fprintf(b, "\n## Declaring the sampling design\n\nEstimates from this release must use its design; every table carries the same design columns as `%s`", d.File)
	var cols []string
	names := []string{d.Strata, d.PSU, d.Weight, d.FPC}
	if d.Specification != "" {
		names = append(names, drawn.household, drawn.class, drawn.certainty)
	}
	for _, c := range names {
		if c != "" {
			cols = append(cols, "`"+c+"`")
		}
	}
	fmt.Fprintf(b, " (%s).\n", strings.Join(cols, ", "))
	if d.Specification != "" {
		fmt.Fprintf(b, "\n%s\n", d.Specification)
	}
	if d.Caveats != "" {
		fmt.Fprintf(b, "Note: %s.\n", d.Caveats)
	}
	fmt.Fprintf(b, "\nR (survey):\n\n```r\n%s```\n\nStata:\n\n```stata\n%s```\n\nPython (samplics):\n\n```python\n%s```\n", d.R, d.Stata, d.Python)
}

// drawn names the columns of the design as drawn (dataset.ScreeningClass,
// dataset.Certainty).
var drawn = struct{ certainty, class, household string }{"certainty", "screening_class", "household_id"}

// drawnDesign declares the design as drawn: a certainty (self-representing)
// PSU is a stratum of its own per screening class, with its households as
// PSUs; other PSUs are PSUs of their stratum, taken with replacement
// (Hansen–Hurwitz, no fpc); the screening class stratifies the second
// stage. spec is how the survey's own estimates declared it (the certainty
// column's source).
func (d *DesignCode) drawnDesign(spec string) {
	d.FPC = ""
	d.Specification = strings.TrimPrefix(spec, "sample design: ")
	if strings.Contains(spec, "Brewer") {
		d.Specification += " The release leaves the inclusion probabilities out (they tell the sizes of enumeration areas): declare the with-replacement design below, whose standard errors are slightly larger."
	}
	var b strings.Builder
	b.WriteString("library(arrow)\nlibrary(survey)\noptions(survey.lonely.psu = \"adjust\")\n")
	fmt.Fprintf(&b, "%s <- as.data.frame(read_parquet(%q))\n", d.Table, d.File)
	t := d.Table
	fmt.Fprintf(&b, "cert <- %s$%s != 0\n", t, drawn.certainty)
	fmt.Fprintf(&b, "%s$stratum_drawn <- ifelse(cert, paste(%s$%s, %s$%s, %s$%s, sep = \"/\"), %s$%s)\n", t, t, d.Strata, t, d.PSU, t, drawn.class, t, d.Strata)
	fmt.Fprintf(&b, "%s$psu_drawn <- ifelse(cert, paste(%s$%s, %s$%s, sep = \"/\"), %s$%s)\n", t, t, d.PSU, t, drawn.household, t, d.PSU)
	fmt.Fprintf(&b, "des <- svydesign(ids = ~psu_drawn + %s, strata = ~stratum_drawn + %s, weights = ~%s, nest = TRUE, data = %s)\n", drawn.household, drawn.class, d.Weight, t)
	d.R = b.String()
	b.Reset()
	fmt.Fprintf(&b, "* with the %s table in memory\n", t)
	fmt.Fprintf(&b, "generate stratum_drawn = cond(%s != 0, %s + \"/\" + %s + \"/\" + %s, %s)\n", drawn.certainty, d.Strata, d.PSU, drawn.class, d.Strata)
	fmt.Fprintf(&b, "generate psu_drawn = cond(%s != 0, %s + \"/\" + %s, %s)\n", drawn.certainty, d.PSU, drawn.household, d.PSU)
	b.WriteString("encode stratum_drawn, generate(stratum_id)\nencode psu_drawn, generate(psu_id)\n")
	fmt.Fprintf(&b, "svyset psu_id [pweight = %s], strata(stratum_id) singleunit(centered)\n", d.Weight)
	d.Stata = b.String()
	b.Reset()
	b.WriteString("import numpy as np\nimport pandas as pd\nfrom samplics.estimation import TaylorEstimator\n\n")
	fmt.Fprintf(&b, "%s = pd.read_parquet(%q)\n", t, d.File)
	fmt.Fprintf(&b, "cert = %s[%q] != 0\n", t, drawn.certainty)
	fmt.Fprintf(&b, "%s[\"stratum_drawn\"] = np.where(cert, %s[%q] + \"/\" + %s[%q] + \"/\" + %s[%q], %s[%q])\n", t, t, d.Strata, t, d.PSU, t, drawn.class, t, d.Strata)
	fmt.Fprintf(&b, "%s[\"psu_drawn\"] = np.where(cert, %s[%q] + \"/\" + %s[%q], %s[%q])\n", t, t, d.PSU, t, drawn.household, t, d.PSU)
	fmt.Fprintf(&b, "est = TaylorEstimator(\"mean\")\nest.estimate(y=%s[\"<variable>\"], samp_weight=%s[%q], stratum=%s[\"stratum_drawn\"], psu=%s[\"psu_drawn\"], remove_nan=True)\n", t, t, d.Weight, t, t)
	d.Python = b.String()
}
