package mongodb

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// colKeyChecks holds one check value per data key id the store has used
// (collector.VerifyKeys); never a key.
const colKeyChecks = "key_checks" // _id: key id

type keyCheckDoc struct {
	ID    string `bson:"_id"`
	Check []byte `bson:"check"`
}

// KeyChecks implements collector.KeyCheckStore.
func (s *Store) KeyChecks(ctx context.Context) (map[string][]byte, error) {
	var docs []keyCheckDoc
	if err := s.findAll(ctx, colKeyChecks, bson.D{}, nil, &docs); err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(docs))
	for _, d := range docs {
		out[d.ID] = d.Check
	}
	return out, nil
}

// PutKeyCheck implements collector.KeyCheckStore: an insert, so that an
// existing check is never replaced.
func (s *Store) PutKeyCheck(ctx context.Context, id string, check []byte) error {
	_, err := s.collection(colKeyChecks).InsertOne(ctx, keyCheckDoc{ID: id, Check: check})
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return unavailable(err, "store key check "+id)
	}
	return nil
}

// DeleteKeyCheck implements collector.KeyCheckStore.
func (s *Store) DeleteKeyCheck(ctx context.Context, id string) error {
	if _, err := s.collection(colKeyChecks).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
		return unavailable(err, "delete key check "+id)
	}
	return nil
}
