package collector

import "testing"

func TestRedactAnswerValues(t *testing.T) {
	isChoice := func(s string) bool { return s == "Zq7" || s == "north" }
	for _, tc := range []struct{ code, in, want string }{
		{"choice", `region: "Secret \"x\" Place" is not a choice of list regions`, `region: a value is not a choice of list regions`},
		{"type", `n_members: expected an integer, got the string "Ana Morales"`, `n_members: expected an integer, got the string a value`},
		{"type", `food_exp: expected a string, got the number -2.5e+06`, `food_exp: expected a string, got a number`},
		{"type", `x: expected "OK" or true, got the boolean false`, `x: expected a value or true, got a boolean`},
		{"type", `consent: expected a string, got the string "maybe"`, `consent: expected a string, got the string a value`},
		// a choice problem says the value given when it is a code, not free text or an identifier
		{"choice", `consent: "maybe" is not one of: yes, no`, `consent: "maybe" is not one of: yes, no`},
		{"choice", `relationship: "13" is not one of: 1, 2, 3`, `relationship: "13" is not one of: 1, 2, 3`},
		{"choice", `region: "Ana Morales" is not one of: north, south`, `region: a value is not one of: north, south`},
		{"choice", `region: "Rosa" is not one of: north, south`, `region: a value is not one of: north, south`},
		{"choice", `phone_kind: "0991234567" is not one of: mobile, landline`, `phone_kind: a value is not one of: mobile, landline`},
		{"choice", `uses: "x", "Ana \"M\"" are not among: food, school, …`, `uses: "x", a value are not among: food, school, …`},
		{"choice", `uses: "Ana", "Juan" are not among: food, school, …`, `uses: some values are not among: food, school, …`},
		// a choice name of the form's own lists is not confidential
		{"choice", `district: "Zq7" is not offered here (choice_filter region = ${region})`, `district: "Zq7" is not offered here (choice_filter region = ${region})`},
		{"choice", `district: "Zq8" is not offered here (choice_filter region = ${region})`, `district: a value is not offered here (choice_filter region = ${region})`},
		{"constraint", `Enter "yes" only when the household has members abroad.`, `Enter "yes" only when the household has members abroad.`},
		{"required", `respondent_name is required`, `respondent_name is required`},
	} {
		if got := redactAnswerValues(tc.code, tc.in, isChoice); got != tc.want {
			t.Errorf("redactAnswerValues(%s, %q) = %q, want %q", tc.code, tc.in, got, tc.want)
		}
	}
}
