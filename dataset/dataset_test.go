package dataset

import (
	"encoding/json"
	"math"
	"os"
	"testing"
	"time"

	"github.com/dotm-survey/dotm/exports"
	"github.com/dotm-survey/dotm/questionnaire"
)

// validHousehold is the questionnaire's example household, validated and
// normalized by the form as the server stores it.
func validHousehold(t *testing.T) (*questionnaire.Form, map[string]any) {
	t.Helper()
	b, err := os.ReadFile("../questionnaire/testdata/household_valid.json")
	if err != nil {
		t.Fatal(err)
	}
	var sub questionnaire.Submission
	if err := json.Unmarshal(b, &sub); err != nil {
		t.Fatal(err)
	}
	form := questionnaire.Household()
	answers, problems := form.Validate(sub.Answers, questionnaire.ValidateOptions{Now: sub.EndedAt})
	if len(problems) > 0 {
		t.Fatalf("example household is invalid: %+v", problems)
	}
	return form, answers
}

func TestBuildDerivesHouseholdVariables(t *testing.T) {
	form, answers := validHousehold(t)
	// A second household: no migrants, no returnees, one member.
	single := map[string]any{
		"region": "south", "urban": "yes", "consent": "yes",
		"members":        []any{map[string]any{"sex": "female", "age": int64(70), "relationship": "head"}},
		"has_migrants":   "no",
		"has_returnees":  "no",
		"remit_received": "no",
		"food_exp":       float64(100), "educ_exp": float64(0), "health_exp": float64(20), "housing_exp": float64(30), "other_exp": float64(50),
		"bank_account": "yes", "decision_spending": "head_female",
	}
	when := time.Date(2025, 3, 14, 10, 5, 0, 0, time.UTC)
	ds, err := Build("gh-2026", form, []Household{
		{ID: "h1", Stratum: "north-rural", PSU: "ea-14", Weight: 120.5, FPC: 60, Interviewed: when, Answers: answers},
		{ID: "h2", Stratum: "south-urban", PSU: "ea-99", Weight: 80, Answers: single},
	})
	if err != nil {
		t.Fatal(err)
	}
	hh := ds.Table(Households)
	if hh == nil || hh.Rows() != 2 {
		t.Fatalf("households table: %+v", hh)
	}
	str := func(col string, i int) string {
		t.Helper()
		c := hh.Column(col)
		if c == nil {
			t.Fatalf("no column %s", col)
		}
		return c.Format(i)
	}
	a := answers
	food := a["food_exp"].(float64) + a["educ_exp"].(float64) + a["health_exp"].(float64) + a["housing_exp"].(float64) + a["other_exp"].(float64)
	cases := []struct {
		col  string
		row  int
		want string
	}{
		{"household_id", 0, "h1"}, {"stratum", 0, "north-rural"}, {"psu", 0, "ea-14"}, {"weight", 0, "120.5"}, {"fpc", 0, "60"}, {"fpc", 1, ""},
		{"migrant", 0, CurrentMigrant}, {"migrant", 1, NonMigrant},
		{"hh_size", 0, "4"}, {"hh_size", 1, "1"},
		{"head_sex", 0, "male"}, {"head_female", 0, "0"}, {"head_age", 0, "47"}, {"head_female", 1, "1"}, {"head_age", 1, "70"},
		{"n_migrants", 0, "2"}, {"dest_country", 0, "ESP"}, {"dest_country", 1, ""},
		{"remit_received", 0, "1"}, {"remit_amount", 0, "2400"}, {"remit_received", 1, "0"}, {"remit_amount", 1, "0"},
		{"cons_pc", 1, "200"},
		{"bank_account", 0, "0"}, {"savings", 0, "1"}, {"mobile_money", 0, "1"}, {"bank_account", 1, "1"},
		{"children_6_17", 0, "2"}, {"children_enrolled", 0, "1"},
		{"women_decide", 0, "1"}, {"women_decide", 1, "1"},
		{"urban", 0, "0"}, {"urban", 1, "1"}, {"region", 0, "north"},
		{"interview_date", 0, "2025-03-14"},
	}
	for _, c := range cases {
		if got := str(c.col, c.row); got != c.want {
			t.Errorf("%s[%d] = %q, want %q", c.col, c.row, got, c.want)
		}
	}
	if got := hh.Column("cons_pc").Floats[0]; math.Abs(got-food/4) > 1e-9 {
		t.Errorf("cons_pc[0] = %v, want %v", got, food/4)
	}
	// Metadata comes from the form: classes and question texts in both languages.
	if m := hh.Column("respondent_name").Meta; m.Sensitivity != exports.Direct {
		t.Errorf("respondent_name class %q, want direct", m.Sensitivity)
	}
	if m := hh.Column("region").Meta; m.Sensitivity != exports.Quasi || m.Question["es"] == "" || len(m.Choices) == 0 {
		t.Errorf("region meta %+v", m)
	}
	persons := ds.Table(Persons)
	if persons == nil || persons.Rows() != 5 {
		t.Fatalf("persons: %v rows, want 4 + 1", persons.Rows())
	}
	if got := persons.Column("age").Format(2); got != "15" {
		t.Errorf("persons age[2] = %s", got)
	}
	if got := persons.Column("household_id").Format(4); got != "h2" {
		t.Errorf("persons household_id[4] = %s", got)
	}
	if got := persons.Column("weight").Format(4); got != "80" {
		t.Errorf("persons weight[4] = %s", got)
	}
	// Coded variables carry value labels and one type: yes/no questions,
	// 0/1 calculations and derived indicators are 0/1 integers in every
	// table; countries are ISO 3166-1 alpha-3 codes with their ISO names.
	for _, tc := range []struct{ table, col, value, label string }{
		{Households, "migrant", CurrentMigrant, "Current migrant household (a member lives abroad)"},
		{Households, "urban", "1", "Urban"},
		{Households, "remit_received", "1", "Yes"},
		{Households, "consent", "1", "Yes"},
		{Households, "head_sex", "female", "Female"},
		{Households, "dest_country", "ESP", "Spain"},
		{Households, "dest_country", "", "No member abroad"},
		{Persons, "enrolled", "0", "No"},
		{Persons, "is_child_6_17", "1", "Yes"},
		{Migrants, "dest_country", "USA", "United States"},
		{Migrants, "dest_country", "RUS", "Russian Federation"},
		{Migrants, "dest_country", "other", "Other country"},
		{ReturnMigrants, "ret_country", "VEN", "Venezuela, Bolivarian Republic of"},
	} {
		c := ds.Table(tc.table).Column(tc.col)
		if c == nil {
			t.Fatalf("%s: no column %s", tc.table, tc.col)
		}
		found := false
		for _, ch := range c.Meta.Choices {
			if ch.Name == tc.value {
				found = true
				if ch.Labels["en"] != tc.label {
					t.Errorf("%s.%s = %q labelled %q, want %q", tc.table, tc.col, tc.value, ch.Labels["en"], tc.label)
				}
			}
		}
		if !found {
			t.Errorf("%s.%s: no value label for %q in %+v", tc.table, tc.col, tc.value, c.Meta.Choices)
		}
		if tc.value == "0" || tc.value == "1" {
			if c.Type != exports.Int {
				t.Errorf("%s.%s is %s, want integer 0/1", tc.table, tc.col, c.Type)
			}
		}
	}
	if es := ds.Table(Migrants).Column("dest_country").Meta.Choices[1].Labels["es"]; es != "España" {
		t.Errorf("migrants.dest_country ESP in Spanish: %q, want the form's España", es)
	}
	if !hh.Column("assets").Meta.Multiple || hh.Column("region").Meta.Multiple {
		t.Error("assets should be marked select_multiple and region not")
	}
	if m := ds.Table(Migrants); m == nil || m.Rows() != 2 || m.Column("legal_status").Meta.Sensitivity != exports.Sensitive {
		t.Fatalf("migrants table: %+v", m)
	}
	if r := ds.Table(ReturnMigrants); r == nil || r.Rows() != 1 {
		t.Fatalf("return migrants table: %+v", r)
	}
}

func TestBuildRefusesBadDesign(t *testing.T) {
	form := questionnaire.Household()
	for name, h := range map[string]Household{
		"no id":       {Weight: 1},
		"zero weight": {ID: "a", Weight: 0},
		"NaN weight":  {ID: "a", Weight: math.NaN()},
		"infinite":    {ID: "a", Weight: math.Inf(1)},
		"negative":    {ID: "a", Weight: -3},
	} {
		if _, err := Build("s", form, []Household{h}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
