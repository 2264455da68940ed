package main

import (
	"fmt"
	"math"

	"github.com/dotm-survey/dotm/analysis"
	"github.com/dotm-survey/dotm/collector"
	"github.com/dotm-survey/dotm/exports"
	"github.com/dotm-survey/dotm/mongodb"
)

// storeSurveyData is the survey-round view of a store: what `dotm analyze`
// with `survey:`, `dotm release create --survey`, the API and the demo read.
func storeSurveyData(store *mongodb.Store) collector.SurveyData {
	return collector.SurveyData{Forms: store, Assignments: store, Design: store, Weights: store, Approved: store}
}

// analysisTable copies the named columns of a dataset table into an
// analysis table: numbers (integers, decimals, booleans, dates as days) as
// float64 with NaN for missing, text as strings with "" for missing.
func analysisTable(t *exports.Table, columns []string) (*analysis.Table, error) {
	if t == nil {
		return nil, fmt.Errorf("no such table")
	}
	out := analysis.NewTable(t.Rows())
	seen := map[string]bool{}
	for _, name := range columns {
		if seen[name] {
			continue
		}
		seen[name] = true
		c := t.Column(name)
		if c == nil {
			return nil, fmt.Errorf("column %q is not in table %s", name, t.Name)
		}
		n := c.Len()
		if c.Type == exports.String {
			v := make([]string, n)
			for i := range v {
				if !c.IsNull(i) {
					v[i] = c.Strings[i]
				}
			}
			out.AddStrings(name, v)
			continue
		}
		v := make([]float64, n)
		for i := range v {
			v[i] = c.Float(i)
			if c.IsNull(i) {
				v[i] = math.NaN()
			}
		}
		out.AddNumeric(name, v)
	}
	return out, nil
}
