package mongodb

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dotm-survey/dotm"
)

// colODKKeys holds the surveys' ODK key pairs, the private key sealed
// under a data key (dotm.ODKKey).
const colODKKeys = "odk_keys" // _id: survey + " " + fingerprint

type odkKeyDoc struct {
	ID          string    `bson:"_id"`
	Survey      string    `bson:"survey"`
	Fingerprint string    `bson:"fingerprint"`
	PublicKey   string    `bson:"public_key"`
	Private     sealedDoc `bson:"private"`
	Created     time.Time `bson:"created"`
	CreatedBy   string    `bson:"created_by"`
}

func (d odkKeyDoc) key() dotm.ODKKey {
	return dotm.ODKKey{Survey: d.Survey, Fingerprint: d.Fingerprint, PublicKey: d.PublicKey, Created: d.Created, CreatedBy: d.CreatedBy,
		Private: dotm.SealedValue{Path: d.Private.Path, KeyID: d.Private.KeyID, Nonce: d.Private.Nonce, Ciphertext: d.Private.Data}}
}

// PutODKKey implements dotm.ODKKeyStore.
func (s *Store) PutODKKey(ctx context.Context, k dotm.ODKKey) error {
	d := odkKeyDoc{ID: k.Survey + " " + k.Fingerprint, Survey: k.Survey, Fingerprint: k.Fingerprint, PublicKey: k.PublicKey,
		Private: sealedDoc{Path: k.Private.Path, KeyID: k.Private.KeyID, Nonce: k.Private.Nonce, Data: k.Private.Ciphertext},
		Created: k.Created.UTC(), CreatedBy: k.CreatedBy}
	if _, err := s.collection(colODKKeys).InsertOne(ctx, d); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return dotm.Errorf(dotm.ECONFLICT, "survey %s has ODK key %s already", k.Survey, k.Fingerprint)
		}
		return unavailable(err, "store ODK key of survey "+k.Survey)
	}
	return nil
}

func (s *Store) odkKeys(ctx context.Context, filter bson.D) ([]dotm.ODKKey, error) {
	var docs []odkKeyDoc
	if err := s.findAll(ctx, colODKKeys, filter, options.Find().SetSort(bson.D{{Key: "created", Value: 1}, {Key: "_id", Value: 1}}), &docs); err != nil {
		return nil, err
	}
	out := make([]dotm.ODKKey, len(docs))
	for i, d := range docs {
		out[i] = d.key()
	}
	return out, nil
}

// ODKKeys implements dotm.ODKKeyStore.
func (s *Store) ODKKeys(ctx context.Context, survey string) ([]dotm.ODKKey, error) {
	return s.odkKeys(ctx, bson.D{{Key: "survey", Value: survey}})
}

// AllODKKeys implements dotm.ODKKeyStore.
func (s *Store) AllODKKeys(ctx context.Context) ([]dotm.ODKKey, error) {
	return s.odkKeys(ctx, bson.D{})
}

// ResealODKKey implements dotm.ODKKeyStore.
func (s *Store) ResealODKKey(ctx context.Context, survey, fingerprint string, v dotm.SealedValue) error {
	res, err := s.collection(colODKKeys).UpdateOne(ctx, bson.D{{Key: "_id", Value: survey + " " + fingerprint}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "private", Value: sealedDoc{Path: v.Path, KeyID: v.KeyID, Nonce: v.Nonce, Data: v.Ciphertext}}}}})
	if err != nil {
		return unavailable(err, "reseal ODK key "+fingerprint)
	}
	if res.MatchedCount == 0 {
		return dotm.Errorf(dotm.ENOTFOUND, "survey %s has no ODK key %s", survey, fingerprint)
	}
	return nil
}
