package questionnaire

import "testing"

func TestDescribe(t *testing.T) {
	f := Household()
	answers := map[string]any{
		"consent": "yes",
		"members": []any{
			map[string]any{"member_name": "Rosa", "sex": "female", "age": 44.0},
			map[string]any{"age": 7.0},
		},
		"migrants": []any{map[string]any{"mig_sex": "male"}},
	}
	for _, c := range []struct {
		path, lang string
		values     bool
		want       string
	}{
		{"consent", "en", true, "I will ask about your household, its members abroad and its finances. Answers are confidential. Do you agree to take part?"},
		{"region", "es", false, "Región"},
		{"members[0].sex", "en", true, "Household member 1 (Rosa) › Sex of Rosa"},
		{"members[0].sex", "en", false, "Household member 1 › Sex of household member 1"},
		// no name yet: the label still reads as a sentence
		{"members[1].sex", "en", true, "Household member 2 › Sex of household member 2"},
		{"members[1].enrolled", "es", true, "Miembro del hogar 2 › ¿miembro del hogar 2 está matriculado(a) en la escuela este año?"},
		{"members[0].age", "en", true, "Household member 1 (Rosa) › Age in completed years"},
		{"members", "en", true, "Household member"},
		{"members[4].age", "en", true, "Household member 5 › Age in completed years"},
		{"migrants[0].mig_year_left", "en", true, "Member abroad 1 › Year they left"},
		{"no_such_question", "en", true, "no_such_question"},
		{"members[x].age", "en", true, "members[x].age"},
	} {
		if got := f.Describe(c.path, answers, c.lang, c.values); got != c.want {
			t.Errorf("Describe(%q, %s, values %v) = %q, want %q", c.path, c.lang, c.values, got, c.want)
		}
	}
}

func TestTitleIn(t *testing.T) {
	f := Household()
	if got := f.TitleIn("es"); got == f.Title || got == "" {
		t.Errorf("Spanish title %q, want a translation of %q", got, f.Title)
	}
	if got := f.TitleIn("en"); got != f.Title {
		t.Errorf("English title %q, want %q", got, f.Title)
	}
	if got := f.TitleIn("fr"); got != f.Title {
		t.Errorf("a language without a title gives %q, want the form_title %q", got, f.Title)
	}
}

func TestStateLabels(t *testing.T) {
	f := Household()
	st := f.State(map[string]any{"consent": "yes", "members": []any{map[string]any{"member_name": "Rosa", "age": 200.0}}}, ValidateOptions{Lang: "en"})
	if got := st.Labels["members[0].age"]; got != "Household member 1 (Rosa) › Age in completed years" {
		t.Errorf("label of members[0].age: %q (problems %v)", got, st.Problems)
	}
	for _, p := range st.Problems {
		if st.Labels[p.Path] == "" {
			t.Errorf("problem %s has no label", p.Path)
		}
	}
}
