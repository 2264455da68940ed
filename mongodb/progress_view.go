package mongodb

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dotm-survey/dotm"
)

// The progress summary also counts a survey's assignments by EA and
// enumerator. Counted from the store at each request that is one read of
// every assignment (a covering index on the embedded store; 80–180 ms at
// 50,000), so the store keeps these counts per survey in memory as it
// keeps the tallies (tallies_view.go), by the same means:
//
//   - every assignment is stamped on insert with seq (the process's write
//     clock, nextTallySeq), indexed with the survey and the fields counted
//     (embedded: listIndexes "survey_seq"; MongoDB: mongoIndexes);
//   - a refresh reads the assignments stamped after what is settled (see
//     settled), and counts each by its _id once: reading one again
//     changes nothing, one whose EA or enumerator changed is moved;
//   - the view is read whole at a process's first request and every
//     tallyFullEvery, and whenever the survey's count of assignments in
//     the store (taken at most every tallyCountEvery) differs from the
//     view's (an assignment deleted, a store restored): the store is the
//     truth, and each process converges to it.
//
// Assignments stored before seq existed have none: the full reads see them.
//
// With the counts and the tallies' ProgressState (dotm, updated by the
// tallies' refresh) the summary costs the size of its answer
// (SurveyProgress).

type assignedKey struct{ psu, stratum, enumerator string }

type assignedView struct {
	mu      sync.Mutex
	byID    map[string]assignedKey
	byPSU   map[[2]string]int // by PSU and stratum
	byEnum  map[string]int
	hi      int64
	readAt  int64 // when the last read began (ns), see settled
	fullAt  time.Time
	countAt time.Time // last count of the survey's assignments
	ready   bool
}

func (v *assignedView) put(id string, k assignedKey) {
	if old, ok := v.byID[id]; ok {
		if old == k {
			return
		}
		v.count(old, -1)
	}
	v.byID[id] = k
	v.count(k, 1)
}

func (v *assignedView) count(k assignedKey, d int) {
	p := [2]string{k.psu, k.stratum}
	if v.byPSU[p] += d; v.byPSU[p] == 0 {
		delete(v.byPSU, p)
	}
	if v.byEnum[k.enumerator] += d; v.byEnum[k.enumerator] == 0 {
		delete(v.byEnum, k.enumerator)
	}
}

type assignedViews struct {
	mu sync.Mutex
	m  map[string]*assignedView
}

func (v *assignedViews) get(survey string) *assignedView {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil {
		v.m = map[string]*assignedView{}
	}
	av, ok := v.m[survey]
	if !ok {
		av = &assignedView{}
		v.m[survey] = av
	}
	return av
}

// assignedRow is an assignment as the counts read it.
type assignedRow struct {
	ID         string `bson:"_id"`
	PSU        string `bson:"psu"`
	Stratum    string `bson:"stratum"`
	Enumerator string `bson:"enumerator"`
	Seq        int64  `bson:"seq"`
}

// assignedTotals answers a survey's assignment counts from its view,
// refreshed first.
func (s *Store) assignedTotals(ctx context.Context, survey string) (*dotm.AssignedTotals, error) {
	av := s.assigned.get(survey)
	av.mu.Lock()
	defer av.mu.Unlock()
	full := !av.ready || time.Since(av.fullAt) > tallyFullEvery
	if !full {
		start := time.Now().UnixNano()
		rows, err := s.assignedRows(ctx, survey, settled(av.hi, av.readAt), true)
		if err != nil {
			return nil, err
		}
		av.readAt = start
		for _, r := range rows {
			av.put(r.ID, assignedKey{r.PSU, r.Stratum, r.Enumerator})
			av.hi = max(av.hi, r.Seq)
		}
		if time.Since(av.countAt) > tallyCountEvery {
			at := time.Now()
			n, err := s.assignedCount(ctx, survey)
			if err != nil {
				return nil, err
			}
			full, av.countAt = n != len(av.byID), at
		}
	}
	if full {
		at := time.Now()
		rows, err := s.assignedRows(ctx, survey, 0, false)
		if err != nil {
			return nil, err
		}
		av.byID, av.byPSU, av.byEnum, av.hi = make(map[string]assignedKey, len(rows)), map[[2]string]int{}, map[string]int{}, 0
		for _, r := range rows {
			av.put(r.ID, assignedKey{r.PSU, r.Stratum, r.Enumerator})
			av.hi = max(av.hi, r.Seq)
		}
		av.fullAt, av.countAt, av.ready, av.readAt = at, at, true, at.UnixNano()
	}
	t := &dotm.AssignedTotals{ByPSU: make([]dotm.AssignedCount, 0, len(av.byPSU)), ByEnumerator: maps.Clone(av.byEnum)}
	for _, k := range slices.SortedFunc(maps.Keys(av.byPSU), func(a, b [2]string) int { return slices.Compare(a[:], b[:]) }) {
		t.ByPSU = append(t.ByPSU, dotm.AssignedCount{PSU: k[0], Stratum: k[1], N: av.byPSU[k]})
	}
	return t, nil
}

// assignedRows reads a survey's assignments as counted (all of them, or
// those stamped after since): on the embedded store one SQL query on the
// (survey, seq, _id, psu, stratum, enumerator) index, which covers it; on
// MongoDB a find on the (survey, seq) index.
func (s *Store) assignedRows(ctx context.Context, survey string, since int64, onlySince bool) ([]assignedRow, error) {
	if s.sq == nil {
		filter := bson.D{{Key: "survey", Value: survey}}
		if onlySince {
			filter = append(filter, bson.E{Key: "seq", Value: bson.D{{Key: "$gt", Value: since}}})
		}
		proj := bson.D{{Key: "psu", Value: 1}, {Key: "stratum", Value: 1}, {Key: "enumerator", Value: 1}, {Key: "seq", Value: 1}}
		var rows []assignedRow
		if err := s.findAll(ctx, colAssignments, filter, options.Find().SetProjection(proj), &rows); err != nil {
			return nil, err
		}
		return rows, nil
	}
	table, indexedBy, err := s.sq.table(ctx, colAssignments, "survey_seq")
	if err != nil || table == "" {
		return nil, err
	}
	q := fmt.Sprintf(`SELECT %s FROM %q%s WHERE %s = ?`, selectFields("_id", "psu", "stratum", "enumerator", "seq"), table, indexedBy, sjsonField("survey"))
	args := []any{survey}
	if onlySince {
		q += fmt.Sprintf(` AND %s > ?`, sjsonField("seq"))
		args = append(args, since)
	}
	rs, err := s.sq.query(ctx, q, args...)
	if err != nil {
		return nil, unavailable(err, "read assignment counts")
	}
	defer rs.Close()
	var rows []assignedRow
	for rs.Next() {
		var r assignedRow
		var psu, stratum, enum sql.NullString
		var seq sql.NullInt64
		if err := rs.Scan(&r.ID, &psu, &stratum, &enum, &seq); err != nil {
			return nil, unavailable(err, "read assignment counts")
		}
		r.PSU, r.Stratum, r.Enumerator, r.Seq = psu.String, stratum.String, enum.String, seq.Int64
		rows = append(rows, r)
	}
	return rows, unavailable(rs.Err(), "read assignment counts")
}

// assignedCount counts a survey's assignments (over the same index).
func (s *Store) assignedCount(ctx context.Context, survey string) (int, error) {
	if s.sq == nil {
		n, err := s.collection(colAssignments).CountDocuments(ctx, bson.D{{Key: "survey", Value: survey}})
		return int(n), unavailable(err, "count assignments")
	}
	table, indexedBy, err := s.sq.table(ctx, colAssignments, "survey_seq")
	if err != nil || table == "" {
		return 0, err
	}
	var n int
	q := fmt.Sprintf(`SELECT count(*) FROM %q%s WHERE %s = ?`, table, indexedBy, sjsonField("survey"))
	if err := s.sq.db.QueryRowContext(ctx, q, survey).Scan(&n); err != nil {
		return 0, unavailable(err, "count assignments")
	}
	return n, nil
}

// SurveyProgress implements dotm.ProgressSummarizer: the tallies' view and
// the assignment counts brought up to date from the store, then the
// summary from the tallies' ProgressState (made from the view the first
// time, and after each full read).
func (s *Store) SurveyProgress(ctx context.Context, in dotm.ProgressInput) (dotm.Progress, error) {
	if s.noTallyView { // every tally and assignment read at this request
		var err error
		if in.Tallies, err = s.Tallies(ctx, dotm.TallyFilter{Survey: in.Survey}); err != nil {
			return dotm.Progress{}, err
		}
		if in.Assigned, err = s.AssignedCounts(ctx, in.Survey); err != nil {
			return dotm.Progress{}, err
		}
		return dotm.ComputeProgress(in), nil
	}
	assigned, err := s.assignedTotals(ctx, in.Survey)
	if err != nil {
		return dotm.Progress{}, err
	}
	tv := s.views.get(in.Survey)
	tv.mu.Lock()
	defer tv.mu.Unlock()
	if err := s.refreshTallies(ctx, in.Survey, tv); err != nil {
		return dotm.Progress{}, err
	}
	if tv.state == nil {
		tv.state = dotm.NewProgressState(slices.Collect(maps.Values(tv.byID)))
	}
	return tv.state.Summary(in, assigned), nil
}

var _ dotm.ProgressSummarizer = (*Store)(nil)
