package questionnaire

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"
)

//go:embed forms/dotm_household.yaml
var householdYAML []byte

var household struct {
	once sync.Once
	form *Form
	err  error
}

// HouseholdYAML returns the source of the built-in household questionnaire
// (questionnaire/forms/dotm_household.yaml).
func HouseholdYAML() []byte { return append([]byte(nil), householdYAML...) }

// Household returns the built-in Development on the Move household
// questionnaire (questionnaire/forms/dotm_household.yaml, embedded): cover
// and consent, household roster, current migrants abroad, return migrants,
// remittances, consumption and expenditure, housing and assets, financial
// services, health, education of children 6–17, labour, gender roles and
// decision-making, and the interview end with GPS; labels in English (en)
// and Spanish (es).
//
// Each call returns a new Form (decoded once, then copied), so callers may
// change it without affecting others. The embedded form is checked by the
// package's tests; Household panics if it does not compile.
func Household() *Form {
	household.once.Do(func() {
		household.form, household.err = Decode(householdYAML, "yaml")
	})
	if household.err != nil {
		panic(fmt.Sprintf("questionnaire: built-in household form: %v", household.err))
	}
	return household.form.clone()
}

// clone returns a deep copy of a compiled form.
func (f *Form) clone() *Form {
	g := *f
	g.Languages = append([]string(nil), f.Languages...)
	g.LanguageNames = copyStrings(f.LanguageNames)
	g.Settings = copyStrings(f.Settings)
	if f.Headers != nil {
		g.Headers = make(map[string]map[string]string, len(f.Headers))
		for sheet, m := range f.Headers {
			g.Headers[sheet] = copyStrings(m)
		}
	}
	g.Sheets = make([]Sheet, len(f.Sheets))
	for i, s := range f.Sheets {
		g.Sheets[i] = Sheet{Name: s.Name, Rows: make([][]string, len(s.Rows))}
		for j, r := range s.Rows {
			g.Sheets[i].Rows[j] = append([]string{}, r...)
		}
	}
	if f.Sheets == nil {
		g.Sheets = nil
	}
	g.Survey = make([]Question, len(f.Survey))
	for i, q := range f.Survey {
		q.Label, q.Hint = copyText(q.Label), copyText(q.Hint)
		q.RequiredMessage, q.ConstraintMessage = copyText(q.RequiredMessage), copyText(q.ConstraintMessage)
		q.Extra = copyStrings(q.Extra)
		g.Survey[i] = q
	}
	g.Choices = make([]ChoiceRow, len(f.Choices))
	for i, c := range f.Choices {
		c.Label = copyText(c.Label)
		c.Extra = copyStrings(c.Extra)
		g.Choices[i] = c
	}
	g.c = nil
	if err := g.Compile(); err != nil {
		panic(fmt.Sprintf("questionnaire: clone of a compiled form does not compile: %v", err))
	}
	return &g
}

func copyStrings(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func copyText(t Text) Text { return Text(copyStrings(t)) }

//go:embed testdata/household_valid.json
var householdExampleJSON []byte

// HouseholdExample returns a complete, valid submission of the household
// questionnaire (questionnaire/testdata/household_valid.json: four members,
// two migrants abroad, one return migrant), for other packages' tests and
// the demo. Each call returns a fresh copy.
func HouseholdExample() Submission {
	var s Submission
	if err := json.Unmarshal(householdExampleJSON, &s); err != nil {
		panic(fmt.Sprintf("questionnaire: example submission: %v", err))
	}
	return s
}

// HouseholdExampleJSON returns the example submission's JSON as stored.
func HouseholdExampleJSON() []byte { return append([]byte(nil), householdExampleJSON...) }
