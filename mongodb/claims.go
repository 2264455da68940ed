package mongodb

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// colClaims holds one small document per replacement that must happen at
// most once: the id names what is replaced and the version it replaces
// (weights of a survey over a generation, a PSU's listing over a
// revision). Inserting it is the compare-and-swap. A filtered update such as
// ReplaceOne({_id, revision: r}) is not one on the embedded server: FerretDB
// v1.24 matches the filter and writes the document in separate steps, so two
// writers can both match the same revision (measured: two surviving
// generations of weights out of four racing writers). A duplicate _id is
// refused atomically on both servers, as for review decisions.
const colClaims = "claims"

// claimStale is how old a claim must be before another caller may take it
// over: its holder died between claiming and writing.
const claimStale = 10 * time.Minute

// claim reports whether this caller is the first to claim id. A claim older
// than claimStale is taken over (its holder died before writing).
func (s *Store) claim(ctx context.Context, id, by string) (bool, error) {
	for attempt := 0; attempt < 2; attempt++ {
		_, err := s.collection(colClaims).InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "by", Value: by}, {Key: "at", Value: time.Now().UTC()}})
		if err == nil {
			return true, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return false, err
		}
		var held struct {
			By string    `bson:"by"`
			At time.Time `bson:"at"`
		}
		if err := s.collection(colClaims).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&held); err != nil {
			if errors.Is(err, mongo.ErrNoDocuments) {
				continue
			}
			return false, err
		}
		if time.Since(held.At) < claimStale {
			return false, nil
		}
		if _, err := s.collection(colClaims).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "by", Value: held.By}}); err != nil {
			return false, err
		}
	}
	return false, nil
}

// unclaim gives up a claim whose write failed, so that the next caller may
// claim the same version.
func (s *Store) unclaim(ctx context.Context, id, by string) {
	_, _ = s.collection(colClaims).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "by", Value: by}})
}

// ProbeWrite writes one small document (implements collector.WriteProber):
// after a write failed for a full disk, /readyz asks it whether space was
// freed.
func (s *Store) ProbeWrite(ctx context.Context) error {
	_, err := s.collection(colClaims).ReplaceOne(ctx, bson.D{{Key: "_id", Value: "readyz-probe"}},
		bson.D{{Key: "_id", Value: "readyz-probe"}, {Key: "at", Value: time.Now().UTC()}}, options.Replace().SetUpsert(true))
	return err
}
