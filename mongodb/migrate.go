package mongodb

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// colSubmissionBodies held the answers of each submission apart from its
// record, in data written before submissions became one document.
// migrateSubmissionBodies folds them back; nothing writes here any more.
const colSubmissionBodies = "submission_bodies"

// legacyBodyDoc is one answers document of colSubmissionBodies.
type legacyBodyDoc struct {
	ID      string      `bson:"_id"`
	Answers bson.Raw    `bson:"answers,omitempty"`
	Sealed  []sealedDoc `bson:"sealed"`
}

// migrateSubmissionBodies moves answers kept in colSubmissionBodies (a
// record's "body" field names its answers document) into the submission
// documents, then drops the collection. Each record is rewritten by one
// _id update that sets its answers and removes "body", so a migration cut
// short by a crash goes on where it stopped on the next start; answers
// documents no record points at (attempts that lost a retry race) go with
// the collection. It does nothing when the collection is absent.
func (s *Store) migrateSubmissionBodies(ctx context.Context) error {
	names, err := s.db.ListCollectionNames(ctx, bson.D{{Key: "name", Value: colSubmissionBodies}})
	if err != nil {
		return unavailable(err, "list collections")
	}
	if len(names) == 0 {
		return nil
	}
	var records []struct {
		ID   string `bson:"_id"`
		Body string `bson:"body"`
	}
	filter := bson.D{{Key: "body", Value: bson.D{{Key: "$exists", Value: true}}}}
	opts := options.Find().SetProjection(bson.D{{Key: "body", Value: 1}})
	if err := s.findAll(ctx, colSubmissions, filter, opts, &records); err != nil {
		return fmt.Errorf("mongodb: migrate answers: %w", err)
	}
	for _, r := range records {
		var b legacyBodyDoc
		err := s.collection(colSubmissionBodies).FindOne(ctx, bson.D{{Key: "_id", Value: r.Body}}).Decode(&b)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return fmt.Errorf("mongodb: migrate answers: submission %s points at answers %s, which are missing", r.ID, r.Body)
		}
		if err != nil {
			return unavailable(err, "migrate answers of submission "+r.ID)
		}
		set := bson.D{{Key: "sealed", Value: b.Sealed}}
		if b.Sealed == nil {
			set[0].Value = []sealedDoc{}
		}
		if len(b.Answers) > 0 {
			set = append(set, bson.E{Key: "answers", Value: answersValue(b.Answers)})
		}
		if _, err := s.collection(colSubmissions).UpdateOne(ctx, bson.D{{Key: "_id", Value: r.ID}},
			bson.D{{Key: "$set", Value: set}, {Key: "$unset", Value: bson.D{{Key: "body", Value: ""}}}}); err != nil {
			return unavailable(err, "migrate answers of submission "+r.ID)
		}
	}
	if err := s.collection(colSubmissionBodies).Drop(ctx); err != nil {
		return unavailable(err, "drop "+colSubmissionBodies)
	}
	return nil
}
