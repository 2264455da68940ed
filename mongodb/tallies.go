package mongodb

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dotm-survey/dotm"
)

const (
	colTallies      = "tallies"      // _id: submission id
	colFingerprints = "fingerprints" // _id: survey + "/" + kind + "/" + keyed hash
)

// tallyDoc is one submission's tally (dotm.Tally): a few hundred bytes,
// so that the progress summary of a survey of 20,000 interviews reads a
// few megabytes and never the answers. What a tally's submission does not
// change after receipt is packed in one string, Row (packRow), so that the
// summary reads six values per tally: on the embedded store every one is
// in the index (tallyIndexFields), which covers the summary's query.
type tallyDoc struct {
	ID         string `bson:"_id"`
	Survey     string `bson:"survey"`
	PSU        string `bson:"psu"`
	Status     string `bson:"status"`
	Superseded bool   `bson:"superseded"`
	GPS        bool   `bson:"gps"`
	Row        string `bson:"row"`
	Seq        int64  `bson:"seq,omitempty"` // when written (tallies_view.go); 0 if before seq was kept
}

// The packed fields of a tally, in order, separated by rowSep; lists
// inside are separated by commas.
const rowSep = "\x1f"

func packRow(t dotm.Tally) string {
	ages := make([]string, len(t.Ages))
	for i, a := range t.Ages {
		ages[i] = strconv.Itoa(a)
	}
	f := strconv.FormatFloat
	return strings.Join([]string{t.Enumerator, t.Assignment, t.Stratum, t.HouseholdID, string(t.Class), strconv.FormatBool(t.Refused), t.Day,
		strconv.Itoa(t.Seconds), strings.Join(t.Flags, ","), f(t.Lat, 'g', -1, 64), f(t.Lon, 'g', -1, 64), strings.Join(ages, ","),
		strconv.Itoa(t.Amounts), strconv.Itoa(t.RoundAmount)}, rowSep)
}

func (d tallyDoc) tally() (dotm.Tally, error) {
	t := dotm.Tally{ID: d.ID, Survey: d.Survey, PSU: d.PSU, Status: dotm.SubmissionStatus(d.Status), Superseded: d.Superseded, HasGPS: d.GPS}
	f := strings.Split(d.Row, rowSep)
	if len(f) != 14 {
		return t, fmt.Errorf("mongodb: tally %s: %d packed fields, want 14", d.ID, len(f))
	}
	t.Enumerator, t.Assignment, t.Stratum, t.HouseholdID, t.Class, t.Day = f[0], f[1], f[2], f[3], dotm.HouseholdClass(f[4]), f[6]
	t.Refused = f[5] == "true"
	var errs [6]error
	t.Seconds, errs[0] = strconv.Atoi(f[7])
	if f[8] != "" {
		t.Flags = strings.Split(f[8], ",")
	}
	t.Lat, errs[1] = strconv.ParseFloat(f[9], 64)
	t.Lon, errs[2] = strconv.ParseFloat(f[10], 64)
	if f[11] != "" {
		for _, a := range strings.Split(f[11], ",") {
			n, err := strconv.Atoi(a)
			if err != nil {
				errs[3] = err
			}
			t.Ages = append(t.Ages, n)
		}
	}
	t.Amounts, errs[4] = strconv.Atoi(f[12])
	t.RoundAmount, errs[5] = strconv.Atoi(f[13])
	for _, err := range errs {
		if err != nil {
			return t, fmt.Errorf("mongodb: tally %s: %w", d.ID, err)
		}
	}
	return t, nil
}

// PutTally implements dotm.TallyStore: one replace by _id, inserting the
// first time.
func (s *Store) PutTally(ctx context.Context, t dotm.Tally) error {
	d := tallyDoc{ID: t.ID, Survey: t.Survey, PSU: t.PSU, Status: string(t.Status), Superseded: t.Superseded, GPS: t.HasGPS, Row: packRow(t), Seq: nextTallySeq()}
	_, err := s.collection(colTallies).ReplaceOne(ctx, bson.D{{Key: "_id", Value: t.ID}}, d, options.Replace().SetUpsert(true))
	return unavailable(err, "store tally "+t.ID)
}

func (s *Store) setTally(ctx context.Context, id string, set bson.D) error {
	set = append(set, bson.E{Key: "seq", Value: nextTallySeq()})
	res, err := s.collection(colTallies).UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: set}})
	if err != nil {
		return unavailable(err, "update tally "+id)
	}
	if res.MatchedCount == 0 {
		return dotm.Errorf(dotm.ENOTFOUND, "no tally of submission %s", id)
	}
	return nil
}

// SetTallyStatus implements dotm.TallyStore.
func (s *Store) SetTallyStatus(ctx context.Context, id string, status dotm.SubmissionStatus) error {
	return s.setTally(ctx, id, bson.D{{Key: "status", Value: string(status)}})
}

// SupersedeTally implements dotm.TallyStore.
func (s *Store) SupersedeTally(ctx context.Context, id string) error {
	return s.setTally(ctx, id, bson.D{{Key: "superseded", Value: true}})
}

// Tallies implements dotm.TallyStore: on the embedded store one SQL query
// on the (survey, psu, _id) index; on MongoDB a find on the same index.
//
// A whole survey's tallies (the progress summary) come from the survey's
// view in memory, refreshed from the store first (tallies_view.go).
func (s *Store) Tallies(ctx context.Context, f dotm.TallyFilter) ([]dotm.Tally, error) {
	if f.PSU == "" && !f.GPS && !s.noTallyView {
		return s.surveyTallies(ctx, f.Survey)
	}
	docs, err := s.tallyDocs(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]dotm.Tally, len(docs))
	for i, d := range docs {
		var err error
		if out[i], err = d.tally(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// tallyDocs reads the tallies f selects from the store, by id.
func (s *Store) tallyDocs(ctx context.Context, f dotm.TallyFilter) ([]tallyDoc, error) {
	var docs []tallyDoc
	if s.sq != nil {
		var err error
		if docs, err = s.sq.tallies(ctx, f); err != nil {
			return nil, err
		}
	} else {
		filter := bson.D{{Key: "survey", Value: f.Survey}}
		if f.PSU != "" {
			filter = append(filter, bson.E{Key: "psu", Value: f.PSU})
		}
		if f.GPS {
			filter = append(filter, bson.E{Key: "gps", Value: true})
		}
		if err := s.findAll(ctx, colTallies, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}), &docs); err != nil {
			return nil, err
		}
	}
	return docs, nil
}

// tallyIndexFields are the fields of the tallies' index, in order: the
// filters first, then every field the summary reads, so that the index
// covers the query and SQLite never reads (and parses) the documents.
var tallyIndexFields = []string{"survey", "psu", "_id", "status", "superseded", "gps", "row"}

var tallyFields = selectFields("_id", "survey", "psu", "status", "superseded", "gps", "row")

// tallies answers Store.Tallies on the embedded store.
func (e *embeddedSQL) tallies(ctx context.Context, f dotm.TallyFilter) ([]tallyDoc, error) {
	table, indexedBy, err := e.table(ctx, colTallies, "survey_psu")
	if err != nil || table == "" {
		return nil, err
	}
	var w where
	w.eq("survey", f.Survey)
	if f.PSU != "" {
		w.eq("psu", f.PSU)
	}
	if f.GPS {
		w.add(sjsonField("gps") + " = 1")
	}
	// In the index's order (survey, psu, _id); sorted by id in Go.
	q := fmt.Sprintf(`SELECT %s FROM %q%s%s`, tallyFields, table, indexedBy, w.String())
	docs, err := e.scanTallies(ctx, false, q, w.args...)
	if err != nil {
		return nil, err
	}
	sortByID(docs)
	return docs, nil
}

// FingerprintOwner implements dotm.FingerprintStore: a lookup by _id.
func (s *Store) FingerprintOwner(ctx context.Context, key string) (string, error) {
	var d struct {
		Submission string `bson:"submission"`
	}
	err := s.collection(colFingerprints).FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Decode(&d)
	if err == mongo.ErrNoDocuments {
		return "", nil
	}
	if err != nil {
		return "", unavailable(err, "find fingerprint")
	}
	return d.Submission, nil
}

// ClaimFingerprint implements dotm.FingerprintStore: an insert keyed by
// the fingerprint, so the first owner stays.
func (s *Store) ClaimFingerprint(ctx context.Context, key, id string) error {
	_, err := s.collection(colFingerprints).InsertOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "submission", Value: id}})
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return unavailable(err, "store fingerprint")
	}
	return nil
}

func sortByID(docs []tallyDoc) {
	slices.SortFunc(docs, func(a, b tallyDoc) int { return strings.Compare(a.ID, b.ID) })
}

// formatCounts writes counts by class as "class=n,…", classes sorted;
// "-" for none (so that a stored count is never empty).
func formatCounts(n map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(n)) {
		parts = append(parts, k+"="+strconv.Itoa(n[k]))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ",")
}

func listedCounts(hh []listedHHDoc) string {
	n := map[string]int{}
	for _, h := range hh {
		n[h.Class]++
	}
	return formatCounts(n)
}

// parseCounts reads formatCounts.
func parseCounts(s string) (map[string]int, error) {
	out := map[string]int{}
	if s == "-" {
		return out, nil
	}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(part, "=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil {
			return nil, fmt.Errorf("mongodb: class counts %q", s)
		}
		out[k] = n
	}
	return out, nil
}

// countsDoc is what the progress summary reads of a listing or a
// household draw: its EA and its households counted by class (the draw's
// selected ones, with its quota). Counts is "" for a document stored
// before the counts were kept: then the households are read and counted.
type countsDoc struct {
	PSU, Stratum, Quota, Counts string
	Households                  []sampledHHDoc
}

// psuCounts reads the counts of a survey's listings (col colListings) or
// household draws (colHouseholdSamples): on the embedded store one SQL
// query on an index that covers it (the counts are stored with each
// document), on MongoDB a find of the same fields.
func (s *Store) psuCounts(ctx context.Context, col, survey string) ([]countsDoc, error) {
	field := "class_counts"
	if col == colHouseholdSamples {
		field = "selected_counts"
	}
	var docs []countsDoc
	if s.sq != nil {
		table, indexedBy, err := s.sq.table(ctx, col, "counts")
		if err != nil || table == "" {
			return nil, err
		}
		q := fmt.Sprintf(`SELECT %s FROM %q%s WHERE %s = ?`, selectFields("psu", "stratum", "quota", field), table, indexedBy, sjsonField("survey"))
		rows, err := s.sq.query(ctx, q, survey)
		if err != nil {
			return nil, unavailable(err, "count households of "+col)
		}
		defer rows.Close()
		for rows.Next() {
			var v [4]sql.NullString
			if err := rows.Scan(&v[0], &v[1], &v[2], &v[3]); err != nil {
				return nil, unavailable(err, "read counts of "+col)
			}
			docs = append(docs, countsDoc{PSU: v[0].String, Stratum: v[1].String, Quota: v[2].String, Counts: v[3].String})
		}
		if err := rows.Err(); err != nil {
			return nil, unavailable(err, "read counts of "+col)
		}
	} else {
		var raw []struct {
			PSU        string         `bson:"psu"`
			Stratum    string         `bson:"stratum"`
			Quota      string         `bson:"quota"`
			Counts     string         `bson:"class_counts"`
			Selected   string         `bson:"selected_counts"`
			Households []sampledHHDoc `bson:"households"`
		}
		// The households only of documents without counts (older ones).
		proj := bson.D{{Key: "psu", Value: 1}, {Key: "stratum", Value: 1}, {Key: "quota", Value: 1}, {Key: field, Value: 1}}
		if err := s.findAll(ctx, col, bson.D{{Key: "survey", Value: survey}}, options.Find().SetProjection(proj), &raw); err != nil {
			return nil, err
		}
		for _, r := range raw {
			docs = append(docs, countsDoc{PSU: r.PSU, Stratum: r.Stratum, Quota: r.Quota, Counts: r.Counts + r.Selected})
		}
	}
	for i := range docs {
		if docs[i].Counts != "" {
			continue
		}
		// Stored before the counts: read this EA's households.
		var d struct {
			Households []sampledHHDoc `bson:"households"`
		}
		if err := s.collection(col).FindOne(ctx, bson.D{{Key: "_id", Value: survey + "/" + docs[i].PSU}}).Decode(&d); err != nil {
			return nil, unavailable(err, "read households of "+col)
		}
		n := map[string]int{}
		for _, h := range d.Households {
			if col == colListings || h.Selected {
				n[h.Class]++
			}
		}
		docs[i].Counts = formatCounts(n)
	}
	return docs, nil
}

// ListedCounts implements dotm.ProgressStore.
func (s *Store) ListedCounts(ctx context.Context, survey string) ([]dotm.ClassCount, error) {
	docs, err := s.psuCounts(ctx, colListings, survey)
	if err != nil {
		return nil, err
	}
	var out []dotm.ClassCount
	for _, d := range docs {
		n, err := parseCounts(d.Counts)
		if err != nil {
			return nil, err
		}
		if len(n) == 0 {
			out = append(out, dotm.ClassCount{PSU: d.PSU, Stratum: d.Stratum}) // listed, and empty
		}
		for _, c := range slices.Sorted(maps.Keys(n)) {
			out = append(out, dotm.ClassCount{PSU: d.PSU, Stratum: d.Stratum, Class: c, N: n[c]})
		}
	}
	return out, nil
}

// Selections implements dotm.ProgressStore.
func (s *Store) Selections(ctx context.Context, survey string) ([]dotm.PSUSelection, error) {
	docs, err := s.psuCounts(ctx, colHouseholdSamples, survey)
	if err != nil {
		return nil, err
	}
	out := make([]dotm.PSUSelection, len(docs))
	for i, d := range docs {
		n, err := parseCounts(d.Counts)
		if err != nil {
			return nil, err
		}
		out[i] = dotm.PSUSelection{PSU: d.PSU, Stratum: d.Stratum, Quota: d.Quota, Selected: n}
	}
	return out, nil
}

// AssignedCounts implements dotm.ProgressStore: on the embedded store one
// SQL query over an index that covers it, counted in Go, on MongoDB an aggregation with
// one $sum (which both servers run alike).
func (s *Store) AssignedCounts(ctx context.Context, survey string) ([]dotm.AssignedCount, error) {
	if s.sq != nil {
		table, indexedBy, err := s.sq.table(ctx, colAssignments, "survey_counts")
		if err != nil || table == "" {
			return nil, err
		}
		// The rows, counted in Go: SQLite reads a plain SELECT from the
		// covering index, but a GROUP BY of indexed expressions from the
		// table (parsing every document).
		q := fmt.Sprintf(`SELECT %s, %s, %s FROM %q%s WHERE %s = ?`,
			sjsonField("psu"), sjsonField("stratum"), sjsonField("enumerator"), table, indexedBy, sjsonField("survey"))
		rows, err := s.sq.query(ctx, q, survey)
		if err != nil {
			return nil, unavailable(err, "count assignments")
		}
		defer rows.Close()
		type key struct{ psu, stratum, enumerator string }
		n := map[key]int{}
		var order []key
		for rows.Next() {
			var psu, stratum, enum sql.NullString
			if err := rows.Scan(&psu, &stratum, &enum); err != nil {
				return nil, unavailable(err, "read assignment counts")
			}
			k := key{psu.String, stratum.String, enum.String}
			if n[k] == 0 {
				order = append(order, k)
			}
			n[k]++
		}
		out := make([]dotm.AssignedCount, len(order))
		for i, k := range order {
			out[i] = dotm.AssignedCount{PSU: k.psu, Stratum: k.stratum, Enumerator: k.enumerator, N: n[k]}
		}
		return out, unavailable(rows.Err(), "read assignment counts")
	}
	cur, err := s.collection(colAssignments).Aggregate(ctx, mongo.Pipeline{
		{{Key: "$match", Value: bson.D{{Key: "survey", Value: survey}}}},
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: bson.D{{Key: "psu", Value: "$psu"}, {Key: "stratum", Value: "$stratum"}, {Key: "enumerator", Value: "$enumerator"}}},
			{Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
	})
	if err != nil {
		return nil, unavailable(err, "count assignments")
	}
	var docs []struct {
		ID struct {
			PSU        string `bson:"psu"`
			Stratum    string `bson:"stratum"`
			Enumerator string `bson:"enumerator"`
		} `bson:"_id"`
		N int `bson:"n"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, unavailable(err, "count assignments")
	}
	out := make([]dotm.AssignedCount, len(docs))
	for i, d := range docs {
		out[i] = dotm.AssignedCount{PSU: d.ID.PSU, Stratum: d.ID.Stratum, Enumerator: d.ID.Enumerator, N: d.N}
	}
	return out, nil
}

// HouseholdClass implements dotm.ProgressStore: the listing of the EA, by
// _id.
func (s *Store) HouseholdClass(ctx context.Context, survey, psu, household string) (dotm.HouseholdClass, error) {
	var d listingDoc
	err := s.collection(colListings).FindOne(ctx, bson.D{{Key: "_id", Value: survey + "/" + psu}}).Decode(&d)
	if err == mongo.ErrNoDocuments {
		return "", nil
	}
	if err != nil {
		return "", unavailable(err, "find listing")
	}
	for _, h := range d.Households {
		if h.ID == household {
			return dotm.HouseholdClass(h.Class), nil
		}
	}
	return "", nil
}

// SampledPSUs implements dotm.ProgressStore: the EAs of the survey's
// first-stage sample, without the rest of the sample's record (on the
// embedded store one SQL query on the document by _id; FerretDB would
// decode the whole sample, slow for hundreds of EAs).
func (s *Store) SampledPSUs(ctx context.Context, survey string) ([]dotm.SampledPSU, error) {
	if s.sq != nil {
		table, _, err := s.sq.table(ctx, colPSUSamples, "")
		if err != nil || table == "" {
			return nil, err
		}
		q := fmt.Sprintf(`WITH d AS MATERIALIZED (SELECT %s AS psus FROM %q WHERE _ferretdb_sjson->'$._id' = json_quote(?))
SELECT j.value->>'$.psu', j.value->>'$.stratum' FROM d, json_each(d.psus) AS j`, sjsonJSON("psus"), table)
		rows, err := s.sq.query(ctx, q, survey)
		if err != nil {
			return nil, unavailable(err, "read the EAs of the sample")
		}
		defer rows.Close()
		var out []dotm.SampledPSU
		for rows.Next() {
			var psu, stratum sql.NullString
			if err := rows.Scan(&psu, &stratum); err != nil {
				return nil, unavailable(err, "read the EAs of the sample")
			}
			out = append(out, dotm.SampledPSU{PSU: psu.String, Stratum: stratum.String})
		}
		return out, unavailable(rows.Err(), "read the EAs of the sample")
	}
	ps, err := s.PSUSample(ctx, survey)
	if dotm.ErrorCode(err) == dotm.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]dotm.SampledPSU, len(ps.PSUs))
	for i, p := range ps.PSUs {
		out[i] = dotm.SampledPSU{PSU: p.PSU, Stratum: p.Stratum}
	}
	return out, nil
}

// TallyRepairs implements dotm.TallyReconciler: the status of every
// submission against its tally's, compared in Go (two finds of a few
// fields each, run at start-up and after a failed tally update).
func (s *Store) TallyRepairs(ctx context.Context) ([]dotm.TallyRepair, error) {
	var subs []subState
	var tallies []tallyState
	if s.sq != nil {
		// FerretDB decodes every submission whole to project three
		// fields (113 s at 200,000 submissions); SQLite reads them from
		// an index that holds them (listIndexes).
		var err error
		if subs, tallies, err = s.sq.tallyRepairStates(ctx); err != nil {
			return nil, err
		}
	} else {
		proj := bson.D{{Key: "status", Value: 1}, {Key: "superseded_by", Value: 1}, {Key: "received_at", Value: 1}}
		if err := s.findAll(ctx, colSubmissions, bson.D{}, options.Find().SetProjection(proj), &subs); err != nil {
			return nil, err
		}
		proj = bson.D{{Key: "status", Value: 1}, {Key: "superseded", Value: 1}}
		if err := s.findAll(ctx, colTallies, bson.D{}, options.Find().SetProjection(proj), &tallies); err != nil {
			return nil, err
		}
	}
	type state struct {
		status     string
		superseded bool
	}
	have := make(map[string]state, len(tallies))
	for _, t := range tallies {
		have[t.ID] = state{t.Status, t.Superseded}
	}
	slices.SortFunc(subs, func(a, b subState) int {
		if c := a.ReceivedAt.Compare(b.ReceivedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	var out []dotm.TallyRepair
	for _, sub := range subs {
		r := dotm.TallyRepair{ID: sub.ID, Status: dotm.SubmissionStatus(sub.Status), Superseded: sub.SupersededBy != ""}
		t, ok := have[sub.ID]
		r.Missing = !ok
		if ok && t.status == sub.Status && t.superseded == r.Superseded {
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// subState is what TallyRepairs reads of a submission, tallyState of a
// tally.
type subState struct {
	ID           string    `bson:"_id"`
	Status       string    `bson:"status"`
	SupersededBy string    `bson:"superseded_by"`
	ReceivedAt   time.Time `bson:"received_at"`
}

type tallyState struct {
	ID         string `bson:"_id"`
	Status     string `bson:"status"`
	Superseded bool   `bson:"superseded"`
}

// tallyRepairStates answers TallyRepairs' reads on the embedded store:
// two SQL queries, each over an index that covers it (the submissions'
// tally_state, the tallies' survey_psu), so that no document is read.
func (e *embeddedSQL) tallyRepairStates(ctx context.Context) ([]subState, []tallyState, error) {
	var subs []subState
	var tallies []tallyState
	table, indexedBy, err := e.table(ctx, colSubmissions, "tally_state")
	if err != nil {
		return nil, nil, err
	}
	if table != "" {
		q := fmt.Sprintf(`SELECT %s FROM %q%s`, selectFields("_id", "status", "superseded_by", "received_at"), table, indexedBy)
		rows, err := e.query(ctx, q)
		if err != nil {
			return nil, nil, unavailable(err, "read the submissions' states")
		}
		defer rows.Close()
		for rows.Next() {
			var d subState
			var status, by sql.NullString
			var at sql.NullInt64
			if err := rows.Scan(&d.ID, &status, &by, &at); err != nil {
				return nil, nil, unavailable(err, "read the submissions' states")
			}
			d.Status, d.SupersededBy, d.ReceivedAt = status.String, by.String, date(at)
			subs = append(subs, d)
		}
		if err := rows.Err(); err != nil {
			return nil, nil, unavailable(err, "read the submissions' states")
		}
	}
	if table, indexedBy, err = e.table(ctx, colTallies, "survey_psu"); err != nil {
		return nil, nil, err
	}
	if table != "" {
		q := fmt.Sprintf(`SELECT %s FROM %q%s`, selectFields("_id", "status", "superseded"), table, indexedBy)
		rows, err := e.query(ctx, q)
		if err != nil {
			return nil, nil, unavailable(err, "read the tallies' states")
		}
		defer rows.Close()
		for rows.Next() {
			var d tallyState
			var status sql.NullString
			var superseded sql.NullInt64
			if err := rows.Scan(&d.ID, &status, &superseded); err != nil {
				return nil, nil, unavailable(err, "read the tallies' states")
			}
			d.Status, d.Superseded = status.String, superseded.Int64 == 1
			tallies = append(tallies, d)
		}
		if err := rows.Err(); err != nil {
			return nil, nil, unavailable(err, "read the tallies' states")
		}
	}
	return subs, tallies, nil
}
