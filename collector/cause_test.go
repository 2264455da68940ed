package collector_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestRootCauseFirst posts the example household with consent "maybe": the
// 422 lists the consent problem first, with the allowed values but not the
// value sent, and every other problem names consent as its cause; with a
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
		first.Message != "consent: a value is not one of: yes, no" {
		t.Errorf("first problem %+v, want consent's choice problem with the allowed values", first)
	}
	for _, x := range p.Problems[1:] {
		if x.Cause != "consent" {
			t.Errorf("%s %s: cause %q, want consent", x.Path, x.Code, x.Cause)
		}
	}
	if body, _ := json.Marshal(p); strings.Contains(string(body), "maybe") {
		t.Errorf("the value sent is echoed: %s", body)
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
