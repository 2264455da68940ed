package mongodb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dotm-survey/dotm"
)

// Collections of the collector's records.
const (
	colSurveys     = "surveys"       // _id: survey id
	colForms       = "form_versions" // _id: form id + "@" + version
	colAssignments = "assignments"   // _id: assignment id
	colSubmissions = "submissions"   // _id: instance id
	colListings    = "listings"      // _id: survey + "/" + PSU
)

type surveyDoc struct {
	ID        string    `bson:"_id"`
	Country   string    `bson:"country"`
	Title     string    `bson:"title"`
	Languages []string  `bson:"languages"`
	CreatedAt time.Time `bson:"created_at"`
	CreatedBy string    `bson:"created_by"`
}

// CreateSurvey implements collector.SurveyStore.
func (s *Store) CreateSurvey(ctx context.Context, sv dotm.Survey) error {
	if sv.Languages == nil {
		sv.Languages = []string{}
	}
	doc := surveyDoc{ID: sv.ID, Country: sv.Country, Title: sv.Title, Languages: sv.Languages, CreatedAt: sv.CreatedAt.UTC(), CreatedBy: sv.CreatedBy}
	if _, err := s.collection(colSurveys).InsertOne(ctx, doc); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return dotm.Errorf(dotm.ECONFLICT, "survey %q exists", sv.ID)
		}
		return unavailable(err, "create survey "+sv.ID)
	}
	return nil
}

func (d surveyDoc) survey() dotm.Survey {
	return dotm.Survey{ID: d.ID, Country: d.Country, Title: d.Title, Languages: d.Languages, CreatedAt: d.CreatedAt, CreatedBy: d.CreatedBy}
}

// Survey implements collector.SurveyStore.
func (s *Store) Survey(ctx context.Context, id string) (dotm.Survey, error) {
	var d surveyDoc
	if err := s.collection(colSurveys).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return dotm.Survey{}, notFound(err, "survey "+id)
	}
	return d.survey(), nil
}

// Surveys implements collector.SurveyStore.
func (s *Store) Surveys(ctx context.Context) ([]dotm.Survey, error) {
	var docs []surveyDoc
	if err := s.findAll(ctx, colSurveys, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}), &docs); err != nil {
		return nil, err
	}
	out := make([]dotm.Survey, len(docs))
	for i, d := range docs {
		out[i] = d.survey()
	}
	return out, nil
}

type formDoc struct {
	ID         string    `bson:"_id"`
	FormID     string    `bson:"form_id"`
	Version    string    `bson:"version"`
	Survey     string    `bson:"survey"`
	Title      string    `bson:"title"`
	Format     string    `bson:"format"`
	JSON       []byte    `bson:"json"`
	ETag       string    `bson:"etag"`
	UploadedAt time.Time `bson:"uploaded_at"`
	UploadedBy string    `bson:"uploaded_by"`
	// Media live in the version's document: a version and its files are
	// written at once and never change (at most
	// questionnaire.MaxMediaBytes, under the 16 MiB document limit).
	Media   []mediaDoc `bson:"media,omitempty"`
	Missing []string   `bson:"missing_media,omitempty"`
}

type mediaDoc struct {
	Name        string `bson:"name"`
	ContentType string `bson:"content_type"`
	MD5         string `bson:"md5"`
	Size        int    `bson:"size"`
	Data        []byte `bson:"data,omitempty"`
}

func (d formDoc) version() dotm.FormVersion {
	v := dotm.FormVersion{FormID: d.FormID, Version: d.Version, Survey: d.Survey, Title: d.Title, Format: d.Format,
		JSON: d.JSON, ETag: d.ETag, UploadedAt: d.UploadedAt, UploadedBy: d.UploadedBy, MissingMedia: d.Missing}
	for _, m := range d.Media {
		v.Media = append(v.Media, dotm.MediaFile{Name: m.Name, ContentType: m.ContentType, MD5: m.MD5, Size: m.Size, Data: m.Data})
	}
	return v
}

// AddFormVersion implements collector.FormStore.
func (s *Store) AddFormVersion(ctx context.Context, v dotm.FormVersion) error {
	doc := formDoc{ID: v.FormID + "@" + v.Version, FormID: v.FormID, Version: v.Version, Survey: v.Survey, Title: v.Title,
		Format: v.Format, JSON: v.JSON, ETag: v.ETag, UploadedAt: v.UploadedAt.UTC(), UploadedBy: v.UploadedBy, Missing: v.MissingMedia}
	for _, m := range v.Media {
		doc.Media = append(doc.Media, mediaDoc{Name: m.Name, ContentType: m.ContentType, MD5: m.MD5, Size: m.Size, Data: m.Data})
	}
	if _, err := s.collection(colForms).InsertOne(ctx, doc); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return dotm.Errorf(dotm.ECONFLICT, "form %s version %s exists", v.FormID, v.Version)
		}
		return unavailable(err, "add form "+v.FormID)
	}
	return nil
}

// FormVersion implements collector.FormStore.
func (s *Store) FormVersion(ctx context.Context, formID, version string) (dotm.FormVersion, error) {
	var d formDoc
	if err := s.collection(colForms).FindOne(ctx, bson.D{{Key: "_id", Value: formID + "@" + version}}).Decode(&d); err != nil {
		return dotm.FormVersion{}, notFound(err, "form "+formID+" version "+version)
	}
	return d.version(), nil
}

// FormVersions implements collector.FormStore; the versions' media come
// without their data. Forms are few: the filter
// scans the collection, which the embedded server does for any non-_id field.
func (s *Store) FormVersions(ctx context.Context, formID, survey string) ([]dotm.FormVersion, error) {
	filter := bson.D{}
	if formID != "" {
		filter = append(filter, bson.E{Key: "form_id", Value: formID})
	}
	if survey != "" {
		filter = append(filter, bson.E{Key: "survey", Value: survey})
	}
	var docs []formDoc
	// The listing leaves the media's bytes out (FormVersion has them).
	if err := s.findAll(ctx, colForms, filter, options.Find().SetProjection(bson.D{{Key: "media.data", Value: 0}}), &docs); err != nil {
		return nil, err
	}
	// Sorted here rather than by the server: the embedded one sorts in memory anyway.
	slices.SortStableFunc(docs, func(a, b formDoc) int {
		if c := a.UploadedAt.Compare(b.UploadedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	out := make([]dotm.FormVersion, len(docs))
	for i, d := range docs {
		out[i] = d.version()
	}
	return out, nil
}

type assignmentDoc struct {
	ID           string    `bson:"_id"`
	Survey       string    `bson:"survey"`
	Enumerator   string    `bson:"enumerator"`
	Supervisor   string    `bson:"supervisor"`
	HouseholdID  string    `bson:"household_id"`
	Stratum      string    `bson:"stratum"`
	PSU          string    `bson:"psu"`
	FormID       string    `bson:"form_id"`
	Status       string    `bson:"status"`
	Comment      string    `bson:"comment"`
	SubmissionID string    `bson:"submission_id"`
	CreatedAt    time.Time `bson:"created_at"`
	UpdatedAt    time.Time `bson:"updated_at"`
	// Seq stamps the insert (progress_view.go); 0 if stored before seq
	// was kept.
	Seq int64 `bson:"seq,omitempty"`
}

func (d assignmentDoc) assignment() dotm.Assignment {
	return dotm.Assignment{ID: d.ID, Survey: d.Survey, Enumerator: d.Enumerator, Supervisor: d.Supervisor,
		HouseholdID: d.HouseholdID, Stratum: d.Stratum, PSU: d.PSU, FormID: d.FormID, Status: dotm.AssignmentStatus(d.Status),
		Comment: d.Comment, SubmissionID: d.SubmissionID, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
}

// AddAssignments implements collector.AssignmentStore with one unordered
// insertMany: new ids are stored even when others already exist. The
// sampling step calls it to create a whole sample's assignments.
func (s *Store) AddAssignments(ctx context.Context, as []dotm.Assignment) error {
	if len(as) == 0 {
		return nil
	}
	docs := make([]any, len(as))
	for i, a := range as {
		if a.Status == "" {
			a.Status = dotm.AssignmentAssigned
		}
		docs[i] = assignmentDoc{ID: a.ID, Survey: a.Survey, Enumerator: a.Enumerator, Supervisor: a.Supervisor,
			HouseholdID: a.HouseholdID, Stratum: a.Stratum, PSU: a.PSU, FormID: a.FormID, Status: string(a.Status),
			Comment: a.Comment, SubmissionID: a.SubmissionID, CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC(), Seq: nextTallySeq()}
	}
	errs := s.insertMany(ctx, colAssignments, docs)
	var dups []string
	for i, err := range errs {
		switch {
		case err == nil:
		case dotm.ErrorCode(err) == dotm.ECONFLICT:
			dups = append(dups, as[i].ID)
		default:
			return fmt.Errorf("add assignment %s: %w", as[i].ID, err)
		}
	}
	if len(dups) > 0 {
		return dotm.Errorf(dotm.ECONFLICT, "%d assignment id(s) exist already: %s", len(dups), strings.Join(firstN(dups, 20), ", "))
	}
	return nil
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(slices.Clone(s[:n]), "…")
	}
	return s
}

// An assignment's status changes are not updates of its document: the
// embedded server rewrites by scanning the whole collection, which made each
// move cost O(assignments). Each move is instead an insert into
// colAssignmentMoves with _id "<assignment id>#<n>" (n = 1, 2, …): the
// current state is the highest n, read by _id lookups, and two concurrent
// moves from the same state race for the same _id, so exactly one wins
// (a compare-and-swap made of a unique key).
const colAssignmentMoves = "assignment_moves"

type moveDoc struct {
	ID           string    `bson:"_id"`
	Assignment   string    `bson:"assignment"`
	Survey       string    `bson:"survey"`
	Seq          int       `bson:"seq"`
	Status       string    `bson:"status"`
	Comment      string    `bson:"comment"`
	SubmissionID string    `bson:"submission_id"`
	At           time.Time `bson:"at"`
}

func moveID(assignment string, seq int) string { return assignment + "#" + strconv.Itoa(seq) }

func (m moveDoc) apply(a *dotm.Assignment) {
	a.Status = dotm.AssignmentStatus(m.Status)
	a.Comment = m.Comment
	if m.SubmissionID != "" {
		a.SubmissionID = m.SubmissionID
	}
	a.UpdatedAt = m.At
}

// assignment finds an assignment in its current state and the number of
// moves it has made.
func (s *Store) assignment(ctx context.Context, id string) (dotm.Assignment, int, error) {
	var d assignmentDoc
	if err := s.collection(colAssignments).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return dotm.Assignment{}, 0, notFound(err, "assignment "+id)
	}
	a := d.assignment()
	seq := 0
	for {
		var m moveDoc
		err := s.collection(colAssignmentMoves).FindOne(ctx, bson.D{{Key: "_id", Value: moveID(id, seq+1)}}).Decode(&m)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return a, seq, nil
		}
		if err != nil {
			return dotm.Assignment{}, 0, unavailable(err, "find moves of assignment "+id)
		}
		m.apply(&a)
		seq++
	}
}

// Assignment implements collector.AssignmentStore.
func (s *Store) Assignment(ctx context.Context, id string) (dotm.Assignment, error) {
	a, _, err := s.assignment(ctx, id)
	return a, err
}

// Assignments implements collector.AssignmentStore: the documents that match
// the survey and enumerator, each brought to its current state by its moves,
// then filtered by status.
//
// With a limit, the documents are read a page at a time in _id order from
// f.After (an index range on either store), until the page holds f.Limit
// assignments of the status asked for or none are left.
func (s *Store) Assignments(ctx context.Context, f dotm.AssignmentFilter) ([]dotm.Assignment, error) {
	if f.Limit <= 0 {
		return s.assignmentsPage(ctx, f)
	}
	out := []dotm.Assignment{}
	for {
		page := f
		page.Status = ""
		all, err := s.assignmentsPage(ctx, page)
		if err != nil {
			return nil, err
		}
		for _, a := range all {
			if (f.Status == "" || a.Status == f.Status) && len(out) < f.Limit {
				out = append(out, a)
			}
		}
		if len(out) == f.Limit || len(all) < f.Limit {
			return out, nil
		}
		f.After = all[len(all)-1].ID
	}
}

// assignmentsPage is Assignments of one read: up to f.Limit documents
// (all when 0) after f.After, filtered by status afterwards.
func (s *Store) assignmentsPage(ctx context.Context, f dotm.AssignmentFilter) ([]dotm.Assignment, error) {
	docs, moves, err := s.assignmentDocs(ctx, f)
	if err != nil {
		return nil, err
	}
	if len(docs) == 0 {
		return []dotm.Assignment{}, nil
	}
	last := map[string]moveDoc{}
	lastSub := map[string]moveDoc{} // the latest move that named a submission
	for _, m := range moves {
		if cur, ok := last[m.Assignment]; !ok || m.Seq > cur.Seq {
			last[m.Assignment] = m
		}
		if cur, ok := lastSub[m.Assignment]; m.SubmissionID != "" && (!ok || m.Seq > cur.Seq) {
			lastSub[m.Assignment] = m
		}
	}
	out := make([]dotm.Assignment, 0, len(docs))
	for _, d := range docs {
		a := d.assignment()
		if m, ok := last[d.ID]; ok {
			a.SubmissionID = lastSub[d.ID].SubmissionID
			m.apply(&a)
		}
		if f.Status != "" && a.Status != f.Status {
			continue
		}
		out = append(out, a)
	}
	return out, nil
}

// moveBatch is the most assignment ids one find of their moves names.
const moveBatch = 1000

// assignmentDocs reads the assignment documents that match f's survey(s)
// and enumerator, in _id order, and moves including theirs: on the
// embedded server with indexed SQL queries; on MongoDB with finds served
// by mongoIndexes (the moves by assignment id, in batches, when there are
// few assignments, else those of the survey).
func (s *Store) assignmentDocs(ctx context.Context, f dotm.AssignmentFilter) ([]assignmentDoc, []moveDoc, error) {
	if s.sq != nil {
		return s.sq.assignments(ctx, f)
	}
	filter := bson.D{}
	if len(f.Surveys) > 0 {
		filter = append(filter, bson.E{Key: "survey", Value: bson.D{{Key: "$in", Value: f.Surveys}}})
	}
	for _, e := range []bson.E{{Key: "survey", Value: f.Survey}, {Key: "enumerator", Value: f.Enumerator}} {
		if e.Value != "" {
			filter = append(filter, e)
		}
	}
	if f.After != "" {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: f.After}}})
	}
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}})
	if f.Limit > 0 {
		opts.SetLimit(int64(f.Limit))
	}
	var docs []assignmentDoc
	if err := s.findAll(ctx, colAssignments, filter, opts, &docs); err != nil {
		return nil, nil, err
	}
	if len(docs) == 0 {
		return nil, nil, nil
	}
	var moves []moveDoc
	if (len(docs) <= 10*moveBatch && !s.shared) || f.Limit > 0 { // a borrowed embedded server would scan once per batch
		for start := 0; start < len(docs); start += moveBatch {
			ids := make([]string, 0, moveBatch)
			for _, d := range docs[start:min(start+moveBatch, len(docs))] {
				ids = append(ids, d.ID)
			}
			var batch []moveDoc
			if err := s.findAll(ctx, colAssignmentMoves, bson.D{{Key: "assignment", Value: bson.D{{Key: "$in", Value: ids}}}}, nil, &batch); err != nil {
				return nil, nil, err
			}
			moves = append(moves, batch...)
		}
		return docs, moves, nil
	}
	moveFilter := bson.D{}
	if f.Survey != "" {
		moveFilter = bson.D{{Key: "survey", Value: f.Survey}}
	} else if len(f.Surveys) > 0 {
		moveFilter = bson.D{{Key: "survey", Value: bson.D{{Key: "$in", Value: f.Surveys}}}}
	}
	if err := s.findAll(ctx, colAssignmentMoves, moveFilter, nil, &moves); err != nil {
		return nil, nil, err
	}
	return docs, moves, nil
}

// MoveAssignment implements collector.AssignmentStore: it reads the current
// state and inserts the next move; a concurrent move from the same state
// takes the same _id first and this one is an ECONFLICT.
func (s *Store) MoveAssignment(ctx context.Context, id string, from []dotm.AssignmentStatus, to dotm.AssignmentStatus, submissionID, comment string) error {
	a, seq, err := s.assignment(ctx, id)
	if err != nil {
		return err
	}
	if !slices.Contains(from, a.Status) {
		fromS := make([]string, len(from))
		for i, f := range from {
			fromS[i] = string(f)
		}
		return dotm.Errorf(dotm.ECONFLICT, "assignment %s is %s, not %s", id, a.Status, strings.Join(fromS, " or "))
	}
	m := moveDoc{ID: moveID(id, seq+1), Assignment: id, Survey: a.Survey, Seq: seq + 1, Status: string(to), Comment: comment,
		SubmissionID: submissionID, At: time.Now().UTC()}
	if _, err := s.collection(colAssignmentMoves).InsertOne(ctx, m); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return dotm.Errorf(dotm.ECONFLICT, "assignment %s changed at the same time; try again", id)
		}
		return unavailable(err, "move assignment "+id)
	}
	return nil
}

type listingDoc struct {
	ID          string         `bson:"_id"`
	Survey      string         `bson:"survey"`
	PSU         string         `bson:"psu"`
	Stratum     string         `bson:"stratum"`
	Households  []listedHHDoc  `bson:"households"`
	SubmittedBy string         `bson:"submitted_by"`
	SubmittedAt time.Time      `bson:"submitted_at"`
	Revision    int            `bson:"revision"`
	History     []listingEvent `bson:"history"`
	// Counts is the households by class, "class=n,…" (classCounts), for
	// the progress summary; absent in listings stored before it.
	Counts string `bson:"class_counts,omitempty"`
}

type listedHHDoc struct {
	ID    string `bson:"id"`
	Class string `bson:"class"`
}

type listingEvent struct {
	Revision   int       `bson:"revision"`
	By         string    `bson:"by"`
	At         time.Time `bson:"at"`
	Households int       `bson:"households"`
}

// PutListing implements collector.ListingStore. The listing of a PSU is one
// document keyed by survey and PSU; a correction replaces it, guarded by the
// revision it read, and keeps a short history of who listed when.
func (s *Store) PutListing(ctx context.Context, l dotm.Listing, ifRevision int) (int, error) {
	id := l.Survey + "/" + l.PSU
	hh := make([]listedHHDoc, len(l.Households))
	for i, h := range l.Households {
		hh[i] = listedHHDoc{ID: h.HouseholdID, Class: string(h.Class)}
	}
	for attempt := 0; attempt < 5; attempt++ {
		var old listingDoc
		err := s.collection(colListings).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&old)
		if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
			return 0, unavailable(err, "read listing "+id)
		}
		if ifRevision != dotm.AnyRevision && old.Revision != ifRevision {
			return 0, dotm.Errorf(dotm.ECONFLICT, "the listing of PSU %s changed while this one was sent (now revision %d by %s); read it again before replacing it", l.PSU, old.Revision, old.SubmittedBy)
		}
		doc := listingDoc{ID: id, Survey: l.Survey, PSU: l.PSU, Stratum: l.Stratum, Households: hh,
			SubmittedBy: l.SubmittedBy, SubmittedAt: l.SubmittedAt.UTC(), Revision: old.Revision + 1, Counts: listedCounts(hh)}
		doc.History = append(old.History, listingEvent{Revision: doc.Revision, By: l.SubmittedBy, At: doc.SubmittedAt, Households: len(hh)})
		if old.Revision == 0 {
			if _, err := s.collection(colListings).InsertOne(ctx, doc); err != nil {
				if mongo.IsDuplicateKeyError(err) {
					continue // listed concurrently: read again (and check ifRevision)
				}
				return 0, unavailable(err, "store listing "+id)
			}
			return doc.Revision, nil
		}
		// The first to claim the next revision writes it (claims.go: a
		// filtered ReplaceOne is no compare-and-swap on the embedded server).
		claimID := "listing/" + id + "#" + strconv.Itoa(doc.Revision)
		won, err := s.claim(ctx, claimID, l.SubmittedBy)
		if err != nil {
			return 0, unavailable(err, "store listing "+id)
		}
		if !won {
			continue // another correction got there first: read it again
		}
		if _, err := s.collection(colListings).ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, doc); err != nil {
			s.unclaim(ctx, claimID, l.SubmittedBy)
			return 0, unavailable(err, "store listing "+id)
		}
		return doc.Revision, nil
	}
	return 0, dotm.Errorf(dotm.ECONFLICT, "listing of PSU %s changed concurrently; try again", l.PSU)
}

// Listings implements collector.ListingStore.
// On the embedded server it is one indexed SQL query (embedded_query.go).
func (s *Store) Listings(ctx context.Context, survey string) ([]dotm.Listing, error) {
	var docs []listingDoc
	if s.sq != nil {
		var err error
		if docs, err = s.sq.listings(ctx, survey); err != nil {
			return nil, err
		}
	} else if err := s.findAll(ctx, colListings, bson.D{{Key: "survey", Value: survey}}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}), &docs); err != nil {
		return nil, err
	}
	out := make([]dotm.Listing, len(docs))
	for i, d := range docs {
		hh := make([]dotm.ListedHousehold, len(d.Households))
		for j, h := range d.Households {
			hh[j] = dotm.ListedHousehold{HouseholdID: h.ID, Class: dotm.HouseholdClass(h.Class)}
		}
		out[i] = dotm.Listing{Survey: d.Survey, PSU: d.PSU, Stratum: d.Stratum, Households: hh,
			SubmittedBy: d.SubmittedBy, SubmittedAt: d.SubmittedAt, Revision: d.Revision}
		if len(d.History) > 0 {
			out[i].ListedBy = d.History[0].By
		}
	}
	return out, nil
}

type auditDoc struct {
	ID     bson.ObjectID `bson:"_id"`
	Time   time.Time     `bson:"time"`
	Actor  string        `bson:"actor"`
	Role   string        `bson:"role"`
	Action string        `bson:"action"`
	Survey string        `bson:"survey"`
	Target string        `bson:"target"`
	Detail string        `bson:"detail"`
}

// AuditEntries implements collector.AuditLog: on the embedded server one
// indexed SQL query (embedded_query.go), on MongoDB a find that an index of
// mongoIndexes serves newest first, from the page's start.
func (s *Store) AuditEntries(ctx context.Context, f dotm.AuditFilter) ([]dotm.AuditEntry, error) {
	if s.sq != nil {
		return s.sq.audit(ctx, f)
	}
	filter := bson.D{}
	for _, e := range []bson.E{{Key: "action", Value: f.Action}, {Key: "actor", Value: f.Actor}, {Key: "survey", Value: f.Survey}} {
		if e.Value != "" {
			filter = append(filter, e)
		}
	}
	if len(f.Surveys) > 0 {
		filter = append(filter, bson.E{Key: "survey", Value: bson.D{{Key: "$in", Value: f.Surveys}}})
	}
	switch {
	case f.BeforeID != "":
		oid, err := bson.ObjectIDFromHex(f.BeforeID)
		if err != nil {
			return nil, dotm.Errorf(dotm.EINVALID, "before_id: not an audit entry id")
		}
		// (time, _id) < (Before, BeforeID) in the listing's order; the
		// bound on time alone lets the index start the scan there.
		filter = append(filter, bson.E{Key: "time", Value: bson.D{{Key: "$lte", Value: f.Before.UTC()}}},
			bson.E{Key: "$or", Value: bson.A{
				bson.D{{Key: "time", Value: bson.D{{Key: "$lt", Value: f.Before.UTC()}}}},
				bson.D{{Key: "_id", Value: bson.D{{Key: "$lt", Value: oid}}}},
			}})
	case !f.Before.IsZero():
		filter = append(filter, bson.E{Key: "time", Value: bson.D{{Key: "$lt", Value: f.Before.UTC()}}})
	}
	opts := options.Find().SetSort(bson.D{{Key: "time", Value: -1}, {Key: "_id", Value: -1}})
	if f.Limit > 0 {
		opts.SetLimit(int64(f.Limit))
	}
	var docs []auditDoc
	if err := s.findAll(ctx, colAudit, filter, opts, &docs); err != nil {
		return nil, err
	}
	out := make([]dotm.AuditEntry, len(docs))
	for i, d := range docs {
		out[i] = dotm.AuditEntry{ID: d.ID.Hex(), Time: d.Time, Actor: d.Actor, Role: dotm.Role(d.Role), Action: d.Action, Survey: d.Survey, Target: d.Target, Detail: d.Detail}
	}
	return out, nil
}

// findAll runs a find and decodes every document into out (a *[]T).
func (s *Store) findAll(ctx context.Context, col string, filter any, opts *options.FindOptionsBuilder, out any) error {
	var cur *mongo.Cursor
	var err error
	if opts != nil {
		cur, err = s.collection(col).Find(ctx, filter, opts)
	} else {
		cur, err = s.collection(col).Find(ctx, filter)
	}
	if err != nil {
		return unavailable(err, "find in "+col)
	}
	if err := cur.All(ctx, out); err != nil {
		return unavailable(err, "read "+col)
	}
	return nil
}

// insertMany inserts docs unordered in one round trip and returns one error
// per document: nil, an ECONFLICT for a duplicate _id, or the cause.
func (s *Store) insertMany(ctx context.Context, col string, docs []any) []error {
	errs := make([]error, len(docs))
	_, err := s.collection(col).InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err == nil {
		return errs
	}
	var bwe mongo.BulkWriteException
	if errors.As(err, &bwe) && bwe.WriteConcernError == nil && len(bwe.WriteErrors) > 0 {
		for _, we := range bwe.WriteErrors {
			if we.Index < 0 || we.Index >= len(docs) {
				continue
			}
			if we.Code == 11000 || we.Code == 11001 || we.Code == 12582 {
				errs[we.Index] = dotm.Errorf(dotm.ECONFLICT, "duplicate id")
			} else {
				errs[we.Index] = fmt.Errorf("mongodb: insert into %s: %s (code %d)", col, we.Message, we.Code)
			}
		}
		return errs
	}
	// Nothing tells which documents were written: report every one as failed;
	// callers retry, and the retry finds the written ones as duplicates.
	e := unavailable(err, "insert into "+col)
	for i := range errs {
		errs[i] = e
	}
	return errs
}

// Database is the name of the database the store uses.
func (s *Store) Database() string { return s.db.Name() }
