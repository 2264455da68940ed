package analysis

import (
	"reflect"
	"testing"
)

// TestFormulaTermsAsR: term labels and model-matrix column names are R's
// (terms.formula and model.matrix of R 4, printed for these formulas).
func TestFormulaTermsAsR(t *testing.T) {
	tb := NewTable(8)
	tb.AddStrings("a", []string{"x", "y", "x", "y", "x", "y", "x", "y"})
	tb.AddStrings("b", []string{"p", "p", "q", "q", "r", "r", "s", "s"})
	tb.AddNumeric("z", []float64{0.1, -1, 2, 0.5, 1.5, -0.3, 0.9, 1.1})
	tb.AddNumeric("y", []float64{1, 2, 3, 4, 5, 6, 7, 8})
	for _, c := range []struct {
		formula string
		terms   []string
		columns []string
	}{
		{"y ~ a*z + b:z + I(z ^ 2)", []string{"a", "z", "I(z^2)", "a:z", "z:b"},
			[]string{"(Intercept)", "ay", "z", "I(z^2)", "ay:z", "z:bq", "z:br", "z:bs"}},
		{"y ~ b:a + a*z", []string{"a", "z", "b:a", "a:z"},
			[]string{"(Intercept)", "ay", "z", "bq:ax", "br:ax", "bs:ax", "bq:ay", "br:ay", "bs:ay", "ay:z"}},
		{"y ~ a:b", []string{"a:b"},
			[]string{"(Intercept)", "ax:bp", "ay:bp", "ax:bq", "ay:bq", "ax:br", "ay:br", "ax:bs", "ay:bs"}},
		{"y ~ log(z + 2) + I(z > 1) - 1", []string{"log(z + 2)", "I(z > 1)"},
			[]string{"log(z + 2)", "I(z > 1)FALSE", "I(z > 1)TRUE"}},
	} {
		f, err := ParseFormula(c.formula)
		if err != nil {
			t.Fatalf("%s: %v", c.formula, err)
		}
		if !reflect.DeepEqual(f.Terms, c.terms) {
			t.Errorf("%s: terms %q, R %q", c.formula, f.Terms, c.terms)
		}
		vals := map[string]variable{}
		for _, v := range f.vars {
			if vals[v], err = evalVariable(tb, v); err != nil {
				t.Fatal(err)
			}
		}
		used := make([]bool, tb.Len())
		for i := range used {
			used[i] = true
		}
		names, _, _ := f.modelMatrix(vals, used)
		if !reflect.DeepEqual(names, c.columns) {
			t.Errorf("%s: columns %q, R %q", c.formula, names, c.columns)
		}
	}
	for _, bad := range []string{"y ~ poly(z, 2)", "y ~ a + (b", "y ~ ", "y ~ a:"} {
		if _, err := ParseFormula(bad); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}
