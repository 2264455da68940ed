package mongodb

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/dotm-survey/dotm"
)

// TestWeightsLeaveNoOrphans: computations of one survey's weights racing
// each other leave exactly the chunks the header names (the losers answer
// ECONFLICT), and chunks left by a computation that died before writing its
// header are deleted by the next one once they are old enough.
func TestWeightsLeaveNoOrphans(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	s.weightChunk = 40
	chunkIDs := func(survey string) map[string]bool {
		var docs []struct {
			ID string `bson:"_id"`
		}
		if err := s.findAll(ctx, colWeightChunks, bson.D{{Key: "survey", Value: survey}}, nil, &docs); err != nil {
			t.Fatal(err)
		}
		ids := map[string]bool{}
		for _, d := range docs {
			ids[d.ID] = true
		}
		return ids
	}
	header := func(survey string) weightsDoc {
		var h weightsDoc
		if err := s.collection(colWeights).FindOne(ctx, bson.D{{Key: "_id", Value: survey}}).Decode(&h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	conflicts := 0
	for round := range 6 {
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.PutWeights(ctx, testWeights("race", 100+round*10+i, float64(i+1)))
			}()
		}
		wg.Wait()
		for _, err := range errs {
			var de *dotm.Error
			switch {
			case err == nil:
			case errors.As(err, &de) && de.Code == dotm.ECONFLICT:
				conflicts++
			default:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		h := header("race")
		ids := chunkIDs("race")
		if len(ids) != h.Chunks {
			t.Fatalf("round %d: %d chunks stored, the header names %d (generation %s): %v", round, len(ids), h.Chunks, h.Generation, ids)
		}
		for n := range h.Chunks {
			if !ids[weightChunkID("race", h.Generation, n)] {
				t.Fatalf("round %d: chunk %d of the current generation is missing", round, n)
			}
		}
		if got, err := s.Weights(ctx, "race"); err != nil || len(got.Households) != h.Count {
			t.Fatalf("round %d: read %d households, %v", round, len(got.Households), err)
		}
	}
	t.Logf("%d of 24 racing computations answered ECONFLICT", conflicts)

	// A computation that died after writing its chunks: an old one and one
	// that may still be running.
	stale := bson.NewObjectIDFromTimestamp(time.Now().Add(-2 * orphanAge)).Hex()
	fresh := bson.NewObjectID().Hex()
	for _, gen := range []string{stale, fresh} {
		c := weightChunkDoc{ID: weightChunkID("race", gen, 0), Survey: "race", Generation: gen}
		if _, err := s.collection(colWeightChunks).InsertOne(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutWeights(ctx, testWeights("race", 30, 1)); err != nil {
		t.Fatal(err)
	}
	ids := chunkIDs("race")
	if ids[weightChunkID("race", stale, 0)] {
		t.Fatal("the stale orphan chunk is still there")
	}
	if !ids[weightChunkID("race", fresh, 0)] {
		t.Fatal("a recent chunk, perhaps of a computation still running, was deleted")
	}
}
