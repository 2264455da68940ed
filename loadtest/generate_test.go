package loadtest

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/dotm-survey/dotm/questionnaire"
)

func TestEmbeddedSubmissionIsTheQuestionnaireFixture(t *testing.T) {
	want, err := os.ReadFile("../questionnaire/testdata/household_valid.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, householdJSON) {
		t.Fatal("loadtest/household.json differs from questionnaire/testdata/household_valid.json: copy it again")
	}
	f := questionnaire.Household()
	if FormID() != f.ID || FormVersion() != f.Version {
		t.Fatalf("template answers %s %s, built-in form is %s %s", FormID(), FormVersion(), f.ID, f.Version)
	}
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestGeneratedSubmissionsAreValidAndDistinct(t *testing.T) {
	f := questionnaire.Household()
	seen := map[string]bool{}
	households := map[string]bool{}
	names := map[any]bool{}
	for e := 0; e < 4; e++ {
		g := NewGenerator(7, e)
		for i := 0; i < 50; i++ {
			env := g.Next()
			if !uuidV4.MatchString(env.InstanceID) {
				t.Fatalf("instance id %q is not a version 4 UUID", env.InstanceID)
			}
			if seen[env.InstanceID] {
				t.Fatalf("instance id %s repeated", env.InstanceID)
			}
			seen[env.InstanceID] = true
			hh := env.Answers["household_id"].(string)
			if households[hh] {
				t.Fatalf("household id %s repeated", hh)
			}
			households[hh] = true
			names[env.Answers["respondent_name"]] = true
			ended, err := time.Parse(time.RFC3339, env.EndedAt)
			if err != nil {
				t.Fatal(err)
			}
			// The server validates the JSON it receives: do the same.
			b, _ := json.Marshal(env.Answers)
			var answers map[string]any
			json.Unmarshal(b, &answers)
			if _, probs := f.Validate(answers, questionnaire.ValidateOptions{Now: ended}); len(probs) > 0 {
				t.Fatalf("enumerator %d submission %d invalid: %+v", e, i, probs)
			}
		}
	}
	if len(names) < 10 {
		t.Errorf("only %d distinct respondent names in 200 submissions", len(names))
	}
	// The same seed and enumerator give the same sequence.
	a, b := NewGenerator(3, 1).Next(), NewGenerator(3, 1).Next()
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		t.Error("generator is not reproducible")
	}
}
