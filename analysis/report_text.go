package analysis

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/dotm-survey/dotm/internal/csvsafe"
)

// reportRows lists the report's estimates one per row: indicator, its unit
// and what n counts, grouping (all, migrant, head_sex), group, estimate,
// SE, CI, n, CV and reliability, and the difference test against the
// reference group. Shares are proportions in [0, 1] here.
func (r *Report) reportRows() [][]string {
	f := func(x Num) string { return strconv.FormatFloat(float64(x), 'g', 6, 64) }
	var rows [][]string
	add := func(ind IndicatorResult, by string, g GroupEstimate) {
		diff, p := "", ""
		if g.Diff != nil {
			diff, p = f(g.Diff.Difference), f(g.Diff.P)
		}
		rows = append(rows, []string{ind.ID, ind.Label, ind.Base, ind.Count, by, g.Group, f(g.Estimate), f(g.SE), f(g.CI[0]), f(g.CI[1]), strconv.Itoa(g.N), f(g.CV), g.Unreliable, diff, p})
	}
	for _, ind := range r.Indicators {
		add(ind, "all", ind.All)
		for _, g := range ind.ByMigrant {
			add(ind, "migrant", g)
		}
		for _, g := range ind.BySex {
			add(ind, "head_sex", g)
		}
	}
	return append(rows, r.Countries.rows(f)...)
}

// reportHeader: unit says what the estimate is a share of or per, n_counts
// what n counts; unreliable says why an estimate is not reliable (fewer
// than MinReliableN cases, CV above MaxReliableCV), empty when it is.
var reportHeader = []string{"id", "indicator", "unit", "n_counts", "by", "group", "estimate", "se", "ci_low", "ci_high", "n", "cv", "unreliable", "difference", "p"}

// WriteCSV writes the report's estimates as CSV, one row per indicator and
// group.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(reportHeader); err != nil {
		return err
	}
	for _, row := range r.reportRows() {
		if err := cw.Write(csvsafe.Row(row)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteTable writes the report's estimates as an aligned text table.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, row := range append([][]string{reportHeader}, r.reportRows()...) {
		for i, s := range row {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, s)
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprintf(tw, "\ndesign: %d rows, %d PSUs, %d strata, df %d; variance: %s\n", r.Design.Rows, r.Design.PSUs, r.Design.Strata, r.Design.DF, r.Design.Variance)
	return tw.Flush()
}
