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
		p("| risk | before | after |\n|---|---|---|\n")
		p("| expected re-identifications | %.3g | %.3g |\n", t.Before.ExpectedReidentifications, t.After.ExpectedReidentifications)
		p("| global risk | %.4g | %.4g |\n", t.Before.Global, t.After.Global)
		p("| highest individual risk | %.4g | %.4g |\n", t.Before.MaxIndividual, t.After.MaxIndividual)
		p("| records below k | %d | %d |\n", t.Before.KViolations, t.After.KViolations)
		p("| sample uniques | %d | %d |\n\n", t.Before.SampleUniques, t.After.SampleUniques)
		if t.ResidualK > 0 {
			p("%d records stay below k on the values released as they are alone; the profile allows them (residual_k).\n\n", t.ResidualK)
		}
		for _, pr := range t.Problems {
			p("**Problem:** %s\n\n", pr)
		}
	}
	return b.Flush()
}
