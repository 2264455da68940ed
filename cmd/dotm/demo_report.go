package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/dotm-survey/dotm/analysis"
	"github.com/dotm-survey/dotm/exports"
)

// reportMeta is what the demo's indicator report says about the round:
// country, round, fieldwork dates (the first and last interview day of the
// households analysed), the sample's sizes, the response rate (AAPOR RR1:
// complete, approved interviews with consent over the households selected,
// all of which are taken as eligible) and how the weights were made.
func (r *demoRun) reportMeta(households *exports.Table) analysis.SurveyMeta {
	m := analysis.SurveyMeta{Country: "Demoland", Round: "Development on the Move, demo round (" + demoSurvey + ")", Currency: "LCU",
		Selected: int(r.counts.selected.Load()), Interviewed: int(r.counts.interviews.Load() + r.counts.refusals.Load()),
		Responding: r.weights.Respondents}
	if m.Selected > 0 {
		m.ResponseRate = float64(m.Responding) / float64(m.Selected)
	}
	if c := households.Column("interview_date"); c != nil && c.Type == exports.Date {
		first, last := int64(-1), int64(-1)
		for i, d := range c.Ints {
			if c.IsNull(i) {
				continue
			}
			if first < 0 || d < first {
				first = d
			}
			if d > last {
				last = d
			}
		}
		if first >= 0 {
			day := func(d int64) string { return time.Unix(d*86400, 0).UTC().Format(time.DateOnly) }
			m.FieldworkStart, m.FieldworkEnd = day(first), day(last)
		}
	}
	w := []string{"base weights 1/(π1·π2) from the two-stage draw"}
	if cls := r.inputs.weightSpec.NonresponseClasses; len(cls) > 0 {
		w = append(w, "nonresponse adjustment within "+strings.Join(cls, " × "))
	}
	if cal := r.inputs.weightSpec.Calibration; cal != nil {
		vars := map[string]bool{}
		var names []string
		for _, mg := range cal.Margins {
			if !vars[mg.Variable] {
				vars[mg.Variable] = true
				names = append(names, mg.Variable)
			}
		}
		w = append(w, fmt.Sprintf("%s calibration to %d census household totals by %s", cal.Method, len(cal.Margins), strings.Join(names, " and ")))
	}
	m.Weighting = strings.Join(w, "; ")
	return m
}
