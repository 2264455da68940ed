package questionnaire

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

const testFormYAML = `
settings: {form_id: t, version: "1", default_language: en}
languages: [{code: en, name: English}, {code: es, name: Español}]
survey:
  - type: integer
    name: n
    label: {en: "People", es: "Personas"}
    required: "yes"
    required_message: {en: "Say how many people.", es: "Diga cuántas personas."}
    constraint: ". >= 0 and . <= 10"
    constraint_message: {en: "From 0 to 10 people.", es: "De 0 a 10 personas."}
  - {type: text, name: why_many, relevant: "${n} > 5", required: "yes"}
  - {type: begin group, name: g, relevant: "${n} != 0"}
  - {type: begin repeat, name: people, repeat_count: "${n}"}
  - {type: integer, name: age, required: "yes", constraint: ". >= 0 and . <= 110"}
  - {type: select_one yn, name: school, relevant: "${age} >= 6 and ${age} <= 17", required: "yes"}
  - {type: calculate, name: is_kid, calculation: "if(${age} < 18, 1, 0)"}
  - {type: integer, name: older_than_first, relevant: "position(..) > 1", constraint: ". = if(${age} > indexed-repeat(${age}, ${people}, 1), 1, 0)"}
  - {type: begin repeat, name: jobs}
  - {type: text, name: job, required: "yes"}
  - {type: decimal, name: pay, constraint: ". < 1000 or ${age} >= 18"}
  - {type: end repeat}
  - {type: end repeat}
  - {type: end group}
  - {type: calculate, name: n_people, calculation: "count(${people})"}
  - {type: calculate, name: total_age, calculation: "sum(${age})"}
  - {type: calculate, name: kids, calculation: "sum(${is_kid})"}
  - {type: calculate, name: oldest, calculation: "max(${age})"}
  - {type: calculate, name: n_jobs, calculation: "count(${jobs})"}
  - {type: calculate, name: total_pay, calculation: "sum(${pay})"}
  - {type: calculate, name: mean_age, calculation: "${total_age} div ${n_people}"}
  - {type: select_one country, name: country}
  - {type: select_one city, name: city, choice_filter: "country = ${country}"}
  - {type: select_multiple fruit, name: fruits, constraint: "count-selected(.) <= 2"}
  - {type: geopoint, name: loc}
  - {type: date, name: d, constraint: ". <= today()"}
  - {type: datetime, name: dt}
  - {type: time, name: tm}
  - {type: acknowledge, name: ok}
  - {type: note, name: nb, label: "Note"}
  - {type: text, name: code, required: "${n} > 3"}
choices:
  - {list_name: yn, name: "yes", label: {en: "Yes", es: "Sí"}}
  - {list_name: yn, name: "no", label: {en: "No", es: "No"}}
  - {list_name: country, name: co, label: Colombia}
  - {list_name: country, name: gh, label: Ghana}
  - {list_name: city, name: bogota, country: co}
  - {list_name: city, name: cali, country: co}
  - {list_name: city, name: accra, country: gh}
  - {list_name: fruit, name: mango}
  - {list_name: fruit, name: papaya}
  - {list_name: fruit, name: guava}
`

func testForm(t *testing.T) *Form {
	t.Helper()
	f, err := Decode([]byte(testFormYAML), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// answers parses a JSON object the way the collector does.
func answers(t *testing.T, js string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatalf("bad test JSON %s: %v", js, err)
	}
	return m
}

var testNow = time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC)

func TestValidateProblems(t *testing.T) {
	f := testForm(t)
	cases := []struct {
		name, answers, lang string
		want                []Problem // only Path and Code compared unless Message is set
	}{
		{"valid minimal", `{"n": 0}`, "", nil},
		{"valid with repeat", `{"n": 2, "people": [{"age": 40, "jobs": [{"job": "farmer", "pay": 5000}]}, {"age": 12, "school": "yes", "older_than_first": 0}]}`, "", nil},
		{"required", `{}`, "", []Problem{{Path: "n", Code: CodeRequired, Message: "Say how many people."}}},
		{"required in Spanish", `{}`, "es", []Problem{{Path: "n", Code: CodeRequired, Message: "Diga cuántas personas."}}},
		{"required by expression", `{"n": 4, "people": [{"age": 1}, {"age": 2, "older_than_first": 1}, {"age": 3, "older_than_first": 1}, {"age": 4, "older_than_first": 1}]}`, "",
			[]Problem{{Path: "code", Code: CodeRequired, Message: "This question is required."}}},
		{"default required message in Spanish", `{"n": 4, "people": [{"age": 1}, {"age": 2, "older_than_first": 1}, {"age": 3, "older_than_first": 1}, {"age": 4, "older_than_first": 1}]}`, "es",
			[]Problem{{Path: "code", Code: CodeRequired, Message: "Esta pregunta es obligatoria."}}},
		{"required in repeat", `{"n": 1, "people": [{}]}`, "", []Problem{{Path: "people[0].age", Code: CodeRequired}}},
		{"required in nested repeat", `{"n": 1, "people": [{"age": 30, "jobs": [{"pay": 3}]}]}`, "", []Problem{{Path: "people[0].jobs[0].job", Code: CodeRequired}}},
		{"type integer", `{"n": "three"}`, "", []Problem{{Path: "n", Code: CodeType}}},
		{"type integer fraction", `{"n": 2.5}`, "", []Problem{{Path: "n", Code: CodeType}}},
		{"type decimal", `{"n": 1, "people": [{"age": 30, "jobs": [{"job": "x", "pay": "lots"}]}]}`, "", []Problem{{Path: "people[0].jobs[0].pay", Code: CodeType}}},
		{"type repeat", `{"n": 1, "people": {"age": 3}}`, "", []Problem{{Path: "people", Code: CodeType}}},
		{"type date", `{"n": 0, "d": "14/03/2025"}`, "", []Problem{{Path: "d", Code: CodeType}}},
		{"type datetime", `{"n": 0, "dt": "2025-03-14"}`, "", []Problem{{Path: "dt", Code: CodeType}}},
		{"type time", `{"n": 0, "tm": "25:00"}`, "", []Problem{{Path: "tm", Code: CodeType}}},
		{"type geopoint range", `{"n": 0, "loc": {"lat": 95, "lon": 0}}`, "", []Problem{{Path: "loc", Code: CodeType}}},
		{"type geopoint string", `{"n": 0, "loc": "1 2 x"}`, "", []Problem{{Path: "loc", Code: CodeType}}},
		{"type acknowledge", `{"n": 0, "ok": 3}`, "", []Problem{{Path: "ok", Code: CodeType}}},
		{"type select_multiple", `{"n": 0, "fruits": {"a": 1}}`, "", []Problem{{Path: "fruits", Code: CodeType}}},
		{"choice select_one", `{"n": 0, "country": "mars"}`, "", []Problem{{Path: "country", Code: CodeChoice}}},
		{"choice select_multiple", `{"n": 0, "fruits": ["mango", "kiwi"]}`, "", []Problem{{Path: "fruits", Code: CodeChoice}}},
		{"choice in repeat", `{"n": 1, "people": [{"age": 10, "school": "maybe"}]}`, "", []Problem{{Path: "people[0].school", Code: CodeChoice}}},
		{"choice filter ok", `{"n": 0, "country": "gh", "city": "accra"}`, "", nil},
		{"choice filter", `{"n": 0, "country": "gh", "city": "cali"}`, "", []Problem{{Path: "city", Code: CodeChoice}}},
		{"constraint", `{"n": 11}`, "", []Problem{{Path: "n", Code: CodeConstraint, Message: "From 0 to 10 people."}, {Path: "why_many", Code: CodeRequired}, {Path: "people", Code: CodeRepeatCount}, {Path: "code", Code: CodeRequired}}},
		{"constraint in Spanish", `{"n": 11}`, "es", []Problem{{Path: "n", Code: CodeConstraint, Message: "De 0 a 10 personas."}, {Path: "why_many", Code: CodeRequired, Message: "Esta pregunta es obligatoria."}, {Path: "people", Code: CodeRepeatCount}, {Path: "code", Code: CodeRequired}}},
		{"constraint unknown language falls back to default", `{"n": 11}`, "de", []Problem{{Path: "n", Code: CodeConstraint, Message: "From 0 to 10 people."}, {Path: "why_many", Code: CodeRequired, Message: "This question is required."}, {Path: "people", Code: CodeRepeatCount}, {Path: "code", Code: CodeRequired}}},
		{"constraint default message", `{"n": 0, "d": "2025-03-15"}`, "", []Problem{{Path: "d", Code: CodeConstraint, Message: "The answer is not accepted (constraint . <= today())."}}},
		{"constraint select_multiple", `{"n": 0, "fruits": "mango papaya guava"}`, "", []Problem{{Path: "fruits", Code: CodeConstraint}}},
		{"constraint in repeat", `{"n": 1, "people": [{"age": 111}]}`, "", []Problem{{Path: "people[0].age", Code: CodeConstraint}}},
		{"constraint across levels", `{"n": 1, "people": [{"age": 12, "school": "yes", "jobs": [{"job": "x", "pay": 2000}]}]}`, "", []Problem{{Path: "people[0].jobs[0].pay", Code: CodeConstraint}}},
		{"constraint with indexed-repeat", `{"n": 2, "people": [{"age": 40}, {"age": 50, "older_than_first": 0}]}`, "", []Problem{{Path: "people[1].older_than_first", Code: CodeConstraint}}},
		{"not relevant", `{"n": 3, "why_many": "x", "people": [{"age": 1}, {"age": 1, "older_than_first": 0}, {"age": 1, "older_than_first": 0}]}`, "", []Problem{{Path: "why_many", Code: CodeNotRelevant}}},
		{"relevant and required", `{"n": 6, "people": [{"age": 1}, {"age": 1, "older_than_first": 0}, {"age": 1, "older_than_first": 0}, {"age": 1, "older_than_first": 0}, {"age": 1, "older_than_first": 0}, {"age": 1, "older_than_first": 0}], "code": "c"}`, "",
			[]Problem{{Path: "why_many", Code: CodeRequired}}},
		{"not relevant inside repeat", `{"n": 2, "people": [{"age": 30, "school": "no"}, {"age": 8, "school": "yes", "older_than_first": 0}]}`, "", []Problem{{Path: "people[0].school", Code: CodeNotRelevant}}},
		{"relevant inside repeat by position", `{"n": 1, "people": [{"age": 30, "older_than_first": 1}]}`, "", []Problem{{Path: "people[0].older_than_first", Code: CodeNotRelevant}}},
		{"not relevant repeat (group)", `{"n": 0, "people": [{"age": 3}]}`, "", []Problem{{Path: "people", Code: CodeNotRelevant}}},
		{"repeat count", `{"n": 2, "people": [{"age": 3}]}`, "", []Problem{{Path: "people", Code: CodeRepeatCount}}},
		{"repeat count too many", `{"n": 1, "people": [{"age": 3}, {"age": 4, "older_than_first": 1}]}`, "", []Problem{{Path: "people", Code: CodeRepeatCount}}},
		{"unknown field", `{"n": 0, "foo": 1}`, "", []Problem{{Path: "foo", Code: CodeUnknownField}}},
		{"unknown field in repeat", `{"n": 1, "people": [{"age": 3, "bar": true}]}`, "", []Problem{{Path: "people[0].bar", Code: CodeUnknownField}}},
		{"field at wrong level", `{"n": 0, "age": 3}`, "", []Problem{{Path: "age", Code: CodeUnknownField}}},
		{"group is transparent", `{"n": 0, "g": {}}`, "", []Problem{{Path: "g", Code: CodeUnknownField}}},
		{"note takes no answer", `{"n": 0, "nb": "text"}`, "", []Problem{{Path: "nb", Code: CodeUnknownField}}},
		{"several problems in form order", `{"n": 12, "country": "x", "zzz": 1}`, "",
			[]Problem{{Path: "n", Code: CodeConstraint}, {Path: "country", Code: CodeChoice}, {Path: "zzz", Code: CodeUnknownField}, {Path: "why_many", Code: CodeRequired}, {Path: "people", Code: CodeRepeatCount}, {Path: "code", Code: CodeRequired}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, got := f.Validate(answers(t, c.answers), ValidateOptions{Lang: c.lang, Now: testNow})
			if len(got) != len(c.want) {
				t.Fatalf("got %d problems %v, want %v", len(got), got, c.want)
			}
			for i, w := range c.want {
				g := got[i]
				if g.Path != w.Path || g.Code != w.Code || (w.Message != "" && g.Message != w.Message) {
					t.Errorf("problem %d: got %+v, want %+v", i, g, w)
				}
				if g.Message == "" {
					t.Errorf("problem %d has no message", i)
				}
			}
		})
	}
}

func TestValidateNormalizes(t *testing.T) {
	f := testForm(t)
	in := answers(t, `{"n": "2", "people": [{"age": 40, "is_kid": 99, "jobs": [{"job": "a", "pay": 10.5}, {"job": "b", "pay": 20}]},
		{"age": 12, "school": "yes", "older_than_first": 0, "jobs": [{"job": "c", "pay": 1}]}],
		"fruits": "mango papaya", "loc": "4.6 -74.1 2600 5", "ok": true, "country": "co", "city": "bogota",
		"d": "2025-03-14", "dt": "2025-03-14T09:00:00+02:00", "tm": "09:30"}`)
	out, probs := f.Validate(in, ValidateOptions{Now: testNow})
	if probs != nil {
		t.Fatalf("problems %v", probs)
	}
	checks := map[string]any{
		"n": int64(2), "n_people": int64(2), "total_age": int64(52), "kids": int64(1), "oldest": int64(40),
		"n_jobs": int64(3), "total_pay": 31.5, "mean_age": int64(26), "fruits": []string{"mango", "papaya"},
		"loc": map[string]any{"lat": 4.6, "lon": -74.1, "alt": 2600.0, "accuracy": 5.0}, "ok": "OK",
	}
	for k, want := range checks {
		if !reflect.DeepEqual(out[k], want) {
			t.Errorf("%s = %#v (%T), want %#v", k, out[k], out[k], want)
		}
	}
	people := out["people"].([]any)
	if got := people[0].(map[string]any)["is_kid"]; got != int64(0) {
		t.Errorf("is_kid recomputed = %#v, want 0 (client sent 99)", got)
	}
	if got := people[1].(map[string]any)["is_kid"]; got != int64(1) {
		t.Errorf("people[1].is_kid = %#v", got)
	}
	// geopoint as an object, select_multiple as an array: same result
	out2, probs := f.Validate(answers(t, `{"n": 0, "loc": {"lat": 4.6, "lon": -74.1, "alt": 2600, "accuracy": 5}, "fruits": ["mango", "papaya"]}`), ValidateOptions{Now: testNow})
	if probs != nil || !reflect.DeepEqual(out2["loc"], checks["loc"]) || !reflect.DeepEqual(out2["fruits"], checks["fruits"]) {
		t.Errorf("object geopoint / array select: %v %v %v", out2["loc"], out2["fruits"], probs)
	}
	// not-relevant answers are dropped from the normalized answers
	out3, _ := f.Validate(answers(t, `{"n": 1, "why_many": "x", "people": [{"age": 30}]}`), ValidateOptions{Now: testNow})
	if _, ok := out3["why_many"]; ok {
		t.Errorf("non-relevant answer kept")
	}
}

func TestFields(t *testing.T) {
	f := Household()
	byName := map[string]Field{}
	for _, fd := range f.Fields() {
		if _, dup := byName[fd.Name]; dup {
			t.Errorf("field %s listed twice", fd.Name)
		}
		byName[fd.Name] = fd
	}
	want := []struct {
		name, typ, repeat, sens string
	}{
		{"respondent_name", "text", "", "direct"}, {"phone", "text", "", "direct"}, {"gps", "geopoint", "", "direct"},
		{"member_name", "text", "members", "direct"}, {"region", "select_one", "", "quasi"},
		{"age", "integer", "members", "quasi"}, {"sex", "select_one", "members", "quasi"},
		{"hh_size", "calculate", "", "quasi"}, {"dest_country", "select_one", "migrants", "quasi"},
		{"mig_occupation", "select_one", "migrants", "quasi"}, {"legal_status", "select_one", "migrants", "sensitive"},
		{"ret_year_back", "integer", "returnees", ""}, {"remit_amount", "decimal", "", "sensitive"},
		{"remit_uses", "select_multiple", "", ""}, {"urban", "select_one", "", "quasi"},
		{"decision_spending", "select_one", "", ""}, {"food_exp", "decimal", "", ""},
		{"women_decide", "calculate", "", ""}, {"migrant", "calculate", "", ""}, {"cons_pc", "calculate", "", ""},
	}
	for _, w := range want {
		fd, ok := byName[w.name]
		if !ok {
			t.Errorf("household form lacks %s", w.name)
			continue
		}
		if fd.Type != w.typ || fd.Repeat != w.repeat || fd.Sensitivity != w.sens {
			t.Errorf("%s: type %s repeat %q sensitivity %q, want %s %q %q", w.name, fd.Type, fd.Repeat, fd.Sensitivity, w.typ, w.repeat, w.sens)
		}
	}
	for _, name := range []string{"consent", "has_migrants", "has_returnees", "remit_received", "bank_account", "savings", "credit", "mobile_money", "health_insurance", "enrolled", "mig_remits"} {
		fd := byName[name]
		if fd.ListName != "yes_no" || len(fd.Choices) != 2 || fd.Choices[0].Name != "yes" || fd.Choices[1].Name != "no" {
			t.Errorf("%s is not a yes_no question: %+v", name, fd)
		}
	}
	for _, name := range []string{"remit_channel", "move_type", "decision_education", "decision_health", "health_status", "health_access", "remit_currency", "remit_frequency", "education", "activity", "relationship", "mig_relationship", "mig_sex", "mig_age_left", "mig_year_left", "mig_reason", "ret_sex", "ret_age", "ret_country", "ret_reason", "housing_exp", "educ_exp", "health_exp", "head_sex", "head_age", "head_female", "children_6_17", "children_enrolled", "n_migrants", "interview_date", "household_id"} {
		if _, ok := byName[name]; !ok {
			t.Errorf("household form lacks %s", name)
		}
	}
	if fd := byName["move_type"]; len(fd.Choices) != 4 || fd.Choices[3].Name != "circular" {
		t.Errorf("move_type choices %+v", fd.Choices)
	}
	if fd := byName["remit_channel"]; fmt.Sprint(choiceNames(fd)) != "[bank mto mobile_money informal]" {
		t.Errorf("remit_channel choices %v", choiceNames(fd))
	}
	if fd := byName["decision_spending"]; fmt.Sprint(choiceNames(fd)) != "[head_male head_female joint other_woman other_man]" {
		t.Errorf("decision choices %v", choiceNames(fd))
	}
	if fd := byName["age"]; fd.Labels["en"] == "" || fd.Labels["es"] == "" || !fd.Required {
		t.Errorf("age %+v", fd)
	}
	if got := strings.Join(f.Repeats(), ","); got != "members,migrants,returnees" {
		t.Errorf("repeats %s", got)
	}
	if f.ID != "dotm_household" || f.Version == "" || fmt.Sprint(f.Languages) != "[en es]" || f.DefaultLanguage != "en" {
		t.Errorf("settings %s %s %v %s", f.ID, f.Version, f.Languages, f.DefaultLanguage)
	}
}

func choiceNames(fd Field) []string {
	var out []string
	for _, c := range fd.Choices {
		out = append(out, c.Name)
	}
	return out
}

func loadExample(t *testing.T) Submission {
	t.Helper()
	data, err := os.ReadFile("testdata/household_valid.json")
	if err != nil {
		t.Fatal(err)
	}
	var s Submission
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestHouseholdValid(t *testing.T) {
	s := loadExample(t)
	f := Household()
	if s.FormID != f.ID || s.FormVersion != f.Version {
		t.Fatalf("example names form %s %s, household is %s %s", s.FormID, s.FormVersion, f.ID, f.Version)
	}
	out, probs := f.Validate(s.Answers, ValidateOptions{Now: s.EndedAt})
	if probs != nil {
		t.Fatalf("valid household rejected: %v", probs)
	}
	want := map[string]any{
		"hh_size": int64(4), "head_sex": "male", "head_age": int64(47), "head_female": int64(0),
		"children_6_17": int64(2), "children_enrolled": int64(1), "n_migrants": int64(2),
		"total_exp": int64(1100000), "cons_pc": int64(275000), "women_decide": int64(1), "migrant": "current_migrant",
	}
	for k, w := range want {
		if !reflect.DeepEqual(out[k], w) {
			t.Errorf("%s = %#v, want %#v", k, out[k], w)
		}
	}
	if got := len(out["members"].([]any)) + len(out["migrants"].([]any)) + len(out["returnees"].([]any)); got != 7 {
		t.Errorf("repeat entries %d", got)
	}
	// Spanish changes nothing for a valid household
	if _, probs := f.Validate(s.Answers, ValidateOptions{Lang: "es", Now: s.EndedAt}); probs != nil {
		t.Errorf("es: %v", probs)
	}
	if ex := HouseholdExample(); !reflect.DeepEqual(ex, s) {
		t.Errorf("HouseholdExample differs from testdata/household_valid.json")
	}
}

func TestHouseholdInvalid(t *testing.T) {
	f := Household()
	cases := []struct {
		name   string
		change func(a map[string]any)
		lang   string
		path   string
		code   string
		msg    string
	}{
		{"age above 110", func(a map[string]any) { member(a, 1)["age"] = 111 }, "", "members[1].age", CodeConstraint, "Age must be between 0 and 110 years."},
		{"age above 110 in Spanish", func(a map[string]any) { member(a, 1)["age"] = 111 }, "es", "members[1].age", CodeConstraint, "La edad debe estar entre 0 y 110 años."},
		{"negative age", func(a map[string]any) { member(a, 0)["age"] = -1 }, "", "members[0].age", CodeConstraint, ""},
		{"year left after interview", func(a map[string]any) { migrant(a, 1)["mig_year_left"] = 2026 }, "", "migrants[1].mig_year_left", CodeConstraint, "The year left cannot be after the year of the interview."},
		{"year back after interview, Spanish", func(a map[string]any) { repeatAt(a, "returnees", 0)["ret_year_back"] = 2030 }, "es", "returnees[0].ret_year_back", CodeConstraint, "El año del regreso no puede ser posterior al año de la entrevista."},
		{"migrants without migrants", func(a map[string]any) { a["has_migrants"] = "no"; delete(a, "n_migrants_reported") }, "", "migrants", CodeNotRelevant, ""},
		{"migrant count mismatch", func(a map[string]any) { a["n_migrants_reported"] = 3 }, "", "migrants", CodeRepeatCount, ""},
		{"roster count mismatch", func(a map[string]any) { a["n_members"] = 5 }, "", "members", CodeRepeatCount, ""},
		{"head not first", func(a map[string]any) { member(a, 1)["relationship"] = "head" }, "", "members[1].relationship", CodeConstraint, "List the household head first, and only once."},
		{"enrolled asked of an adult", func(a map[string]any) { member(a, 0)["enrolled"] = "no" }, "", "members[0].enrolled", CodeNotRelevant, ""},
		{"enrolled missing for a child", func(a map[string]any) { delete(member(a, 3), "enrolled") }, "", "members[3].enrolled", CodeRequired, "This question is required."},
		{"legal status missing", func(a map[string]any) { delete(migrant(a, 0), "legal_status") }, "", "migrants[0].legal_status", CodeRequired, ""},
		{"bad destination", func(a map[string]any) { migrant(a, 0)["dest_country"] = "atlantis" }, "", "migrants[0].dest_country", CodeChoice, ""},
		{"other country not named", func(a map[string]any) { delete(migrant(a, 1), "dest_country_other") }, "", "migrants[1].dest_country_other", CodeRequired, ""},
		{"bad move type", func(a map[string]any) { migrant(a, 0)["move_type"] = "forever" }, "", "migrants[0].move_type", CodeChoice, ""},
		{"remittance amount as text", func(a map[string]any) { a["remit_amount"] = "a lot" }, "", "remit_amount", CodeType, ""},
		{"remittance amount without remittances", func(a map[string]any) {
			a["remit_received"] = "no"
			for _, k := range []string{"remit_currency", "remit_channel", "remit_frequency", "remit_uses", "remit_school"} {
				delete(a, k)
			}
		}, "", "remit_amount", CodeNotRelevant, ""},
		{"don't know with other uses", func(a map[string]any) { a["remit_uses"] = []any{"food", "dont_know"} }, "", "remit_uses", CodeConstraint, "\"Don't know\" cannot be combined with other uses."},
		{"unknown answer", func(a map[string]any) { a["income"] = 5 }, "", "income", CodeUnknownField, ""},
		{"unknown answer in roster", func(a map[string]any) { member(a, 2)["shoe_size"] = 38 }, "", "members[2].shoe_size", CodeUnknownField, ""},
		{"consent missing", func(a map[string]any) { delete(a, "consent") }, "", "consent", CodeRequired, ""},
		{"decision does not match head", func(a map[string]any) { a["decision_health"] = "head_female" }, "", "decision_health", CodeConstraint, "This does not match the sex of the household head in the roster."},
		{"more workers than members", func(a map[string]any) { a["n_working"] = 5 }, "", "n_working", CodeConstraint, ""},
		{"interview in the future", func(a map[string]any) { a["interview_date"] = "2025-03-15" }, "", "interview_date", CodeConstraint, ""},
		{"gps as a number", func(a map[string]any) { a["gps"] = 4.7 }, "", "gps", CodeType, ""},
		{"gps inaccurate", func(a map[string]any) { a["gps"] = "4.7 -74.07 2580 250" }, "", "gps", CodeConstraint, ""},
		{"returnees exceed members", func(a map[string]any) {
			a["n_returnees"] = 5
		}, "", "n_returnees", CodeConstraint, ""},
		{"phone with letters", func(a map[string]any) { a["phone"] = "call me" }, "", "phone", CodeConstraint, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := loadExample(t)
			c.change(s.Answers)
			_, probs := f.Validate(s.Answers, ValidateOptions{Lang: c.lang, Now: s.EndedAt})
			found := false
			for _, p := range probs {
				if p.Path == c.path && p.Code == c.code && (c.msg == "" || p.Message == c.msg) {
					found = true
				}
			}
			if !found {
				t.Errorf("want %s %s %q, got %v", c.path, c.code, c.msg, probs)
			}
		})
	}
	// A household that refused consent: only the cover is answered.
	refused := answers(t, `{"household_id": "X-1", "interview_date": "2025-03-14", "region": "south", "urban": "yes",
		"respondent_name": "R", "consent": "no"}`)
	if _, probs := f.Validate(refused, ValidateOptions{Now: testNow}); probs != nil {
		t.Errorf("refused consent: %v", probs)
	}
	// A non-migrant household has no migrant module.
	s := loadExample(t)
	a := s.Answers
	a["has_migrants"], a["has_returnees"] = "no", "no"
	for _, k := range []string{"n_migrants_reported", "migrants", "n_returnees", "returnees"} {
		delete(a, k)
	}
	out, probs := f.Validate(a, ValidateOptions{Now: s.EndedAt})
	if probs != nil || out["migrant"] != "non_migrant" || out["n_migrants"] != int64(0) {
		t.Errorf("non-migrant household: %v %v %v", probs, out["migrant"], out["n_migrants"])
	}
}

func repeatAt(a map[string]any, name string, i int) map[string]any {
	return a[name].([]any)[i].(map[string]any)
}
func member(a map[string]any, i int) map[string]any  { return repeatAt(a, "members", i) }
func migrant(a map[string]any, i int) map[string]any { return repeatAt(a, "migrants", i) }

func TestUncompiledForm(t *testing.T) {
	f := &Form{Survey: []Question{{Type: "text", Name: "a"}}}
	if _, probs := f.Validate(map[string]any{}, ValidateOptions{}); len(probs) != 1 {
		t.Errorf("uncompiled form validated: %v", probs)
	}
	if err := f.Compile(); err != nil {
		t.Fatal(err)
	}
	if _, probs := f.Validate(map[string]any{"a": "x"}, ValidateOptions{}); probs != nil {
		t.Errorf("%v", probs)
	}
}

// TestValidatorMessagesInLanguage: the validator's own messages about a
// question (repeat count, relevance, choice filter) come in the language
// asked for when it has them, and in English otherwise.
func TestValidatorMessagesInLanguage(t *testing.T) {
	f, err := Decode([]byte(`
settings: {form_id: msgs, version: "1", default_language: en}
languages: [{code: en, name: English}, {code: es, name: Español}, {code: fr, name: Français}, {code: de, name: Deutsch}]
choices:
  - {list_name: regions, name: north, label: {en: North, es: Norte}}
  - {list_name: districts, name: d1, label: {en: D1, es: D1}, region: north}
  - {list_name: districts, name: d2, label: {en: D2, es: D2}, region: south}
survey:
  - {type: integer, name: n, label: {en: Members, es: Miembros}}
  - {type: begin repeat, name: members, label: {en: Members, es: Miembros}, repeat_count: "${n}"}
  - {type: integer, name: age, label: {en: Age, es: Edad}}
  - {type: end repeat}
  - {type: select_one regions, name: region, label: {en: Region, es: Región}}
  - {type: select_one districts, name: district, label: {en: District, es: Distrito}, choice_filter: "region = ${region}"}
  - {type: integer, name: kids, label: {en: Children, es: Niños}, relevant: "${n} > 5"}
`), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	answers := func() map[string]any {
		return map[string]any{"n": 1, "members": []any{map[string]any{"age": 30}, map[string]any{"age": 4}}, "region": "north", "district": "d2", "kids": 2}
	}
	want := map[string][]string{
		"es": {"members tiene 2 entradas; el formulario espera 1 (${n})", `district: "d2" no se ofrece aquí (choice_filter region = ${region})`, "kids no corresponde aquí y debe quedar vacía"},
		"en": {"members has 2 entries; the form expects 1 (${n})", `district: "d2" is not offered here (choice_filter region = ${region})`, "kids is not relevant here and must be left empty"},
		"de": {"members has 2 entries; the form expects 1 (${n})", `district: "d2" is not offered here (choice_filter region = ${region})`, "kids is not relevant here and must be left empty"},
	}
	for lang, msgs := range want {
		_, probs := f.Validate(answers(), ValidateOptions{Lang: lang})
		var got []string
		for _, p := range probs {
			got = append(got, p.Message)
		}
		slices.Sort(got)
		slices.Sort(msgs)
		if !slices.Equal(got, msgs) {
			t.Errorf("%s:\n got %q\nwant %q", lang, got, msgs)
		}
	}
	// One entry is singular.
	for lang, want := range map[string]string{"en": "members has 1 entry; the form expects 2 (${n})", "es": "members tiene 1 entrada; el formulario espera 2 (${n})", "fr": "members a 1 entrée ; le formulaire en attend 2 (${n})"} {
		_, probs := f.Validate(map[string]any{"n": 2, "members": []any{map[string]any{"age": 30}}}, ValidateOptions{Lang: lang})
		if len(probs) != 1 || probs[0].Message != want {
			t.Errorf("%s: %+v, want %q", lang, probs, want)
		}
	}
}
