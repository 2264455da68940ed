package mongodb

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dotm-survey/dotm"
)

// The progress summary reads every tally of a survey. Read from the store
// at each request that costs ~7 µs per tally on the embedded store (the
// SQL read and the unpacking of each row), 370 ms at 50,000 submissions.
// So the store keeps, per survey, a view of its decoded tallies in memory,
// refreshed from the store at each request by reading only the tallies
// written since the last refresh:
//
//   - every tally write stamps the tally with seq, a hybrid clock of the
//     writing process (max(now in ns, last seq + 1)), indexed with the
//     survey (embedded: listIndexes; MongoDB: mongoIndexes);
//   - a refresh reads the tallies stamped after what is settled (see
//     settled): a write stamped before and committed after the previous
//     refresh (a concurrent request, or another dotm process on the same
//     database) is still read; re-reading a tally is harmless, the view is
//     keyed by submission id;
//   - every tallyFullEvery, and at the first request of a process, the
//     view is read whole again, so that whatever escaped the window (a
//     clock stepped back by more than the window, a restored backup)
//     converges from the store. Nothing in the view is trusted beyond
//     that: the store is the truth, and several processes each converge
//     to it.
//
// Tallies stored before seq existed have none: the full reads see them.
//
// A tally that disappears from the store (never deleted by dotm, but a
// store can be restored or repaired by hand) is found by counting the
// survey's tallies, at most every tallyCountEvery: the count walks the
// index, ~0.3 µs a tally, which at every request would make the request
// grow with the survey again.
const (
	tallyWindow     = 30 * time.Second
	tallyFullEvery  = 10 * time.Minute
	tallyCountEvery = 30 * time.Second
)

// settled is the seq up to which a view has read every write, given the
// highest seq it has read (hi) and when its last read began (readAt, ns):
// a write commits within tallyWindow of its stamp, so one stamped more
// than tallyWindow before the last read began was visible to that read.
// Anchored to the read's time and not only to hi, a survey whose writes
// have stopped re-reads nothing once they are a window old, instead of
// its last window of writes at every request.
func settled(hi, readAt int64) int64 { return max(hi, readAt) - int64(tallyWindow) }

// tallyClock is the last seq stamped by this process.
var tallyClock atomic.Int64

// nextTallySeq stamps a tally write: never less than the wall clock in
// nanoseconds, strictly increasing within the process.
func nextTallySeq() int64 {
	for {
		last := tallyClock.Load()
		next := max(time.Now().UnixNano(), last+1)
		if tallyClock.CompareAndSwap(last, next) {
			return next
		}
	}
}

type tallyView struct {
	mu     sync.Mutex
	byID   map[string]dotm.Tally
	sorted []dotm.Tally // byID by id; nil when it changed
	hi     int64        // highest seq read
	readAt int64        // when the last read began (ns), see settled
	fullAt time.Time    // last full read
	// countAt is when the store's count of the survey's tallies was
	// last compared with the view's.
	countAt time.Time
	ready   bool
	// seqOf is the seq each tally had when read, seqs how many tallies
	// of the view have each seq.
	seqOf map[string]int64
	seqs  map[int64]int
	// state is the progress summary's part of byID, updated with it
	// (nil until a summary is asked for, and after a full read).
	state *dotm.ProgressState
}

type tallyViews struct {
	mu sync.Mutex
	m  map[string]*tallyView
}

func (v *tallyViews) get(survey string) *tallyView {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil {
		v.m = map[string]*tallyView{}
	}
	tv, ok := v.m[survey]
	if !ok {
		tv = &tallyView{}
		v.m[survey] = tv
	}
	return tv
}

// surveyTallies answers Tallies for a whole survey from the view,
// refreshed first. The slice returned is the caller's; its tallies share
// their Flags and Ages with the view and must not be changed.
func (s *Store) surveyTallies(ctx context.Context, survey string) ([]dotm.Tally, error) {
	tv := s.views.get(survey)
	tv.mu.Lock()
	defer tv.mu.Unlock()
	if err := s.refreshTallies(ctx, survey, tv); err != nil {
		return nil, err
	}
	if tv.sorted == nil {
		tv.sorted = make([]dotm.Tally, 0, len(tv.byID))
		for _, t := range tv.byID {
			tv.sorted = append(tv.sorted, t)
		}
		slices.SortFunc(tv.sorted, func(a, b dotm.Tally) int { return strings.Compare(a.ID, b.ID) })
	}
	return slices.Clone(tv.sorted), nil
}

// refreshTallies brings tv up to date with the store; tv.mu is held.
func (s *Store) refreshTallies(ctx context.Context, survey string, tv *tallyView) error {
	full := !tv.ready || time.Since(tv.fullAt) > tallyFullEvery
	if !full {
		// The window's stamps first (the index alone); then only the
		// tallies from the oldest stamp the view has not read: the window
		// re-read whole decoded every tally written in the last 30 s at
		// every request.
		start := time.Now().UnixNano()
		stamps, err := s.tallySeqsSince(ctx, survey, settled(tv.hi, tv.readAt))
		if err != nil {
			return err
		}
		n := map[int64]int{}
		for _, q := range stamps {
			n[q]++
		}
		from := int64(math.MaxInt64)
		for q, c := range n {
			if tv.seqs[q] < c {
				from = min(from, q)
			}
		}
		var docs []tallyDoc
		if from != math.MaxInt64 {
			if docs, err = s.tallyDocsSince(ctx, survey, from-1); err != nil {
				return err
			}
		}
		tv.readAt = start
		for _, d := range docs {
			t, err := d.tally()
			if err != nil {
				return err
			}
			tv.stamp(d.ID, d.Seq)
			old, ok := tv.byID[d.ID]
			if ok && sameTally(old, t) {
				tv.hi = max(tv.hi, d.Seq)
				continue
			}
			tv.byID[d.ID] = t
			if tv.state != nil {
				tv.state.Put(t)
			}
			// The sorted slice updated in place (callers get copies):
			// one change does not sort the survey again.
			if tv.sorted != nil {
				i, found := slices.BinarySearchFunc(tv.sorted, d.ID, func(a dotm.Tally, id string) int { return strings.Compare(a.ID, id) })
				if found {
					tv.sorted[i] = t
				} else {
					tv.sorted = slices.Insert(tv.sorted, i, t)
				}
			}
			tv.hi = max(tv.hi, d.Seq)
		}
		// Tallies are never deleted by dotm, but a store can be restored
		// or repaired by hand: a count that differs means the view has
		// lost track, and is read again.
		if time.Since(tv.countAt) > tallyCountEvery {
			at := time.Now()
			n, err := s.tallyCount(ctx, survey)
			if err != nil {
				return err
			}
			full, tv.countAt = n != len(tv.byID), at
		}
	}
	if full {
		// The state is made again from the new view when asked for.
		tv.state = nil
		at := time.Now()
		var hi int64
		if s.sq != nil {
			// Before the read: what is written meanwhile is read again
			// by the next refresh.
			var err error
			if hi, err = s.sq.tallyMaxSeq(ctx, survey); err != nil {
				return err
			}
		}
		docs, err := s.tallyDocs(ctx, dotm.TallyFilter{Survey: survey})
		if err != nil {
			return err
		}
		byID := make(map[string]dotm.Tally, len(docs))
		tv.seqOf, tv.seqs = make(map[string]int64, len(docs)), map[int64]int{}
		for _, d := range docs {
			t, err := d.tally()
			if err != nil {
				return err
			}
			byID[d.ID] = t
			tv.stamp(d.ID, d.Seq) // 0 where the full read does not read seq
			hi = max(hi, d.Seq)
		}
		tv.byID, tv.sorted, tv.hi, tv.fullAt, tv.countAt, tv.ready, tv.readAt = byID, nil, hi, at, at, true, at.UnixNano()
	}
	return nil
}

// stamp records that the view read tally id with seq.
func (tv *tallyView) stamp(id string, seq int64) {
	if old, ok := tv.seqOf[id]; ok {
		if tv.seqs[old]--; tv.seqs[old] == 0 {
			delete(tv.seqs, old)
		}
	}
	tv.seqOf[id] = seq
	tv.seqs[seq]++
}

// tallySeqsSince lists the seq of a survey's tallies stamped after since,
// from the (survey, seq) index alone (on MongoDB a covered find).
func (s *Store) tallySeqsSince(ctx context.Context, survey string, since int64) ([]int64, error) {
	if s.sq == nil {
		var docs []struct {
			Seq int64 `bson:"seq"`
		}
		filter := bson.D{{Key: "survey", Value: survey}, {Key: "seq", Value: bson.D{{Key: "$gt", Value: since}}}}
		opts := options.Find().SetProjection(bson.D{{Key: "seq", Value: 1}, {Key: "_id", Value: 0}})
		if err := s.findAll(ctx, colTallies, filter, opts, &docs); err != nil {
			return nil, err
		}
		out := make([]int64, len(docs))
		for i, d := range docs {
			out[i] = d.Seq
		}
		return out, nil
	}
	table, indexedBy, err := s.sq.table(ctx, colTallies, "survey_seq")
	if err != nil || table == "" {
		return nil, err
	}
	q := fmt.Sprintf(`SELECT %s FROM %q%s WHERE %s = ? AND %s > ?`, sjsonField("seq"), table, indexedBy, sjsonField("survey"), sjsonField("seq"))
	rows, err := s.sq.query(ctx, q, survey, since)
	if err != nil {
		return nil, unavailable(err, "list tally stamps")
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var seq sql.NullInt64
		if err := rows.Scan(&seq); err != nil {
			return nil, unavailable(err, "read tally stamps")
		}
		out = append(out, seq.Int64)
	}
	return out, unavailable(rows.Err(), "read tally stamps")
}

func sameTally(a, b dotm.Tally) bool {
	return packRow(a) == packRow(b) && a.Survey == b.Survey && a.PSU == b.PSU && a.Status == b.Status &&
		a.Superseded == b.Superseded && a.HasGPS == b.HasGPS
}

// tallyDocsSince reads a survey's tallies stamped after seq since: on the
// embedded store one SQL query on the (survey, seq) index, on MongoDB a
// find on the same index.
func (s *Store) tallyDocsSince(ctx context.Context, survey string, since int64) ([]tallyDoc, error) {
	if s.sq == nil {
		var docs []tallyDoc
		filter := bson.D{{Key: "survey", Value: survey}, {Key: "seq", Value: bson.D{{Key: "$gt", Value: since}}}}
		if err := s.findAll(ctx, colTallies, filter, options.Find(), &docs); err != nil {
			return nil, err
		}
		return docs, nil
	}
	table, indexedBy, err := s.sq.table(ctx, colTallies, "survey_seq")
	if err != nil || table == "" {
		return nil, err
	}
	q := fmt.Sprintf(`SELECT %s, %s FROM %q%s WHERE %s = ? AND %s > ?`, tallyFields, sjsonField("seq"), table, indexedBy, sjsonField("survey"), sjsonField("seq"))
	return s.sq.scanTallies(ctx, true, q, survey, since)
}

// tallyMaxSeq is the highest seq of a survey's tallies on the embedded
// store (the full read there does not read seq: the index that covers it
// predates seq).
func (e *embeddedSQL) tallyMaxSeq(ctx context.Context, survey string) (int64, error) {
	table, indexedBy, err := e.table(ctx, colTallies, "survey_seq")
	if err != nil || table == "" {
		return 0, err
	}
	q := fmt.Sprintf(`SELECT %s FROM %q%s WHERE %s = ? ORDER BY %s DESC LIMIT 1`, sjsonField("seq"), table, indexedBy, sjsonField("survey"), sjsonField("seq"))
	var seq sql.NullInt64
	err = e.db.QueryRowContext(ctx, q, survey).Scan(&seq)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	if err != nil {
		return 0, unavailable(err, "read the last tally write")
	}
	return seq.Int64, nil
}

// scanTallies reads the rows of a query selecting tallyFields, and seq
// after them if withSeq.
func (e *embeddedSQL) scanTallies(ctx context.Context, withSeq bool, q string, args ...any) ([]tallyDoc, error) {
	rows, err := e.query(ctx, q, args...)
	if err != nil {
		return nil, unavailable(err, "list tallies")
	}
	defer rows.Close()
	var docs []tallyDoc
	for rows.Next() {
		var d tallyDoc
		var survey, psu, status, row sql.NullString
		var superseded, gps, seq sql.NullInt64
		dest := []any{&d.ID, &survey, &psu, &status, &superseded, &gps, &row}
		if withSeq {
			dest = append(dest, &seq)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, unavailable(err, "read tallies")
		}
		d.Survey, d.PSU, d.Status, d.Row = survey.String, psu.String, status.String, row.String
		d.Superseded, d.GPS, d.Seq = superseded.Int64 == 1, gps.Int64 == 1, seq.Int64
		docs = append(docs, d)
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(err, "read tallies")
	}
	return docs, nil
}

// tallyCount counts a survey's tallies: on the embedded store over the
// (survey, seq) index, on MongoDB with a count on the same index.
func (s *Store) tallyCount(ctx context.Context, survey string) (int, error) {
	if s.sq == nil {
		n, err := s.collection(colTallies).CountDocuments(ctx, bson.D{{Key: "survey", Value: survey}})
		return int(n), unavailable(err, "count tallies")
	}
	table, indexedBy, err := s.sq.table(ctx, colTallies, "survey_seq")
	if err != nil || table == "" {
		return 0, err
	}
	var n int
	q := fmt.Sprintf(`SELECT count(*) FROM %q%s WHERE %s = ?`, table, indexedBy, sjsonField("survey"))
	if err := s.sq.db.QueryRowContext(ctx, q, survey).Scan(&n); err != nil {
		return 0, unavailable(err, "count tallies")
	}
	return n, nil
}
