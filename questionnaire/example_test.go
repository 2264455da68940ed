package questionnaire_test

import (
	"fmt"
	"time"

	"github.com/dotm-survey/dotm/questionnaire"
)

func ExampleForm_Validate() {
	form, err := questionnaire.Decode([]byte(`
settings: {form_id: demo, version: "1", default_language: en}
languages: [{code: en, name: English}, {code: es, name: Español}]
survey:
  - {type: integer, name: n_members, required: "yes"}
  - {type: begin repeat, name: members, repeat_count: "${n_members}"}
  - type: integer
    name: age
    constraint: ". >= 0 and . <= 110"
    constraint_message: {en: "Age must be 0 to 110.", es: "La edad debe ser de 0 a 110."}
  - {type: end repeat}
  - {type: calculate, name: total_age, calculation: "sum(${age})"}
`), "yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	answers := map[string]any{
		"n_members": 2.0,
		"members":   []any{map[string]any{"age": 34.0}, map[string]any{"age": 130.0}},
	}
	out, problems := form.Validate(answers, questionnaire.ValidateOptions{Lang: "es", Now: time.Now()})
	fmt.Println(out["total_age"])
	for _, p := range problems {
		fmt.Println(p.Path, p.Code, p.Message)
	}
	// Output:
	// 164
	// members[1].age constraint La edad debe ser de 0 a 110.
}
