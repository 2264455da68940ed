package mongodb

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dotm-survey/dotm"
)

// Submission attachments are kept as inserts only, like releases: chunks
// first, each by a fresh blob id, then the record that names the blob and
// makes the file visible, by submission + "/" + name.
const (
	colAttachments      = "attachments"       // _id: submission + "/" + file name; the record
	colAttachmentChunks = "attachment_chunks" // _id: blob + "/" + chunk number; sealed bytes
)

type attachmentDoc struct {
	ID          string    `bson:"_id"`
	Submission  string    `bson:"submission"`
	Survey      string    `bson:"survey"`
	Name        string    `bson:"name"`
	ContentType string    `bson:"content_type"`
	Bytes       int64     `bson:"bytes"`
	SHA256      string    `bson:"sha256"`
	MD5         string    `bson:"md5"`
	Chunks      int       `bson:"chunks"`
	Blob        string    `bson:"blob"`
	Key         sealedDoc `bson:"key"`
	ReceivedAt  time.Time `bson:"received_at"`
}

type attachmentChunkDoc struct {
	ID   string `bson:"_id"`
	Blob string `bson:"blob"`
	N    int    `bson:"n"`
	Data []byte `bson:"data"`
}

func attachmentID(submission, name string) string { return submission + "/" + name }

func attachmentChunkID(blob string, n int) string { return blob + "/" + strconv.Itoa(n) }

// PutAttachment implements dotm.AttachmentStore. The chunks go under a
// new blob id, so that two requests storing the same file at once never
// write each other's chunks; the first record inserted wins and the other
// gets ECONFLICT. When the record is not inserted, the chunks this call
// wrote are deleted (by _id), even if ctx has ended.
func (s *Store) PutAttachment(ctx context.Context, a dotm.Attachment, chunks [][]byte) error {
	if len(chunks) != a.Chunks {
		return fmt.Errorf("mongodb: attachment %s of %s: %d chunks, the record says %d", a.Name, a.Submission, len(chunks), a.Chunks)
	}
	a.Blob = uuid.NewString()
	var written []string
	err := func() error {
		for n, c := range chunks {
			doc := attachmentChunkDoc{ID: attachmentChunkID(a.Blob, n), Blob: a.Blob, N: n, Data: c}
			if _, err := s.collection(colAttachmentChunks).InsertOne(ctx, doc); err != nil {
				return unavailable(err, fmt.Sprintf("store attachment %s of %s, chunk %d", a.Name, a.Submission, n))
			}
			written = append(written, doc.ID)
		}
		d := attachmentDoc{ID: attachmentID(a.Submission, a.Name), Submission: a.Submission, Survey: a.Survey, Name: a.Name,
			ContentType: a.ContentType, Bytes: a.Bytes, SHA256: a.SHA256, MD5: a.MD5, Chunks: a.Chunks, Blob: a.Blob,
			Key: sealedDoc{Path: a.Key.Path, KeyID: a.Key.KeyID, Nonce: a.Key.Nonce, Data: a.Key.Ciphertext}, ReceivedAt: a.ReceivedAt.UTC()}
		if _, err := s.collection(colAttachments).InsertOne(ctx, d); err != nil {
			if mongo.IsDuplicateKeyError(err) {
				return dotm.Errorf(dotm.ECONFLICT, "attachment %s of submission %s is stored already", a.Name, a.Submission)
			}
			return unavailable(err, "store attachment "+a.Name+" of "+a.Submission)
		}
		return nil
	}()
	if err != nil && len(written) > 0 {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		for _, id := range written {
			if _, derr := s.collection(colAttachmentChunks).DeleteOne(cctx, bson.D{{Key: "_id", Value: id}}); derr != nil {
				return fmt.Errorf("%w (and %d unreferenced chunks could not be deleted: %v)", err, len(written), derr)
			}
		}
	}
	return err
}

// Attachment implements dotm.AttachmentStore.
func (s *Store) Attachment(ctx context.Context, submission, name string) (dotm.Attachment, error) {
	var d attachmentDoc
	if err := s.collection(colAttachments).FindOne(ctx, bson.D{{Key: "_id", Value: attachmentID(submission, name)}}).Decode(&d); err != nil {
		return dotm.Attachment{}, notFound(err, "attachment "+name+" of submission "+submission)
	}
	return d.attachment(), nil
}

func (d attachmentDoc) attachment() dotm.Attachment {
	return dotm.Attachment{Submission: d.Submission, Survey: d.Survey, Name: d.Name, ContentType: d.ContentType, Bytes: d.Bytes,
		SHA256: d.SHA256, MD5: d.MD5, Chunks: d.Chunks, Blob: d.Blob, ReceivedAt: d.ReceivedAt,
		Key: dotm.SealedValue{Path: d.Key.Path, KeyID: d.Key.KeyID, Nonce: d.Key.Nonce, Ciphertext: d.Key.Data}}
}

// SealedAttachments implements dotm.Resealer. It reads the records (small:
// never the chunks) and calls fn for those under another key than keep.
func (s *Store) SealedAttachments(ctx context.Context, keep string, fn func(a dotm.Attachment) error) error {
	var docs []attachmentDoc
	if err := s.findAll(ctx, colAttachments, bson.D{}, nil, &docs); err != nil {
		return err
	}
	for _, d := range docs {
		if d.Key.KeyID == keep {
			continue
		}
		if err := fn(d.attachment()); err != nil {
			return err
		}
	}
	return nil
}

// ResealAttachment implements dotm.Resealer: it replaces the sealed key of
// attachment a, by _id.
func (s *Store) ResealAttachment(ctx context.Context, a dotm.Attachment, key dotm.SealedValue) error {
	res, err := s.collection(colAttachments).UpdateOne(ctx, bson.D{{Key: "_id", Value: attachmentID(a.Submission, a.Name)}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "key", Value: sealedDoc{Path: key.Path, KeyID: key.KeyID, Nonce: key.Nonce, Data: key.Ciphertext}}}}})
	if err != nil {
		return unavailable(err, "reseal attachment "+a.Name+" of "+a.Submission)
	}
	if res.MatchedCount == 0 {
		return dotm.Errorf(dotm.ENOTFOUND, "attachment %s of submission %s not found", a.Name, a.Submission)
	}
	return nil
}

// AttachmentChunk implements dotm.AttachmentStore.
func (s *Store) AttachmentChunk(ctx context.Context, a dotm.Attachment, n int) ([]byte, error) {
	var d attachmentChunkDoc
	err := s.collection(colAttachmentChunks).FindOne(ctx, bson.D{{Key: "_id", Value: attachmentChunkID(a.Blob, n)}}).Decode(&d)
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("chunk %d of attachment %s of submission %s", n, a.Name, a.Submission))
	}
	return d.Data, nil
}

// attachmentKeyUse adds the key ids of the attachments' sealed keys to n
// (a scan of the small records, never of the chunks).
func (s *Store) attachmentKeyUse(ctx context.Context, n map[string]int) error {
	var docs []struct {
		Key sealedDoc `bson:"key"`
	}
	if err := s.findAll(ctx, colAttachments, bson.D{}, options.Find().SetProjection(bson.D{{Key: "key.k", Value: 1}}), &docs); err != nil {
		return err
	}
	for _, d := range docs {
		n[d.Key.KeyID]++
	}
	return nil
}
