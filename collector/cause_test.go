package collector_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestRootCauseFirst posts the example household with consent "maybe": the
// 422 lists the consent problem first, with the value sent (a choice code)
// and the allowed values, its question's label, and a detail that counts
// the problems following from it; every other problem names consent as its
// cause and has a label without answer values (no member's name); with a
// second, independent mistake there are two roots.
func TestRootCauseFirst(t *testing.T) {
	t.Parallel()
	a, ex := householdEnv(t, 1)
	post := func(change func(ans map[string]any)) problemDoc {
		t.Helper()
		var env map[string]any
		if err := json.Unmarshal(householdEnvelope(ex, 1), &env); err != nil {
			t.Fatal(err)
		}
		change(env["answers"].(map[string]any))
		return decode[problemDoc](t, a.mustDo("e0", http.MethodPost, "/api/v1/submissions", env, 422))
	}
	p := post(func(ans map[string]any) { ans["consent"] = "maybe" })
	if len(p.Problems) < 30 {
		t.Fatalf("%d problems: %+v", len(p.Problems), p.Problems)
	}
	if first := p.Problems[0]; first.Path != "consent" || first.Code != "choice" || first.Cause != "" ||
		first.Message != `consent: "maybe" is not one of: yes, no` || !strings.HasPrefix(first.Label, "I will ask about your household") {
		t.Errorf("first problem %+v, want consent's choice problem with the value given and the allowed values", first)
	}
	if want := "the answers do not pass the form's checks: 1 problem to fix (" + strconv.Itoa(len(p.Problems)-1) + " problems follow from it)"; p.Detail != want {
		t.Errorf("detail %q, want %q", p.Detail, want)
	}
	for _, x := range p.Problems[1:] {
		if x.Cause != "consent" {
			t.Errorf("%s %s: cause %q, want consent", x.Path, x.Code, x.Cause)
		}
		if x.Label == "" || x.Label == x.Path {
			t.Errorf("%s: label %q, want the question's label", x.Path, x.Label)
		}
	}
	ans := map[string]any{}
	if err := json.Unmarshal(householdEnvelope(ex, 1), &struct {
		Answers *map[string]any `json:"answers"`
	}{&ans}); err != nil {
		t.Fatal(err)
	}
	name := ans["members"].([]any)[0].(map[string]any)["member_name"].(string)
	if body, _ := json.Marshal(p); strings.Contains(string(body), name) || strings.Contains(string(body), ans["respondent_name"].(string)) {
		t.Errorf("a direct identifier is echoed: %s", body)
	}

	// a roster member's problem is named by the entry, never by the name given
	p = post(func(ans map[string]any) { ans["members"].([]any)[1].(map[string]any)["sex"] = "Unknown Person" })
	if len(p.Problems) != 1 || p.Problems[0].Label != "Household member 2 › Sex of household member 2" ||
		p.Problems[0].Message != "sex: a value is not one of: male, female" {
		t.Errorf("a member's sex: %+v", p.Problems)
	}

	p = post(func(ans map[string]any) {
		ans["has_migrants"] = "perhaps"
		ans["remit_received"] = "sometimes"
	})
	var roots []string
	for i, x := range p.Problems {
		if x.Cause == "" {
			if i != len(roots) {
				t.Errorf("root %s listed after a consequence: %+v", x.Path, p.Problems)
			}
			roots = append(roots, x.Path)
		} else if x.Cause != "has_migrants" && x.Cause != "remit_received" {
			t.Errorf("%s: cause %q", x.Path, x.Cause)
		}
	}
	if strings.Join(roots, " ") != "has_migrants remit_received" || len(p.Problems) < 4 {
		t.Errorf("roots %v in %+v, want has_migrants and remit_received", roots, p.Problems)
	}
}
