package mongodb

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/dotm-survey/dotm/questionnaire"
)

// TestAppendAnswerDoc: the fast encoder of answers gives documents that
// read back exactly as the driver's encoding of the same answers does, and
// hands anything it does not know to the driver.
func TestAppendAnswerDoc(t *testing.T) {
	ex := questionnaire.HouseholdExample()
	household, probs := questionnaire.Household().Validate(ex.Answers, questionnaire.ValidateOptions{Now: ex.EndedAt})
	if probs != nil {
		t.Fatal(probs)
	}
	cases := map[string]map[string]any{
		"household": household,
		"every type": {
			"s": "text ñ", "i": int64(-7), "n": 3, "f": 2.5, "b": true, "z": nil,
			"t":  time.Date(2026, 3, 1, 9, 30, 0, 123e6, time.UTC),
			"ss": []string{"a", "b"}, "empty": []any{}, "nested": []any{map[string]any{"x": []any{int64(1), "two", nil}}},
			"geo": map[string]any{"lat": 5.6, "lon": -0.2}, "none": map[string]any{},
		},
		"empty": {},
	}
	for name, answers := range cases {
		fast, ok := appendAnswerDoc(nil, answers)
		if !ok {
			t.Fatalf("%s: not encoded", name)
		}
		if err := bson.Raw(fast).Validate(); err != nil {
			t.Fatalf("%s: invalid BSON: %v", name, err)
		}
		slow, err := bson.Marshal(answers)
		if err != nil {
			t.Fatal(err)
		}
		got, err := plainDoc(fast)
		if err != nil {
			t.Fatal(err)
		}
		want, err := plainDoc(slow)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n fast %#v\n slow %#v", name, got, want)
		}
	}
	for name, answers := range map[string]map[string]any{
		"json.Number":  {"n": json.Number("12")},
		"NUL in a key": {"members": []any{map[string]any{"a\x00b": "x"}}},
		"a struct":     {"v": struct{ A int }{1}},
	} {
		if _, ok := appendAnswerDoc(nil, answers); ok {
			t.Errorf("%s: encoded by the fast path", name)
		}
	}
}
