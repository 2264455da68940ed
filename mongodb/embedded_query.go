package mongodb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/dotm-survey/dotm"
)

// The listings of the request path read the embedded server's SQLite file
// directly.
//
// FerretDB v1.24's SQLite handler turns into SQL only a filter that is
// exactly {_id: <string or ObjectID>} (internal/backends/sqlite,
// collection.Query); any other filter, every sort except $natural on a
// capped collection, and the limit of a filtered or sorted find are applied
// in Go after the handler has read and decoded every document of the
// collection (handler/msg_find.go). A page of GET /submissions therefore
// cost ~0.3 ms per stored submission, whatever the page size. Point lookups
// by _id do not rescue a listing either: one costs ~1 ms through the wire
// (measured with a 200-answer submission), 100 ms for a page of 100.
//
// So on the embedded server dotm answers these listings with one SQL query
// each over FerretDB's table, using SQLite indexes on the fields filtered
// and sorted on (listIndexes, created at start-up beside the _id index),
// and extracting the few fields a listing returns with SQLite's JSON
// operators. FerretDB stores a document as sjson: the document as a JSON
// object plus a schema under "$s"; strings, ObjectIDs (24 lowercase hex
// digits) and dates (milliseconds since the epoch) are plain JSON values, so
// `_ferretdb_sjson->>'$.field'` is the field's value and SQLite's BINARY
// comparison of UTF-8 text orders strings as MongoDB does. The reader
// opens the file read-only in its own connection pool; the file is in WAL
// mode, so it sees every write the server has acknowledged. On a real
// MongoDB none of this applies: the same listings are finds served by the
// secondary indexes of mongoIndexes. TestListingsSQLMatchWire checks that
// both answer the same.
type embeddedSQL struct {
	db *sql.DB
}

// sjsonField is the SQL value of a top-level field of a FerretDB document.
func sjsonField(name string) string { return "_ferretdb_sjson->>'$." + name + "'" }

// sjsonJSON is the JSON text of a top-level field (for arrays).
func sjsonJSON(name string) string { return "_ferretdb_sjson->'$." + name + "'" }

// listIndex is a SQLite index on fields of a collection's documents.
type listIndex struct {
	col    string
	name   string // table name + "_dotm_" + name
	fields []string
}

// listIndexes are the embedded store's secondary indexes, one for each way
// a request lists a collection (the same as mongoIndexes on MongoDB).
var listIndexes = []listIndex{
	{colSubmissions, "id", []string{"_id"}},
	{colSubmissions, "survey", []string{"survey", "_id"}},
	{colSubmissions, "survey_status", []string{"survey", "status", "_id"}},
	{colSubmissions, "status", []string{"status", "_id"}},
	{colSubmissions, "enumerator", []string{"enumerator", "_id"}},
	{colAudit, "time", []string{"time", "_id"}},
	{colAudit, "action", []string{"action", "time", "_id"}},
	{colAudit, "actor", []string{"actor", "time", "_id"}},
	{colAudit, "survey", []string{"survey", "time", "_id"}},
	{colAssignments, "survey", []string{"survey", "_id"}},
	{colAssignments, "id", []string{"_id"}},
	{colAssignments, "enumerator", []string{"enumerator", "_id"}},
	{colAssignmentMoves, "assignment", []string{"assignment"}},
	{colListings, "survey", []string{"survey", "_id"}},
	{colTallies, "survey_psu", tallyIndexFields},
	{colTallies, "survey_seq", []string{"survey", "seq"}},
	{colSubmissions, "tally_state", []string{"_id", "status", "superseded_by", "received_at"}},
	{colAssignments, "survey_counts", []string{"survey", "psu", "stratum", "enumerator"}},
	{colAssignments, "survey_seq", []string{"survey", "seq", "_id", "psu", "stratum", "enumerator"}},
	{colListings, "counts", []string{"survey", "psu", "stratum", "quota", "class_counts"}},
	{colHouseholdSamples, "counts", []string{"survey", "psu", "stratum", "quota", "selected_counts"}},
}

// createListIndexes adds listIndexes to the tables of db (FerretDB's
// SQLite file, opened for writing); tables maps collections to tables.
// Building them over existing data takes one pass over each collection,
// once: later starts find them there.
func createListIndexes(ctx context.Context, db *sql.DB, tables map[string]string) error {
	for _, ix := range listIndexes {
		t, ok := tables[ix.col]
		if !ok {
			continue
		}
		exprs := make([]string, len(ix.fields))
		for i, f := range ix.fields {
			if strings.HasPrefix(f, "json:") {
				exprs[i] = sjsonJSON(strings.TrimPrefix(f, "json:"))
			} else {
				exprs[i] = sjsonField(f)
			}
		}
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (%s)`, t+"_dotm_"+ix.name, t, strings.Join(exprs, ", "))
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("mongodb: index %s of %s: %w", ix.name, ix.col, err)
		}
	}
	return nil
}

func openEmbeddedSQL(path string) (*embeddedSQL, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(20000)")
	if err != nil {
		return nil, fmt.Errorf("mongodb: open %s for reading: %w", path, err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	return &embeddedSQL{db: db}, nil
}

func (e *embeddedSQL) close() error { return e.db.Close() }

// queryHook, when set (by tests), sees every listing query before it runs.
var queryHook func(q string, args []any)

func (e *embeddedSQL) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if queryHook != nil {
		queryHook(q, args)
	}
	return e.db.QueryContext(ctx, q, args...)
}

// table is the SQLite table of collection col ("" when the collection does
// not exist yet) and the name of its dotm index named index, if present
// (a collection dropped and made again at run time has none until the next
// start; the query is then still right, only slower).
func (e *embeddedSQL) table(ctx context.Context, col, index string) (table, indexedBy string, err error) {
	err = e.db.QueryRowContext(ctx, `SELECT table_name FROM "_ferretdb_collections" WHERE name = ?`, col).Scan(&table)
	if err == sql.ErrNoRows {
		return "", "", nil
	}
	if err != nil {
		return "", "", unavailable(err, "find the table of "+col)
	}
	if index == "" {
		return table, "", nil
	}
	var n int
	name := table + "_dotm_" + index
	if err := e.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?`, name).Scan(&n); err != nil {
		return "", "", unavailable(err, "find the indexes of "+col)
	}
	if n == 1 {
		indexedBy = fmt.Sprintf(" INDEXED BY %q", name)
	}
	return table, indexedBy, nil
}

// where collects the conditions and arguments of a query.
type where struct {
	conds []string
	args  []any
}

func (w *where) eq(field string, v any) {
	w.conds = append(w.conds, sjsonField(field)+" = ?")
	w.args = append(w.args, v)
}

func (w *where) in(field string, vs []string) {
	marks := make([]string, len(vs))
	for i, v := range vs {
		marks[i] = "?"
		w.args = append(w.args, v)
	}
	w.conds = append(w.conds, sjsonField(field)+" IN ("+strings.Join(marks, ", ")+")")
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// selectFields is the SELECT list of fields, in order.
func selectFields(fields ...string) string {
	out := make([]string, len(fields))
	for i, f := range fields {
		if strings.HasPrefix(f, "json:") {
			out[i] = sjsonJSON(strings.TrimPrefix(f, "json:"))
		} else {
			out[i] = sjsonField(f)
		}
	}
	return strings.Join(out, ", ")
}

// date reads a stored date (milliseconds since the epoch) as the driver
// decodes it; a missing one is the zero time.
func date(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}

// jsonArray decodes the JSON text of an array field into out; null or a
// missing field leaves out as it is.
func jsonArray(v sql.NullString, out any) error {
	if !v.Valid || v.String == "null" {
		return nil
	}
	return json.Unmarshal([]byte(v.String), out)
}

// surveySet is the surveys a listing may return (nil: any) and whether it
// may return anything: the survey asked for, within the scope.
func surveySet(survey string, scope []string) ([]string, bool) {
	if survey != "" {
		if len(scope) > 0 && !slices.Contains(scope, survey) {
			return nil, false
		}
		return []string{survey}, true
	}
	if len(scope) == 0 {
		return nil, true
	}
	set := slices.Clone(scope)
	slices.Sort(set)
	return slices.Compact(set), true
}

var submissionListFields = selectFields("_id", "survey", "form_id", "form_version", "assignment_id", "enumerator",
	"supersedes", "superseded_by", "started_at", "ended_at", "received_at", "status", "json:reviews", "json:flags")

// submissions answers Store.Submissions: per survey of the set, one query
// on the index that holds its equality filters in _id order, stopping at
// the limit; pages of several surveys are merged by _id.
func (e *embeddedSQL) submissions(ctx context.Context, f dotm.SubmissionFilter) ([]dotm.Submission, error) {
	surveys, ok := surveySet(f.Survey, f.Surveys)
	if !ok {
		return []dotm.Submission{}, nil
	}
	index := "id"
	switch {
	case f.Enumerator != "":
		index = "enumerator"
	case surveys != nil && f.Status != "":
		index = "survey_status"
	case surveys != nil:
		index = "survey"
	case f.Status != "":
		index = "status"
	}
	table, indexedBy, err := e.table(ctx, colSubmissions, index)
	if err != nil || table == "" {
		return []dotm.Submission{}, err
	}
	one := func(survey string) ([]dotm.Submission, error) {
		var w where
		if survey != "" {
			w.eq("survey", survey)
		}
		for _, c := range []struct{ field, v string }{{"status", string(f.Status)}, {"enumerator", f.Enumerator}, {"form_id", f.FormID}} {
			if c.v != "" {
				w.eq(c.field, c.v)
			}
		}
		if f.After != "" {
			w.add(sjsonField("_id")+" > ?", f.After)
		}
		q := fmt.Sprintf(`SELECT %s FROM %q%s%s ORDER BY %s`, submissionListFields, table, indexedBy, w.String(), sjsonField("_id"))
		if f.Limit > 0 {
			q += fmt.Sprintf(" LIMIT %d", f.Limit)
		}
		rows, err := e.query(ctx, q, w.args...)
		if err != nil {
			return nil, unavailable(err, "list submissions")
		}
		defer rows.Close()
		var out []dotm.Submission
		for rows.Next() {
			var s dotm.Submission
			var formID, formVersion, assignment, enumerator, supersedes, supersededBy, status, reviews, flags sql.NullString
			var started, ended, received sql.NullInt64
			if err := rows.Scan(&s.ID, &s.Survey, &formID, &formVersion, &assignment, &enumerator, &supersedes, &supersededBy,
				&started, &ended, &received, &status, &reviews, &flags); err != nil {
				return nil, unavailable(err, "read submissions")
			}
			s.FormID, s.FormVersion, s.AssignmentID, s.Enumerator = formID.String, formVersion.String, assignment.String, enumerator.String
			s.Supersedes, s.SupersededBy, s.Status = supersedes.String, supersededBy.String, dotm.SubmissionStatus(status.String)
			s.StartedAt, s.EndedAt, s.ReceivedAt = date(started), date(ended), date(received)
			var rs []struct {
				Decision string `json:"decision"`
				Comment  string `json:"comment"`
				By       string `json:"by"`
				At       int64  `json:"at"`
			}
			if err := jsonArray(flags, &s.Flags); err != nil {
				return nil, fmt.Errorf("mongodb: flags of submission %s: %w", s.ID, err)
			}
			if err := jsonArray(reviews, &rs); err != nil {
				return nil, fmt.Errorf("mongodb: reviews of submission %s: %w", s.ID, err)
			}
			for _, r := range rs {
				s.Reviews = append(s.Reviews, dotm.Review{Decision: r.Decision, Comment: r.Comment, By: r.By, At: time.UnixMilli(r.At).UTC()})
			}
			out = append(out, s)
		}
		return out, unavailable(rows.Err(), "read submissions")
	}
	if len(surveys) <= 1 {
		survey := ""
		if len(surveys) == 1 {
			survey = surveys[0]
		}
		out, err := one(survey)
		if out == nil && err == nil {
			out = []dotm.Submission{}
		}
		return out, err
	}
	var all []dotm.Submission
	for _, sv := range surveys {
		page, err := one(sv)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
	}
	slices.SortFunc(all, func(a, b dotm.Submission) int { return strings.Compare(a.ID, b.ID) })
	if f.Limit > 0 && len(all) > f.Limit {
		all = all[:f.Limit]
	}
	if all == nil {
		all = []dotm.Submission{}
	}
	return all, nil
}

// audit answers Store.AuditEntries, newest first, on the index of its
// equality filter (or of time alone).
func (e *embeddedSQL) audit(ctx context.Context, f dotm.AuditFilter) ([]dotm.AuditEntry, error) {
	var w where
	index := "time"
	for _, c := range []struct{ field, v string }{{"survey", f.Survey}, {"actor", f.Actor}, {"action", f.Action}} {
		if c.v != "" {
			w.eq(c.field, c.v)
			index = c.field // the last set wins: action, then actor, then survey
		}
	}
	if len(f.Surveys) > 0 {
		// A scoped admin's entries: the survey index serves an equality or
		// a short IN list as well.
		w.in("survey", f.Surveys)
		if f.Action == "" && f.Actor == "" {
			index = "survey"
		}
	}
	switch {
	case f.BeforeID != "":
		oid, err := bson.ObjectIDFromHex(f.BeforeID)
		if err != nil {
			return nil, dotm.Errorf(dotm.EINVALID, "before_id: not an audit entry id")
		}
		ms := f.Before.UnixMilli()
		// time <= Before alone bounds the index scan; the rest breaks ties.
		w.add(sjsonField("time")+" <= ?", ms)
		w.add(fmt.Sprintf("(%s < ? OR %s < ?)", sjsonField("time"), sjsonField("_id")), ms, oid.Hex())
	case !f.Before.IsZero():
		w.add(sjsonField("time")+" < ?", f.Before.UnixMilli())
	}
	table, indexedBy, err := e.table(ctx, colAudit, index)
	if err != nil || table == "" {
		return []dotm.AuditEntry{}, err
	}
	q := fmt.Sprintf(`SELECT %s FROM %q%s%s ORDER BY %s DESC, %s DESC`,
		selectFields("_id", "time", "actor", "role", "action", "survey", "target", "detail"),
		table, indexedBy, w.String(), sjsonField("time"), sjsonField("_id"))
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := e.query(ctx, q, w.args...)
	if err != nil {
		return nil, unavailable(err, "list audit entries")
	}
	defer rows.Close()
	out := []dotm.AuditEntry{}
	for rows.Next() {
		var a dotm.AuditEntry
		var t sql.NullInt64
		var actor, role, action, survey, target, detail sql.NullString
		if err := rows.Scan(&a.ID, &t, &actor, &role, &action, &survey, &target, &detail); err != nil {
			return nil, unavailable(err, "read audit entries")
		}
		a.Time, a.Actor, a.Role, a.Action = date(t), actor.String, dotm.Role(role.String), action.String
		a.Survey, a.Target, a.Detail = survey.String, target.String, detail.String
		out = append(out, a)
	}
	return out, unavailable(rows.Err(), "read audit entries")
}

var assignmentListFields = selectFields("_id", "survey", "enumerator", "supervisor", "household_id", "stratum", "psu",
	"form_id", "status", "comment", "submission_id", "created_at", "updated_at")

// assignments answers the first half of Store.Assignments: the assignment
// documents that match f's survey(s) and enumerator, in _id order, and the
// moves of exactly those assignments.
func (e *embeddedSQL) assignments(ctx context.Context, f dotm.AssignmentFilter) ([]assignmentDoc, []moveDoc, error) {
	surveys, ok := surveySet(f.Survey, f.Surveys)
	if !ok {
		return nil, nil, nil
	}
	index := ""
	switch {
	case f.Enumerator != "":
		index = "enumerator"
	case len(surveys) == 1 || (surveys != nil && f.Limit == 0):
		index = "survey"
	case f.Limit > 0:
		// A page of several surveys' (or all) in _id order: the _id
		// index, read until the page is full.
		index = "id"
	}
	table, indexedBy, err := e.table(ctx, colAssignments, index)
	if err != nil || table == "" {
		return nil, nil, err
	}
	var w where
	if len(surveys) == 1 {
		w.eq("survey", surveys[0])
	} else if len(surveys) > 1 {
		w.in("survey", surveys)
	}
	if f.Enumerator != "" {
		w.eq("enumerator", f.Enumerator)
	}
	if f.After != "" {
		w.add(sjsonField("_id")+" > ?", f.After)
	}
	limit := ""
	if f.Limit > 0 {
		limit = fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	q := fmt.Sprintf(`SELECT %s FROM %q%s%s ORDER BY %s%s`, assignmentListFields, table, indexedBy, w.String(), sjsonField("_id"), limit)
	rows, err := e.query(ctx, q, w.args...)
	if err != nil {
		return nil, nil, unavailable(err, "list assignments")
	}
	var docs []assignmentDoc
	for rows.Next() {
		var d assignmentDoc
		var str [10]sql.NullString
		var created, updated sql.NullInt64
		if err := rows.Scan(&d.ID, &str[0], &str[1], &str[2], &str[3], &str[4], &str[5], &str[6], &str[7], &str[8], &str[9], &created, &updated); err != nil {
			rows.Close()
			return nil, nil, unavailable(err, "read assignments")
		}
		d.Survey, d.Enumerator, d.Supervisor, d.HouseholdID, d.Stratum = str[0].String, str[1].String, str[2].String, str[3].String, str[4].String
		d.PSU, d.FormID, d.Status, d.Comment, d.SubmissionID = str[5].String, str[6].String, str[7].String, str[8].String, str[9].String
		d.CreatedAt, d.UpdatedAt = date(created), date(updated)
		docs = append(docs, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, unavailable(err, "read assignments")
	}
	if len(docs) == 0 {
		return nil, nil, nil
	}
	mtable, mindexedBy, err := e.table(ctx, colAssignmentMoves, "assignment")
	if err != nil || mtable == "" {
		return docs, nil, err
	}
	q = fmt.Sprintf(`SELECT %s FROM %q%s WHERE %s IN (SELECT %s FROM %q%s%s ORDER BY %s%s)`,
		selectFields("_id", "assignment", "survey", "seq", "status", "comment", "submission_id", "at"),
		mtable, mindexedBy, sjsonField("assignment"), sjsonField("_id"), table, indexedBy, w.String(), sjsonField("_id"), limit)
	rows, err = e.query(ctx, q, w.args...)
	if err != nil {
		return nil, nil, unavailable(err, "list assignment moves")
	}
	defer rows.Close()
	var moves []moveDoc
	for rows.Next() {
		var m moveDoc
		var assignment, survey, status, comment, sub sql.NullString
		var seq, at sql.NullInt64
		if err := rows.Scan(&m.ID, &assignment, &survey, &seq, &status, &comment, &sub, &at); err != nil {
			return nil, nil, unavailable(err, "read assignment moves")
		}
		m.Assignment, m.Survey, m.Seq, m.Status = assignment.String, survey.String, int(seq.Int64), status.String
		m.Comment, m.SubmissionID, m.At = comment.String, sub.String, date(at)
		moves = append(moves, m)
	}
	return docs, moves, unavailable(rows.Err(), "read assignment moves")
}

// listings answers Store.Listings: the survey's listing documents in _id
// order.
func (e *embeddedSQL) listings(ctx context.Context, survey string) ([]listingDoc, error) {
	table, indexedBy, err := e.table(ctx, colListings, "survey")
	if err != nil || table == "" {
		return nil, err
	}
	var w where
	w.eq("survey", survey)
	q := fmt.Sprintf(`SELECT %s FROM %q%s%s ORDER BY %s`,
		selectFields("_id", "survey", "psu", "stratum", "json:households", "submitted_by", "submitted_at", "revision", "history[0].by"),
		table, indexedBy, w.String(), sjsonField("_id"))
	rows, err := e.query(ctx, q, w.args...)
	if err != nil {
		return nil, unavailable(err, "list listings")
	}
	defer rows.Close()
	var docs []listingDoc
	for rows.Next() {
		var d listingDoc
		var sv, psu, stratum, hh, by, first sql.NullString
		var at, rev sql.NullInt64
		if err := rows.Scan(&d.ID, &sv, &psu, &stratum, &hh, &by, &at, &rev, &first); err != nil {
			return nil, unavailable(err, "read listings")
		}
		if first.Valid {
			d.History = []listingEvent{{By: first.String}} // who listed it first; the rest is not read
		}
		d.Survey, d.PSU, d.Stratum, d.SubmittedBy, d.SubmittedAt, d.Revision = sv.String, psu.String, stratum.String, by.String, date(at), int(rev.Int64)
		var households []struct {
			ID    string `json:"id"`
			Class string `json:"class"`
		}
		if err := jsonArray(hh, &households); err != nil {
			return nil, fmt.Errorf("mongodb: households of listing %s: %w", d.ID, err)
		}
		d.Households = make([]listedHHDoc, len(households))
		for i, h := range households {
			d.Households[i] = listedHHDoc{ID: h.ID, Class: h.Class}
		}
		docs = append(docs, d)
	}
	return docs, unavailable(rows.Err(), "read listings")
}
