package collector

import "testing"

func TestRedactAnswerValues(t *testing.T) {
	for _, tc := range []struct{ code, in, want string }{
		{"choice", `region: "Secret \"x\" Place" is not a choice of list regions`, `region: a value is not a choice of list regions`},
		{"type", `n_members: expected an integer, got the string "Ana Morales"`, `n_members: expected an integer, got the string a value`},
		{"type", `food_exp: expected a string, got the number -2.5e+06`, `food_exp: expected a string, got a number`},
		{"type", `x: expected "OK" or true, got the boolean false`, `x: expected a value or true, got a boolean`},
		{"choice", `consent: "maybe" is not one of: yes, no`, `consent: a value is not one of: yes, no`},
		{"choice", `uses: "x", "Ana \"M\"" are not among: food, school, …`, `uses: some values are not among: food, school, …`},
		{"choice", `district: "Zq7" is not offered here (choice_filter region = ${region})`, `district: a value is not offered here (choice_filter region = ${region})`},
		{"constraint", `Enter "yes" only when the household has members abroad.`, `Enter "yes" only when the household has members abroad.`},
		{"required", `respondent_name is required`, `respondent_name is required`},
	} {
		if got := redactAnswerValues(tc.code, tc.in); got != tc.want {
			t.Errorf("redactAnswerValues(%s, %q) = %q, want %q", tc.code, tc.in, got, tc.want)
		}
	}
}
