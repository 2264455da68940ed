package exports

import (
	"fmt"
	"math"
	"strings"

	"github.com/dotm-survey/dotm/analysis"
)

// KeyIndicators names the estimates a release must keep: weighted means of
// Means in Table, by the domains of By, estimated with the release's design
// (stratum, PSU, weight; lonely PSUs adjusted) on the full and the released
// data. The profile sets them:
//
//	key_indicators: {table: households, means: [remit_received, cons_pc], by: migrant}
type KeyIndicators struct {
	Table string   `yaml:"table"`
	Means []string `yaml:"means"`
	By    string   `yaml:"by"`
}

// InformationLoss is what disclosure control cost the data.
type InformationLoss struct {
	Tables []TableLoss `json:"tables"`
	// SuppressedCells counts every value set to null by local or
	// secondary suppression, over all tables.
	SuppressedCells int `json:"suppressed_cells"`
	// Indicators compares the key indicators on the released and the full
	// data; Inside of Checked released estimates fall inside the full
	// data's 95% confidence interval.
	Indicators []IndicatorLoss `json:"key_indicators,omitempty"`
	Inside     int             `json:"inside_ci"`
	Checked    int             `json:"checked"`
	// IndicatorsError says why the key indicators could not be compared
	// (a domain empty in the released file, …).
	IndicatorsError string `json:"key_indicators_error,omitempty"`
}

// TableLoss is one table's information loss.
type TableLoss struct {
	Table      string `json:"table"`
	Cells      int    `json:"cells"` // rows × released columns
	Suppressed int    `json:"suppressed"`
	Secondary  int    `json:"secondary_suppressed"`
	// Merged lists the categorical columns whose number of distinct values
	// recoding, top-coding or grouping reduced.
	Merged []Merged `json:"categories_merged,omitempty"`
}

// Merged is a column's number of distinct values before and after.
type Merged struct {
	Column string `json:"column"`
	Before int    `json:"before"`
	After  int    `json:"after"`
}

// IndicatorLoss is one key indicator in one domain, full vs released.
type IndicatorLoss struct {
	Variable   string     `json:"variable"`
	Domain     string     `json:"domain"`
	Full       float64    `json:"full"`
	FullCI     [2]float64 `json:"full_ci"`
	FullSE     float64    `json:"full_se"`
	Released   float64    `json:"released"`
	ReleasedSE float64    `json:"released_se"`
	Difference float64    `json:"difference"` // released − full
	Inside     bool       `json:"inside_full_ci"`
}

// informationLoss compares the released tables out with the input tables in
// (same order), given the tables' reports.
func informationLoss(in, out []*Table, reports []TableReport, p *Profile, d Design) (*InformationLoss, error) {
	il := &InformationLoss{}
	for i, t := range out {
		tl := TableLoss{Table: t.Name, Cells: t.Rows() * len(t.Columns), Suppressed: reports[i].SuppressedTotal}
		for _, n := range reports[i].Secondary {
			tl.Secondary += n
		}
		for _, c := range t.Columns {
			src := in[i].Column(c.Name)
			if src == nil || c.Name == d.ID || c.Name == d.Stratum || c.Name == d.PSU {
				continue
			}
			if c.Type != String && !(c.Type == Int && countDistinct(src, 31) <= 30) {
				continue
			}
			before, after := countDistinct(src, 1<<30), countDistinct(c, 1<<30)
			if after < before {
				tl.Merged = append(tl.Merged, Merged{Column: c.Name, Before: before, After: after})
			}
		}
		il.SuppressedCells += tl.Suppressed + tl.Secondary
		il.Tables = append(il.Tables, tl)
	}
	ki := p.KeyIndicators
	if ki == nil || len(ki.Means) == 0 {
		return il, nil
	}
	var tin, tout *Table
	for i, t := range in {
		if t.Name == ki.Table {
			tin, tout = t, out[i]
		}
	}
	if tin == nil {
		return nil, fmt.Errorf("profile: key_indicators: no table %s", ki.Table)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "data: %s\ndesign: {strata: %s, psu: %s, weight: %s, lonely_psu: adjust}\nestimates:\n", ki.Table, d.Stratum, d.PSU, d.Weight)
	names := []string{d.Stratum, d.PSU, d.Weight}
	if ki.By != "" {
		names = append(names, ki.By)
	}
	for j, m := range ki.Means {
		fmt.Fprintf(&b, "  - {id: k%d, mean: %s, na_rm: true", j, m)
		if ki.By != "" {
			fmt.Fprintf(&b, ", by: %s", ki.By)
		}
		b.WriteString("}\n")
		names = append(names, m)
	}
	plan, err := analysis.ParsePlan([]byte(b.String()))
	if err != nil {
		return nil, fmt.Errorf("profile: key_indicators: %w", err)
	}
	run := func(t *Table) (*analysis.Results, error) {
		at, err := analysisTable(t, names)
		if err != nil {
			return nil, err
		}
		return analysis.RunTable(plan, at)
	}
	full, err := run(tin)
	if err != nil {
		il.IndicatorsError = "on the full data: " + err.Error()
		return il, nil
	}
	rel, err := run(tout)
	if err != nil {
		il.IndicatorsError = "on the released data: " + err.Error()
		return il, nil
	}
	num := func(n *analysis.Num) float64 {
		if n == nil {
			return math.NaN()
		}
		return float64(*n)
	}
	for j, fr := range full.Results {
		rr := rel.Results[j]
		type est struct {
			level     string
			e, se     float64
			ci        []analysis.Num
			available bool
		}
		var fs, rs []est
		if len(fr.Domains) == 0 {
			fs = []est{{"all", num(fr.Estimate), num(fr.SE), fr.CI, true}}
			rs = []est{{"all", num(rr.Estimate), num(rr.SE), rr.CI, true}}
		}
		for _, g := range fr.Domains {
			fs = append(fs, est{g.Level, num(g.Estimate), num(g.SE), g.CI, true})
		}
		relBy := map[string]est{}
		for _, g := range rr.Domains {
			relBy[g.Level] = est{g.Level, num(g.Estimate), num(g.SE), g.CI, true}
		}
		for x, f := range fs {
			r := relBy[f.level]
			if len(fr.Domains) == 0 {
				r = rs[x]
			}
			if len(f.ci) != 2 || !r.available {
				continue
			}
			lo, hi := float64(f.ci[0]), float64(f.ci[1])
			l := IndicatorLoss{Variable: ki.Means[j], Domain: f.level, Full: f.e, FullCI: [2]float64{lo, hi}, FullSE: f.se,
				Released: r.e, ReleasedSE: r.se, Difference: r.e - f.e, Inside: r.e >= lo && r.e <= hi}
			il.Indicators = append(il.Indicators, l)
			il.Checked++
			if l.Inside {
				il.Inside++
			}
		}
	}
	return il, nil
}

// analysisTable gives the named columns of t to the analysis package:
// numbers (null as NaN) for numeric and yes/no columns, text otherwise.
func analysisTable(t *Table, names []string) (*analysis.Table, error) {
	at := analysis.NewTable(t.Rows())
	for _, name := range names {
		c := t.Column(name)
		if c == nil {
			return nil, fmt.Errorf("table %s: no column %s", t.Name, name)
		}
		switch c.Type {
		case Int, Float, Bool:
			x := make([]float64, c.Len())
			for i := range x {
				x[i] = math.NaN()
				if !c.IsNull(i) {
					x[i] = c.Float(i)
				}
			}
			at.AddNumeric(name, x)
		default:
			s := make([]string, c.Len())
			for i := range s {
				if !c.IsNull(i) {
					s[i] = c.Format(i)
				}
			}
			at.AddStrings(name, s)
		}
	}
	return at, nil
}
