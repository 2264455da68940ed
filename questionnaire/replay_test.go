package questionnaire

import (
	"encoding/json"
	"math/rand"
	"reflect"
	"sort"
	"testing"
	"time"
)

// TestReplayMatchesFullPasses checks that Validate gives the same answers
// and problems as the three passes evaluated in full (no reuse of the
// relevance pass's results by the check pass), on the household example
// and on copies of it with answers changed at random.
func TestReplayMatchesFullPasses(t *testing.T) {
	form := Household()
	fields := form.Fields()
	r := rand.New(rand.NewSource(1))
	now := time.Date(2025, 3, 14, 10, 5, 47, 0, time.UTC)
	values := []any{nil, "", 0, 3, 17, 120, 2.5, "yes", "no", "other", "x", true, "2025-03-01", json.Number("4")}
	for i := 0; i < 400; i++ {
		a, b := HouseholdExample().Answers, HouseholdExample().Answers
		if i > 0 {
			seed := r.Int63()
			mutateAnswers(rand.New(rand.NewSource(seed)), a, fields, values, 1+i%30)
			mutateAnswers(rand.New(rand.NewSource(seed)), b, fields, values, 1+i%30)
		}
		opts := ValidateOptions{Now: now, Lang: []string{"", "es"}[i%2]}
		gotA, gotP := form.validate(a, opts, true)
		wantA, wantP := form.validate(b, opts, false)
		if !reflect.DeepEqual(gotA, wantA) || !reflect.DeepEqual(gotP, wantP) {
			t.Fatalf("submission %d:\n got %v\n%v\nwant %v\n%v", i, gotA, gotP, wantA, wantP)
		}
	}
}

// mutateAnswers changes about one answer in rate (top level, or in a
// random instance of the answer's repeat) to one of values or one of its
// choices.
func mutateAnswers(r *rand.Rand, ans map[string]any, fields []Field, values []any, rate int) {
	for _, fd := range fields {
		if r.Intn(rate) != 0 {
			continue
		}
		target := ans
		for _, rep := range fd.Repeats {
			list, _ := target[rep].([]any)
			if len(list) == 0 {
				target = nil
				break
			}
			target, _ = list[r.Intn(len(list))].(map[string]any)
			if target == nil {
				break
			}
		}
		if target == nil {
			continue
		}
		if len(fd.Choices) > 0 && r.Intn(2) == 0 {
			target[fd.Name] = fd.Choices[r.Intn(len(fd.Choices))].Name
			continue
		}
		target[fd.Name] = values[r.Intn(len(values))]
	}
	if r.Intn(rate) == 0 {
		keys := make([]string, 0, len(ans))
		for k := range ans {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if list, ok := ans[k].([]any); ok && len(list) > 0 {
				ans[k] = append(list, list[0]) // an entry too many
			}
		}
	}
}
