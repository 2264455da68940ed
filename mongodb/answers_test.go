package mongodb

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/dotm-survey/dotm"
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

// TestSubmissionDocMarshal: the hand-written encoding of a stored submission
// is byte for byte the driver's encoding of the same struct.
func TestSubmissionDocMarshal(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 30, 0, 123456789, time.UTC)
	full := dotm.Submission{ID: "00000000-0000-4000-8000-000000000001", Survey: "gh-2026", FormID: "hh", FormVersion: "2026-01",
		AssignmentID: "a-1", Enumerator: "ana", Supersedes: "00000000-0000-4000-8000-000000000000", SupersededBy: "x",
		StartedAt: at, EndedAt: at.Add(time.Hour), ReceivedAt: at.Add(2 * time.Hour), Status: dotm.SubmissionRejected,
		Reviews: []dotm.Review{{Decision: "reject", Comment: "age of member 2?", By: "sup", At: at.Add(3 * time.Hour)}},
		Answers: map[string]any{"hh_size": int64(4), "members": []any{map[string]any{"age": int64(40)}}},
		Sealed:  []dotm.SealedValue{{Path: "phone", KeyID: "k1", Nonce: []byte{1, 2, 3}, Ciphertext: []byte("sealed")}, {Path: "name", KeyID: "k1"}}}
	cases := map[string]dotm.Submission{"full": full, "bare": {ID: "b"}}
	for name, sub := range cases {
		d, err := toSubmissionDoc(sub)
		if err != nil {
			t.Fatal(err)
		}
		variants := map[string]submissionDoc{"as built": d}
		nils := d
		nils.Reviews, nils.Sealed, nils.Answers = nil, nil, bson.RawValue{}
		variants["nil slices, no answers"] = nils
		for vname, v := range variants {
			want, err := bson.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			if got := v.marshal(); !bytes.Equal(got, want) {
				t.Errorf("%s, %s:\n got  %s\n want %s", name, vname, bson.Raw(got), bson.Raw(want))
			}
		}
	}
}
