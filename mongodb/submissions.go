package mongodb

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/dotm-survey/dotm"
)

// submissionDoc is one stored interview, keyed by its instance id so that
// the database itself refuses a second copy: one document, written by one
// insert, so that a submission is either wholly stored or not at all.
// Answers to direct questions are only in Sealed, encrypted by the collector
// before they get here. Review decisions and corrections update the
// document by _id only (the embedded server scans for any other filter).
//
// The answers are a BSON document kept as binary data (subtype 0), not as
// an embedded document: the embedded server answers every query on a field
// other than _id by decoding each stored document in full, and an hour-long
// interview's answers are hundreds of fields, so listings and filters took
// ten times longer with the answers embedded (2,000 household submissions:
// 2.1–3.1 s against 0.26–0.31 s). dotm never queries answers in the
// database; it reads them back whole. A document whose answers are an
// embedded document reads the same.
type submissionDoc struct {
	ID           string        `bson:"_id"`
	Survey       string        `bson:"survey"`
	FormID       string        `bson:"form_id"`
	FormVersion  string        `bson:"form_version"`
	AssignmentID string        `bson:"assignment_id"`
	Enumerator   string        `bson:"enumerator"`
	Supersedes   string        `bson:"supersedes"`
	SupersededBy string        `bson:"superseded_by"`
	StartedAt    time.Time     `bson:"started_at"`
	EndedAt      time.Time     `bson:"ended_at"`
	ReceivedAt   time.Time     `bson:"received_at"`
	Status       string        `bson:"status"`
	Reviews      []reviewDoc   `bson:"reviews"`
	Answers      bson.RawValue `bson:"answers,omitempty"` // binary holding a BSON document (or, read only, the document)
	Sealed       []sealedDoc   `bson:"sealed"`
	Flags        []string      `bson:"flags,omitempty"`
}

// withoutAnswers is the projection of a listing: records, not answers.
var withoutAnswers = bson.D{{Key: "answers", Value: 0}, {Key: "sealed", Value: 0}}

type sealedDoc struct {
	Path  string `bson:"p"`
	KeyID string `bson:"k"`
	Nonce []byte `bson:"n"`
	Data  []byte `bson:"c"`
}

type reviewDoc struct {
	Decision string    `bson:"decision"`
	Comment  string    `bson:"comment"`
	By       string    `bson:"by"`
	At       time.Time `bson:"at"`
}

func toSubmissionDoc(s dotm.Submission) (submissionDoc, error) {
	ans := s.Answers
	if ans == nil {
		ans = map[string]any{}
	}
	raw, ok := appendAnswerDoc(make([]byte, 0, 4096), ans)
	if !ok { // a type the fast encoder does not know: the driver's
		var err error
		if raw, err = bson.Marshal(ans); err != nil {
			return submissionDoc{}, dotm.Errorf(dotm.EUNPROCESSABL, "answers of %s cannot be stored: %v", s.ID, err)
		}
	}
	d := submissionDoc{ID: s.ID, Survey: s.Survey, FormID: s.FormID, FormVersion: s.FormVersion, AssignmentID: s.AssignmentID,
		Enumerator: s.Enumerator, Supersedes: s.Supersedes, SupersededBy: s.SupersededBy,
		StartedAt: s.StartedAt.UTC(), EndedAt: s.EndedAt.UTC(), ReceivedAt: s.ReceivedAt.UTC(), Status: string(s.Status),
		Reviews: make([]reviewDoc, len(s.Reviews)), Answers: answersValue(raw), Sealed: make([]sealedDoc, len(s.Sealed)), Flags: s.Flags}
	for i, r := range s.Reviews {
		d.Reviews[i] = reviewDoc(r)
	}
	for i, v := range s.Sealed {
		d.Sealed[i] = sealedDoc{Path: v.Path, KeyID: v.KeyID, Nonce: v.Nonce, Data: v.Ciphertext}
	}
	return d, nil
}

// marshal encodes d exactly as bson.Marshal(d) does (a test checks it byte
// for byte), without the driver's reflection over the struct: it runs for
// every stored submission.
func (d submissionDoc) marshal() bson.Raw {
	date := func(t time.Time) int64 { return t.UnixMilli() }
	n := 512 + len(d.Answers.Value)
	for _, v := range d.Sealed {
		n += 64 + len(v.Path) + len(v.Data)
	}
	idx, b := bsoncore.AppendDocumentStart(make([]byte, 0, n))
	b = bsoncore.AppendStringElement(b, "_id", d.ID)
	b = bsoncore.AppendStringElement(b, "survey", d.Survey)
	b = bsoncore.AppendStringElement(b, "form_id", d.FormID)
	b = bsoncore.AppendStringElement(b, "form_version", d.FormVersion)
	b = bsoncore.AppendStringElement(b, "assignment_id", d.AssignmentID)
	b = bsoncore.AppendStringElement(b, "enumerator", d.Enumerator)
	b = bsoncore.AppendStringElement(b, "supersedes", d.Supersedes)
	b = bsoncore.AppendStringElement(b, "superseded_by", d.SupersededBy)
	b = bsoncore.AppendDateTimeElement(b, "started_at", date(d.StartedAt))
	b = bsoncore.AppendDateTimeElement(b, "ended_at", date(d.EndedAt))
	b = bsoncore.AppendDateTimeElement(b, "received_at", date(d.ReceivedAt))
	b = bsoncore.AppendStringElement(b, "status", d.Status)
	if d.Reviews == nil {
		b = bsoncore.AppendNullElement(b, "reviews")
	} else {
		var aidx int32
		aidx, b = bsoncore.AppendArrayElementStart(b, "reviews")
		for i, r := range d.Reviews {
			var ridx int32
			ridx, b = bsoncore.AppendDocumentElementStart(b, strconv.Itoa(i))
			b = bsoncore.AppendStringElement(b, "decision", r.Decision)
			b = bsoncore.AppendStringElement(b, "comment", r.Comment)
			b = bsoncore.AppendStringElement(b, "by", r.By)
			b = bsoncore.AppendDateTimeElement(b, "at", date(r.At))
			b, _ = bsoncore.AppendDocumentEnd(b, ridx)
		}
		b, _ = bsoncore.AppendArrayEnd(b, aidx)
	}
	if d.Answers.Type != 0 {
		b = bsoncore.AppendValueElement(b, "answers", bsoncore.Value{Type: bsoncore.Type(d.Answers.Type), Data: d.Answers.Value})
	}
	if d.Sealed == nil {
		b = bsoncore.AppendNullElement(b, "sealed")
	} else {
		var aidx int32
		aidx, b = bsoncore.AppendArrayElementStart(b, "sealed")
		for i, v := range d.Sealed {
			var vidx int32
			vidx, b = bsoncore.AppendDocumentElementStart(b, strconv.Itoa(i))
			b = bsoncore.AppendStringElement(b, "p", v.Path)
			b = bsoncore.AppendStringElement(b, "k", v.KeyID)
			b = appendBytes(b, "n", v.Nonce)
			b = appendBytes(b, "c", v.Data)
			b, _ = bsoncore.AppendDocumentEnd(b, vidx)
		}
		b, _ = bsoncore.AppendArrayEnd(b, aidx)
	}
	if len(d.Flags) > 0 {
		var aidx int32
		aidx, b = bsoncore.AppendArrayElementStart(b, "flags")
		for i, f := range d.Flags {
			b = bsoncore.AppendStringElement(b, strconv.Itoa(i), f)
		}
		b, _ = bsoncore.AppendArrayEnd(b, aidx)
	}
	b, _ = bsoncore.AppendDocumentEnd(b, idx)
	return b
}

// appendBytes appends a []byte as the driver does: binary data, or null
// for a nil slice.
func appendBytes(b []byte, key string, v []byte) []byte {
	if v == nil {
		return bsoncore.AppendNullElement(b, key)
	}
	return bsoncore.AppendBinaryElement(b, key, 0, v)
}

// submission converts a stored document; a listing's (projected without
// answers) converts to a submission without answers.
func (d submissionDoc) submission() (dotm.Submission, error) {
	s := dotm.Submission{ID: d.ID, Survey: d.Survey, FormID: d.FormID, FormVersion: d.FormVersion, AssignmentID: d.AssignmentID,
		Enumerator: d.Enumerator, Supersedes: d.Supersedes, SupersededBy: d.SupersededBy,
		StartedAt: d.StartedAt, EndedAt: d.EndedAt, ReceivedAt: d.ReceivedAt, Status: dotm.SubmissionStatus(d.Status), Flags: d.Flags}
	if d.Answers.Type != 0 {
		raw, err := answersDoc(d.Answers)
		if err != nil {
			return s, fmt.Errorf("mongodb: answers of submission %s: %w", d.ID, err)
		}
		m, err := plainDoc(raw)
		if err != nil {
			return s, fmt.Errorf("mongodb: answers of submission %s: %w", d.ID, err)
		}
		s.Answers = m
	}
	for _, v := range d.Sealed {
		s.Sealed = append(s.Sealed, dotm.SealedValue{Path: v.Path, KeyID: v.KeyID, Nonce: v.Nonce, Ciphertext: v.Data})
	}
	for _, r := range d.Reviews {
		s.Reviews = append(s.Reviews, dotm.Review(r))
	}
	return s, nil
}

// appendAnswerDoc appends answers as a BSON document, for the value types
// the validator and the collector produce (string, int64, int, float64,
// bool, nil, time.Time, []string, []any, map[string]any), without the
// driver's reflection: this runs for every stored submission. ok is false
// for any other type, and for keys with a NUL byte, which BSON cannot
// hold; the caller then uses bson.Marshal.
func appendAnswerDoc(dst []byte, m map[string]any) (out []byte, ok bool) {
	idx, dst := bsoncore.AppendDocumentStart(dst)
	for k, v := range m {
		if dst, ok = appendAnswer(dst, k, v); !ok {
			return nil, false
		}
	}
	dst, err := bsoncore.AppendDocumentEnd(dst, idx)
	return dst, err == nil
}

func appendAnswer(dst []byte, key string, v any) ([]byte, bool) {
	if strings.IndexByte(key, 0) >= 0 {
		return nil, false
	}
	switch x := v.(type) {
	case string:
		return bsoncore.AppendStringElement(dst, key, x), true
	case int64:
		return bsoncore.AppendInt64Element(dst, key, x), true
	case int:
		return bsoncore.AppendInt64Element(dst, key, int64(x)), true
	case float64:
		return bsoncore.AppendDoubleElement(dst, key, x), true
	case bool:
		return bsoncore.AppendBooleanElement(dst, key, x), true
	case nil:
		return bsoncore.AppendNullElement(dst, key), true
	case time.Time:
		return bsoncore.AppendDateTimeElement(dst, key, x.UnixMilli()), true
	case []string:
		idx, dst := bsoncore.AppendArrayElementStart(dst, key)
		for i, e := range x {
			dst = bsoncore.AppendStringElement(dst, strconv.Itoa(i), e)
		}
		dst, err := bsoncore.AppendArrayEnd(dst, idx)
		return dst, err == nil
	case []any:
		idx, dst := bsoncore.AppendArrayElementStart(dst, key)
		for i, e := range x {
			var ok bool
			if dst, ok = appendAnswer(dst, strconv.Itoa(i), e); !ok {
				return nil, false
			}
		}
		dst, err := bsoncore.AppendArrayEnd(dst, idx)
		return dst, err == nil
	case map[string]any:
		idx, dst := bsoncore.AppendDocumentElementStart(dst, key)
		for k, e := range x {
			var ok bool
			if dst, ok = appendAnswer(dst, k, e); !ok {
				return nil, false
			}
		}
		dst, err := bsoncore.AppendDocumentEnd(dst, idx)
		return dst, err == nil
	}
	return nil, false
}

// answersValue is the stored form of a BSON answers document.
func answersValue(doc bson.Raw) bson.RawValue {
	return bson.RawValue{Type: bson.TypeBinary, Value: bsoncore.AppendBinary(nil, 0, doc)}
}

// answersDoc reads stored answers: binary data holding a BSON document, or
// an embedded document.
func answersDoc(v bson.RawValue) (bson.Raw, error) {
	switch v.Type {
	case bson.TypeEmbeddedDocument:
		return v.Document(), nil
	case bson.TypeBinary:
		subtype, data, _, ok := bsoncore.ReadBinary(v.Value)
		if !ok || subtype != 0 {
			return nil, fmt.Errorf("answers are binary data of subtype %d, not a BSON document", subtype)
		}
		raw := bson.Raw(data)
		if err := raw.Validate(); err != nil {
			return nil, err
		}
		return raw, nil
	}
	return nil, fmt.Errorf("answers are a BSON %s, not a document", v.Type)
}

// InsertSubmission implements collector.SubmissionStore: one insert, which
// returns only once the server acknowledged it (write concern majority on a
// replica set).
func (s *Store) InsertSubmission(ctx context.Context, sub dotm.Submission) error {
	d, err := toSubmissionDoc(sub)
	if err != nil {
		return err
	}
	if _, err := s.collection(colSubmissions).InsertOne(ctx, d.marshal()); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return dotm.Errorf(dotm.ECONFLICT, "submission %s exists", sub.ID)
		}
		return unavailable(err, "insert submission "+sub.ID)
	}
	return nil
}

// InsertSubmissions implements collector.SubmissionStore with one unordered
// insertMany.
func (s *Store) InsertSubmissions(ctx context.Context, subs []dotm.Submission) []error {
	errs := make([]error, len(subs))
	docs := make([]any, 0, len(subs))
	idx := make([]int, 0, len(subs))
	for i, sub := range subs {
		d, err := toSubmissionDoc(sub)
		if err != nil {
			errs[i] = err
			continue
		}
		docs = append(docs, d.marshal())
		idx = append(idx, i)
	}
	if len(docs) == 0 {
		return errs
	}
	for j, err := range s.insertMany(ctx, colSubmissions, docs) {
		errs[idx[j]] = err
	}
	return errs
}

// Submission implements collector.SubmissionStore.
func (s *Store) Submission(ctx context.Context, id string) (dotm.Submission, error) {
	var d submissionDoc
	if err := s.collection(colSubmissions).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return dotm.Submission{}, notFound(err, "submission "+id)
	}
	return d.submission()
}

// SubmissionAssignment is the assignment of stored submission id (""
// without one), read alone: duplicate detection asks it of the interview
// that first claimed a fingerprint, and needs neither its answers nor
// their decryption.
func (s *Store) SubmissionAssignment(ctx context.Context, id string) (string, error) {
	var d struct {
		AssignmentID string `bson:"assignment_id"`
	}
	opts := options.FindOne().SetProjection(bson.D{{Key: "assignment_id", Value: 1}})
	if err := s.collection(colSubmissions).FindOne(ctx, bson.D{{Key: "_id", Value: id}}, opts).Decode(&d); err != nil {
		return "", notFound(err, "submission "+id)
	}
	return d.AssignmentID, nil
}

// Submissions implements collector.SubmissionStore: on the embedded server
// one indexed SQL query (embedded_query.go), on MongoDB a find that an
// index of mongoIndexes serves in _id order. The answers are not read.
func (s *Store) Submissions(ctx context.Context, f dotm.SubmissionFilter) ([]dotm.Submission, error) {
	if s.sq != nil {
		return s.sq.submissions(ctx, f)
	}
	filter := bson.D{}
	if len(f.Surveys) > 0 {
		filter = append(filter, bson.E{Key: "survey", Value: bson.D{{Key: "$in", Value: f.Surveys}}})
	}
	for _, e := range []bson.E{{Key: "survey", Value: f.Survey}, {Key: "status", Value: string(f.Status)},
		{Key: "enumerator", Value: f.Enumerator}, {Key: "form_id", Value: f.FormID}} {
		if e.Value != "" {
			filter = append(filter, e)
		}
	}
	if f.After != "" {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: f.After}}})
	}
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetProjection(withoutAnswers)
	if f.Limit > 0 {
		opts.SetLimit(int64(f.Limit))
	}
	var docs []submissionDoc
	if err := s.findAll(ctx, colSubmissions, filter, opts, &docs); err != nil {
		return nil, err
	}
	out := make([]dotm.Submission, len(docs))
	for i, d := range docs {
		sub, err := d.submission()
		if err != nil {
			return nil, err
		}
		out[i] = sub
	}
	return out, nil
}

// ReviewSubmission implements collector.SubmissionStore. A submission is
// reviewed once: the decision is first inserted into colDecisions under the
// submission's id, so of two supervisors deciding at once exactly one
// insert succeeds (a compare-and-swap made of a unique key), and only then
// is the submission itself updated by an _id-only filter (a filter on any
// other field makes the embedded server scan the collection). If the process
// dies between the two writes, the next review of the submission finishes
// the first decision's update before it reports the conflict.
func (s *Store) ReviewSubmission(ctx context.Context, id string, r dotm.Review, status dotm.SubmissionStatus) (dotm.Submission, error) {
	sub, err := s.Submission(ctx, id)
	if err != nil {
		return dotm.Submission{}, err
	}
	if sub.Status != dotm.SubmissionReceived {
		return dotm.Submission{}, dotm.Errorf(dotm.ECONFLICT, "submission %s is %s, not waiting for review", id, sub.Status)
	}
	rd := reviewDoc{Decision: r.Decision, Comment: r.Comment, By: r.By, At: r.At.UTC()}
	d := decisionDoc{ID: id, Status: string(status), Review: rd}
	if _, err := s.collection(colDecisions).InsertOne(ctx, d); err != nil {
		if !mongo.IsDuplicateKeyError(err) {
			return dotm.Submission{}, unavailable(err, "review submission "+id)
		}
		// Decided concurrently, or a decision whose update was lost: apply it.
		var first decisionDoc
		if err := s.collection(colDecisions).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&first); err != nil {
			return dotm.Submission{}, unavailable(err, "read decision on "+id)
		}
		if err := s.applyDecision(ctx, first); err != nil {
			return dotm.Submission{}, err
		}
		return dotm.Submission{}, dotm.Errorf(dotm.ECONFLICT, "submission %s was reviewed by %s meanwhile", id, first.Review.By)
	}
	if err := s.applyDecision(ctx, d); err != nil {
		return dotm.Submission{}, err
	}
	sub.Status = status
	sub.Reviews = append(sub.Reviews, dotm.Review(rd))
	return sub, nil
}

// colDecisions holds one review decision per submission, keyed by its id.
const colDecisions = "review_decisions"

type decisionDoc struct {
	ID     string    `bson:"_id"`
	Status string    `bson:"status"`
	Review reviewDoc `bson:"review"`
}

// applyDecision writes a decision into its submission; idempotent.
func (s *Store) applyDecision(ctx context.Context, d decisionDoc) error {
	var cur struct {
		Status string `bson:"status"`
	}
	if err := s.collection(colSubmissions).FindOne(ctx, bson.D{{Key: "_id", Value: d.ID}}).Decode(&cur); err != nil {
		return notFound(err, "submission "+d.ID)
	}
	if cur.Status == d.Status {
		return nil
	}
	_, err := s.collection(colSubmissions).UpdateOne(ctx, bson.D{{Key: "_id", Value: d.ID}}, bson.D{
		{Key: "$set", Value: bson.D{{Key: "status", Value: d.Status}}},
		{Key: "$push", Value: bson.D{{Key: "reviews", Value: d.Review}}},
	})
	if err != nil {
		return unavailable(err, "review submission "+d.ID)
	}
	return nil
}

// colCorrections records, per corrected submission, the one submission that
// corrects it, keyed by the corrected submission's id.
const colCorrections = "corrections"

// MarkSuperseded implements collector.SubmissionStore; it is idempotent and
// refuses to point a submission at a second correction. The claim is an
// insert keyed by the corrected id (one correction wins), then an _id-only
// update of the corrected submission.
func (s *Store) MarkSuperseded(ctx context.Context, id, newID string) error {
	if _, err := s.collection(colCorrections).InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "by", Value: newID}}); err != nil {
		if !mongo.IsDuplicateKeyError(err) {
			return unavailable(err, "mark submission "+id+" superseded")
		}
		var c struct {
			By string `bson:"by"`
		}
		if err := s.collection(colCorrections).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&c); err != nil {
			return unavailable(err, "read correction of "+id)
		}
		if c.By != newID {
			return dotm.Errorf(dotm.ECONFLICT, "submission %s is already corrected by another submission", id)
		}
	}
	res, err := s.collection(colSubmissions).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "superseded_by", Value: newID}}}})
	if err != nil {
		return unavailable(err, "mark submission "+id+" superseded")
	}
	if res.MatchedCount == 0 {
		return dotm.Errorf(dotm.ENOTFOUND, "submission %s not found", id)
	}
	return nil
}

// SealedSubmissions implements collector.Resealer. It reads the key ids of
// every submission first and then each stale submission by id, so that a
// long rotation holds no cursor open.
func (s *Store) SealedSubmissions(ctx context.Context, keep string, fn func(id string, sealed []dotm.SealedValue) error) error {
	var docs []keyIDsDoc
	if err := s.findAll(ctx, colSubmissions, bson.D{}, options.Find().SetProjection(bson.D{{Key: "sealed.k", Value: 1}}), &docs); err != nil {
		return err
	}
	for _, d := range docs {
		stale := false
		for _, v := range d.Sealed {
			stale = stale || v.KeyID != keep
		}
		if !stale {
			continue
		}
		var full submissionDoc
		if err := s.collection(colSubmissions).FindOne(ctx, bson.D{{Key: "_id", Value: d.ID}}).Decode(&full); err != nil {
			return notFound(err, "submission "+d.ID)
		}
		sealed := make([]dotm.SealedValue, len(full.Sealed))
		for i, v := range full.Sealed {
			sealed[i] = dotm.SealedValue{Path: v.Path, KeyID: v.KeyID, Nonce: v.Nonce, Ciphertext: v.Data}
		}
		if err := fn(full.ID, sealed); err != nil {
			return err
		}
	}
	return nil
}

// keyIDsDoc is a submission projected to the key ids of its sealed values.
type keyIDsDoc struct {
	ID     string      `bson:"_id"`
	Sealed []sealedDoc `bson:"sealed"`
}

// Reseal implements collector.Resealer: it replaces the sealed values of
// submission id.
func (s *Store) Reseal(ctx context.Context, id string, sealed []dotm.SealedValue) error {
	docs := make([]sealedDoc, len(sealed))
	for i, v := range sealed {
		docs[i] = sealedDoc{Path: v.Path, KeyID: v.KeyID, Nonce: v.Nonce, Data: v.Ciphertext}
	}
	res, err := s.collection(colSubmissions).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: "sealed", Value: docs}}}})
	if err != nil {
		return unavailable(err, "reseal submission "+id)
	}
	if res.MatchedCount == 0 {
		return dotm.Errorf(dotm.ENOTFOUND, "submission %s not found", id)
	}
	return nil
}

// KeyUse counts the stored encrypted values per key id (sealed answers,
// attachments' keys and the ODK private keys), so that a key is retired
// only once nothing needs it.
func (s *Store) KeyUse(ctx context.Context) (map[string]int, error) {
	var docs []keyIDsDoc
	if err := s.findAll(ctx, colSubmissions, bson.D{}, options.Find().SetProjection(bson.D{{Key: "sealed.k", Value: 1}}), &docs); err != nil {
		return nil, err
	}
	n := map[string]int{}
	for _, d := range docs {
		for _, v := range d.Sealed {
			n[v.KeyID]++
		}
	}
	if err := s.attachmentKeyUse(ctx, n); err != nil {
		return nil, err
	}
	keys, err := s.AllODKKeys(ctx) // the sealed ODK private keys need their data key too
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		n[k.Private.KeyID]++
	}
	return n, nil
}

// plainDoc decodes a BSON document into plain Go values: map[string]any,
// []any, string, float64, int64, bool, time.Time and nil, as the collector
// and the questionnaire expect them.
func plainDoc(raw bson.Raw) (map[string]any, error) {
	elems, err := raw.Elements()
	if err != nil {
		return nil, err
	}
	m := make(map[string]any, len(elems))
	for _, e := range elems {
		v, err := plainValue(e.Value())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Key(), err)
		}
		m[e.Key()] = v
	}
	return m, nil
}

func plainValue(v bson.RawValue) (any, error) {
	switch v.Type {
	case bson.TypeEmbeddedDocument:
		return plainDoc(v.Document())
	case bson.TypeArray:
		vals, err := v.Array().Values()
		if err != nil {
			return nil, err
		}
		out := make([]any, len(vals))
		for i, x := range vals {
			if out[i], err = plainValue(x); err != nil {
				return nil, err
			}
		}
		return out, nil
	case bson.TypeString:
		return v.StringValue(), nil
	case bson.TypeDouble:
		return v.Double(), nil
	case bson.TypeInt32:
		return int64(v.Int32()), nil
	case bson.TypeInt64:
		return v.Int64(), nil
	case bson.TypeBoolean:
		return v.Boolean(), nil
	case bson.TypeNull, bson.TypeUndefined:
		return nil, nil
	case bson.TypeDateTime:
		return v.Time().UTC(), nil
	default:
		return nil, fmt.Errorf("unexpected BSON type %s", v.Type)
	}
}
