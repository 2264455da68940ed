package exports

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// ReportMarkdown is the disclosure report as a page a data-release
// committee reads (disclosure-report.md), next to disclosure-report.json.
const ReportMarkdown = "disclosure-report.md"

// WriteMarkdown writes the report for release id as Markdown: the verdict,
// then per table the quasi-identifiers and where else each can be read,
// what was released as it is and why, what was dropped, suppressed and
// perturbed, and the risk before and after disclosure control.
func (r *Report) WriteMarkdown(w io.Writer, id string) error {
	b := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	verdict := "passed"
	if !r.Passed {
		verdict = "REFUSED"
	}
	p("# Disclosure report, release %s\n\n", id)
	p("Verdict: **%s**. k = %d", verdict, r.K)
	if r.MaxRisk > 0 {
		p(", maximum global risk %g", r.MaxRisk)
	}
	p(". Risk measure: %s.\n\n", r.RiskMethod)
	if len(r.QuasiIdentifiers) > 0 {
		p("Quasi-identifiers: %s.\n\n", strings.Join(r.QuasiIdentifiers, ", "))
	}
	for _, o := range r.Overrides {
		p("**Override:** %s.\n\n", o)
	}
	for _, t := range r.Tables {
		p("## Table %s (%d records)\n\n", t.Table, t.Rows)
		if len(t.QuasiIdentifiers) > 0 {
			p("Quasi-identifiers in this table: %s.\n\n", strings.Join(t.QuasiIdentifiers, ", "))
		}
		if len(t.ReleasedAsIs) > 0 {
			p("Released as they are, because other released data give them:\n\n")
			for _, q := range sortedKeys(t.ReleasedAsIs) {
				p("- `%s`: %s\n", q, t.ReleasedAsIs[q])
			}
			p("\n")
		}
		if len(t.Carriers) > 0 {
			p("Other places each quasi-identifier can be read from (coarsened and suppressed with it):\n\n")
			for _, q := range sortedKeys(t.Carriers) {
				p("- `%s`: %s\n", q, strings.Join(t.Carriers[q], "; "))
			}
			p("\n")
		}
		if len(t.Dropped) > 0 {
			p("Dropped columns:\n\n")
			for _, d := range t.Dropped {
				p("- `%s`: %s\n", d.Column, d.Reason)
			}
			p("\n")
		}
		if t.SuppressedTotal > 0 || len(t.Secondary) > 0 {
			p("Suppressed values (set to null): %d for k-anonymity", t.SuppressedTotal)
			var parts []string
			for _, q := range sortedKeys(t.Suppressed) {
				if n := t.Suppressed[q]; n > 0 {
					parts = append(parts, fmt.Sprintf("`%s` %d", q, n))
				}
			}
			if len(parts) > 0 {
				p(" (%s)", strings.Join(parts, ", "))
			}
			p(".")
			if len(t.Secondary) > 0 {
				parts = parts[:0]
				for _, c := range sortedKeys(t.Secondary) {
					parts = append(parts, fmt.Sprintf("`%s` %d", c, t.Secondary[c]))
				}
				p(" Besides, %s, because they would give suppressed values back.", strings.Join(parts, ", "))
			}
			p("\n\n")
		}
		if len(t.Perturbed) > 0 {
			p("Perturbed amounts (weighted mean, released vs original):")
			for _, c := range sortedKeys(t.Perturbed) {
				p(" `%s` %+.3g%%;", c, 100*t.Perturbed[c])
			}
			p("\n\n")
		}
		if sp := t.Suppression; sp != nil && sp.Cells > 0 {
			p("Local suppression: %d cells (%s); lower bound %d, greedy heuristic %d", sp.Cells, sp.Method, sp.LowerBound, sp.Greedy)
			if sp.GreedyBelowK > 0 {
				p(" (leaving %d records below k)", sp.GreedyBelowK)
			}
			p("; %d of %d blocks solved to optimality.\n\n", sp.Exact, sp.Blocks)
		}
		p("| risk | before | after |\n|---|---|---|\n")
		p("| expected re-identifications | %.3g | %.3g |\n", t.Before.ExpectedReidentifications, t.After.ExpectedReidentifications)
		p("| global risk | %.4g | %.4g |\n", t.Before.Global, t.After.Global)
		p("| highest individual risk | %.4g | %.4g |\n", t.Before.MaxIndividual, t.After.MaxIndividual)
		p("| records below k | %d | %d |\n", t.Before.KViolations, t.After.KViolations)
		p("| sample uniques | %d | %d |\n\n", t.Before.SampleUniques, t.After.SampleUniques)
		if t.ResidualK > 0 {
			p("%d records stay below k on the values released as they are alone; the profile allows them (residual_k).\n\n", t.ResidualK)
		}
		p("After, by the other measure: a blank matching any value (sdcMicro's default) gives global risk %.4g and %d records below k; a blank as a value of its own gives %.4g and %d.\n\n",
			t.AfterBlanksMatchAny.Global, t.AfterBlanksMatchAny.KViolations, t.AfterBlanksAreValues.Global, t.AfterBlanksAreValues.KViolations)
		for _, pr := range t.Problems {
			p("**Problem:** %s\n\n", pr)
		}
	}
	if len(r.Joint) > 0 {
		p("## Risk on the joined data\n\nEach person is measured on the household's released key and their own; household risk is sdcMicro's (a household is re-identified when any of its people is: 1 − Π(1 − r_i)).\n\n")
		p("| table | records | global risk before | after | records below k after | in residual households | household risk (hier_risk) before | after | expected households re-identified after |\n|---|---|---|---|---|---|---|---|---|\n")
		for _, j := range r.Joint {
			p("| %s | %d | %.4g | %.4g | %d | %d | %.4g | %.4g | %.3g |\n", j.Table, j.Records, j.Before.Global, j.After.Global, j.After.KViolations, j.Exposed,
				j.HouseholdBefore.Global, j.HouseholdAfter.Global, j.HouseholdAfter.ExpectedHouseholds)
		}
		if h := r.HouseholdRisk; h != nil {
			p("\nOver all person-level tables: %d households, expected households re-identified %.3g, highest household risk %.4g (hier_risk %.4g).\n", h.Households, h.ExpectedHouseholds, h.MaxHousehold, h.Global)
		}
		p("\n")
	}
	if il := r.InformationLoss; il != nil {
		p("## Information loss\n\n%d values suppressed in all (local and secondary suppression).\n\n", il.SuppressedCells)
		p("| table | cells | suppressed | secondary | categories merged |\n|---|---|---|---|---|\n")
		for _, t := range il.Tables {
			var m []string
			for _, x := range t.Merged {
				m = append(m, fmt.Sprintf("`%s` %d→%d", x.Column, x.Before, x.After))
			}
			p("| %s | %d | %d | %d | %s |\n", t.Table, t.Cells, t.Suppressed, t.Secondary, strings.Join(m, ", "))
		}
		if il.IndicatorsError != "" {
			p("\n**Key indicators not compared:** %s\n", il.IndicatorsError)
		}
		if il.Checked > 0 {
			p("\nKey indicators, released vs full data (%d of %d inside the full data's 95%% confidence interval):\n\n", il.Inside, il.Checked)
			p("| indicator | domain | full [95%% CI] | released | difference | inside |\n|---|---|---|---|---|---|\n")
			for _, x := range il.Indicators {
				in := "yes"
				if !x.Inside {
					in = "**no**"
				}
				p("| %s | %s | %.4g [%.4g, %.4g] | %.4g | %+.3g | %s |\n", x.Variable, x.Domain, x.Full, x.FullCI[0], x.FullCI[1], x.Released, x.Difference, in)
			}
		}
		p("\n")
	}
	return b.Flush()
}
