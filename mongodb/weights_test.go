package mongodb

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/dotm-survey/dotm"
)

func testWeights(survey string, n int, scale float64) dotm.Weights {
	w := dotm.Weights{Survey: survey, ComputedAt: time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC), ComputedBy: "stat",
		Report: dotm.WeightsReport{Selected: n, Respondents: n - n/10, Warnings: []string{"test"}}}
	for i := range n {
		w.Households = append(w.Households, dotm.HouseholdWeight{HouseholdID: fmt.Sprintf("h%06d", i), PSU: fmt.Sprintf("p%03d", i%700),
			Stratum: fmt.Sprintf("s%d", i%9), Base: 10 + float64(i%17)*scale, Adjusted: 11 + float64(i%13)*scale, Final: 12 + float64(i%11)*scale,
			Responded: i%10 != 0, FramePSUs: 40 + i%9})
	}
	return w
}

// TestWeightsInChunks: weights of more households than one chunk holds are
// stored in chunks and read back whole and in order; recomputed weights
// replace them and leave no chunk of the old generation; weights stored in
// one document (before chunking) still read.
func TestWeightsInChunks(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	s.weightChunk = 250 // the production size (weightChunkSize) makes the same shape 80 times slower
	big := testWeights("gh-2026", 2*s.weightChunk+234, 1)
	if err := s.PutWeights(ctx, big); err != nil {
		t.Fatal(err)
	}
	got, err := s.Weights(ctx, "gh-2026")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Households) != len(big.Households) || !reflect.DeepEqual(got.Households, big.Households) {
		t.Fatalf("read back %d households, want %d equal ones", len(got.Households), len(big.Households))
	}
	if !got.ComputedAt.Equal(big.ComputedAt) || got.ComputedBy != "stat" {
		t.Fatalf("header: %+v", got)
	}
	countChunks := func(survey string) int64 {
		n, err := s.collection(colWeightChunks).CountDocuments(ctx, bson.D{{Key: "survey", Value: survey}})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := countChunks("gh-2026"); n != 3 {
		t.Fatalf("%d chunks, want 3", n)
	}
	// Another survey's weights are left alone by a recomputation.
	if err := s.PutWeights(ctx, testWeights("fj-2026", 10, 1)); err != nil {
		t.Fatal(err)
	}
	small := testWeights("gh-2026", s.weightChunk-50, 2)
	if err := s.PutWeights(ctx, small); err != nil {
		t.Fatal(err)
	}
	if got, err = s.Weights(ctx, "gh-2026"); err != nil || !reflect.DeepEqual(got.Households, small.Households) {
		t.Fatalf("after recomputation: %d households, %v", len(got.Households), err)
	}
	if n := countChunks("gh-2026"); n != 1 {
		t.Fatalf("%d chunks after recomputation, want 1", n)
	}
	if got, err := s.Weights(ctx, "fj-2026"); err != nil || len(got.Households) != 10 || countChunks("fj-2026") != 1 {
		t.Fatalf("other survey: %d households, %v", len(got.Households), err)
	}
	// A header whose chunk is gone is an error naming it, not short weights.
	var hdr weightsDoc
	if err := s.collection(colWeights).FindOne(ctx, bson.D{{Key: "_id", Value: "fj-2026"}}).Decode(&hdr); err != nil {
		t.Fatal(err)
	}
	if _, err := s.collection(colWeightChunks).DeleteOne(ctx, bson.D{{Key: "_id", Value: weightChunkID("fj-2026", hdr.Generation, 0)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Weights(ctx, "fj-2026"); err == nil {
		t.Fatal("weights read without their chunk")
	}
	// The one-document form of earlier versions.
	legacy := testWeights("ke-2026", 3, 1)
	report, _ := bson.Marshal(legacy.Report)
	doc := weightsDoc{Survey: "ke-2026", Report: report, ComputedAt: legacy.ComputedAt, ComputedBy: "stat"}
	for _, h := range legacy.Households {
		doc.Households = append(doc.Households, householdWeightDoc(h))
	}
	if _, err := s.collection(colWeights).InsertOne(ctx, doc); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Weights(ctx, "ke-2026"); err != nil || !reflect.DeepEqual(got.Households, legacy.Households) {
		t.Fatalf("one-document weights: %+v %v", got.Households, err)
	}
}
