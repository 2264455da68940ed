package mongodb

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/dotm-survey/dotm"
)

// TestMigrateSubmissionBodies writes submissions the way earlier versions
// stored them (a record naming its answers document in submission_bodies,
// plus an orphan answers document from a lost retry race), starts the store
// again and reads every submission whole, with its sealed values and
// review, from the one collection; the old collection is gone, and a second
// start changes nothing.
func TestMigrateSubmissionBodies(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	at := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	answers, _ := bson.Marshal(bson.D{{Key: "hh_size", Value: int64(4)}, {Key: "region", Value: "north"}})
	legacy := func(id, status string, withSealed bool) (bson.D, bson.D) {
		sealed := bson.A{}
		if withSealed {
			sealed = bson.A{bson.D{{Key: "p", Value: "phone"}, {Key: "k", Value: "k1"}, {Key: "n", Value: []byte{1, 2}}, {Key: "c", Value: []byte{3, 4, 5}}}}
		}
		body := bson.D{{Key: "_id", Value: id + "/0a1b"}, {Key: "submission", Value: id}, {Key: "answers", Value: bson.Raw(answers)}, {Key: "sealed", Value: sealed}}
		rec := bson.D{{Key: "_id", Value: id}, {Key: "survey", Value: "gh-2026"}, {Key: "form_id", Value: "hh"}, {Key: "form_version", Value: "1"},
			{Key: "assignment_id", Value: ""}, {Key: "enumerator", Value: "ana"}, {Key: "supersedes", Value: ""}, {Key: "superseded_by", Value: ""},
			{Key: "started_at", Value: at}, {Key: "ended_at", Value: at.Add(time.Hour)}, {Key: "received_at", Value: at.Add(2 * time.Hour)},
			{Key: "status", Value: status}, {Key: "body", Value: id + "/0a1b"},
			{Key: "reviews", Value: bson.A{}}}
		if status == "approved" {
			rec[len(rec)-1].Value = bson.A{bson.D{{Key: "decision", Value: "approve"}, {Key: "comment", Value: "ok"}, {Key: "by", Value: "sup"}, {Key: "at", Value: at.Add(3 * time.Hour)}}}
		}
		return rec, body
	}
	ids := []string{"00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"}
	r1, b1 := legacy(ids[0], "received", true)
	r2, b2 := legacy(ids[1], "approved", false)
	orphan := bson.D{{Key: "_id", Value: ids[0] + "/ffff"}, {Key: "submission", Value: ids[0]}, {Key: "sealed", Value: bson.A{}}}
	if _, err := s.collection(colSubmissionBodies).InsertMany(ctx, []any{b1, b2, orphan}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.collection(colSubmissions).InsertMany(ctx, []any{r1, r2}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.EnsureIndexes(ctx); err != nil {
			t.Fatal(err)
		}
	}
	names, err := s.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(names, colSubmissionBodies) {
		t.Fatalf("%s still there after the migration: %v", colSubmissionBodies, names)
	}
	for i, id := range ids {
		sub, err := s.Submission(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if sub.Answers["hh_size"] != int64(4) || sub.Answers["region"] != "north" {
			t.Errorf("%s: answers %v", id, sub.Answers)
		}
		if wantSealed := i == 0; (len(sub.Sealed) == 1) != wantSealed || wantSealed && (sub.Sealed[0].Path != "phone" || sub.Sealed[0].KeyID != "k1" || string(sub.Sealed[0].Ciphertext) != "\x03\x04\x05") {
			t.Errorf("%s: sealed %+v", id, sub.Sealed)
		}
		if i == 1 && (sub.Status != dotm.SubmissionApproved || len(sub.Reviews) != 1 || sub.Reviews[0].By != "sup") {
			t.Errorf("%s: status %s reviews %+v", id, sub.Status, sub.Reviews)
		}
		var raw bson.M
		if err := s.collection(colSubmissions).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&raw); err != nil {
			t.Fatal(err)
		}
		if _, ok := raw["body"]; ok {
			t.Errorf("%s keeps its body field", id)
		}
	}
	use, err := s.KeyUse(ctx)
	if err != nil || use["k1"] != 1 || len(use) != 1 {
		t.Fatalf("key use after migration: %v %v", use, err)
	}
	var approved int
	if err := s.ApprovedSubmissions(ctx, "gh-2026", func(sub dotm.Submission) error {
		approved++
		if sub.Answers["hh_size"] != int64(4) {
			t.Errorf("approved submission without answers: %v", sub.Answers)
		}
		return nil
	}); err != nil || approved != 1 {
		t.Fatalf("approved: %d %v", approved, err)
	}
}

// TestAnswersStoredAsBinary: a submission's answers are stored as binary
// data holding a BSON document (so that the embedded server does not decode
// them on every filtered query), read back with their Go types, and answers
// stored as an embedded document read the same.
func TestAnswersStoredAsBinary(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	answers := map[string]any{"hh_size": int64(4), "members": []any{map[string]any{"age": int64(40)}}, "income": 12.5}
	sub := dotm.Submission{ID: "00000000-0000-4000-8000-00000000000a", Survey: "gh-2026", FormID: "hh", FormVersion: "1",
		Enumerator: "ana", Status: dotm.SubmissionReceived, Answers: answers}
	if err := s.InsertSubmission(ctx, sub); err != nil {
		t.Fatal(err)
	}
	var raw bson.Raw
	if err := s.collection(colSubmissions).FindOne(ctx, bson.D{{Key: "_id", Value: sub.ID}}).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	if v := raw.Lookup("answers"); v.Type != bson.TypeBinary {
		t.Fatalf("answers stored as %s", v.Type)
	}
	embedded, _ := bson.Marshal(answers)
	doc := bson.D{{Key: "_id", Value: "00000000-0000-4000-8000-00000000000b"}, {Key: "survey", Value: "gh-2026"}, {Key: "status", Value: "received"},
		{Key: "answers", Value: bson.Raw(embedded)}, {Key: "sealed", Value: bson.A{}}, {Key: "reviews", Value: bson.A{}}}
	if _, err := s.collection(colSubmissions).InsertOne(ctx, doc); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{sub.ID, "00000000-0000-4000-8000-00000000000b"} {
		got, err := s.Submission(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Answers, answers) {
			t.Errorf("%s: answers %#v, want %#v", id, got.Answers, answers)
		}
	}
	list, err := s.Submissions(ctx, dotm.SubmissionFilter{Survey: "gh-2026"})
	if err != nil || len(list) != 2 || list[0].Answers != nil {
		t.Fatalf("listing: %d %v (answers %v)", len(list), err, list)
	}
	bad := bson.D{{Key: "_id", Value: "00000000-0000-4000-8000-00000000000c"}, {Key: "answers", Value: bson.Binary{Subtype: 0, Data: []byte("not bson")}}}
	if _, err := s.collection(colSubmissions).InsertOne(ctx, bad); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Submission(ctx, "00000000-0000-4000-8000-00000000000c"); err == nil || !strings.Contains(err.Error(), "answers of submission") {
		t.Fatalf("damaged answers read without an error naming them: %v", err)
	}
}
