package dotm

import (
	"context"
	"math"
	"slices"
	"strings"
)

// ComputeProgress reads every tally of the survey at each request. A
// ProgressState keeps instead, per EA and per enumerator, what the tallies
// add up to, and is told of each tally that changed (Put): the old tally's
// contribution is taken out and the new one's put in. Summary then costs
// the size of the answer (EA and enumerator rows), not the number of
// submissions. What does not add up (medians of durations and of
// locations, the first and last day) is kept as sorted values or counts
// per value within its EA or enumerator, so the answer is the one
// ComputeProgress gives on the same tallies, value for value.

// ProgressSummarizer is a ProgressStore that keeps the tallies' part of the
// summary itself (a ProgressState brought up to date from the store at each
// call). SurveyProgress answers what ComputeProgress answers for in (its
// Survey, WithPoints, Listed, Selections and Sampled) with the survey's
// tallies and assignment counts as the store holds them.
type ProgressSummarizer interface {
	SurveyProgress(ctx context.Context, in ProgressInput) (Progress, error)
}

// AssignedTotals are a survey's assignment counts summed by EA (Enumerator
// "", ordered by PSU then stratum) and by enumerator: all the summary reads
// of AssignedCounts.
type AssignedTotals struct {
	ByPSU        []AssignedCount
	ByEnumerator map[string]int
}

// ProgressState is the tallies' part of a survey's progress summary, kept
// up to date one tally at a time. It is not safe for concurrent use.
type ProgressState struct {
	tallies map[string]Tally
	psus    map[string]*psuTallies
	enums   map[string]*enumTallies
	bulk    bool // building: sorted values are appended, sorted on first use
}

// psuTallies is what an EA's current interviews (tallies not superseded)
// add up to.
type psuTallies struct {
	n                                                        int
	strata                                                   map[string]int // tallies by their stratum
	completed, refused, pending, returned, approved, flagged int
	interviewedBy, flags, days                               map[string]int
	lats, lons                                               sortedFloats
}

// enumTallies is what an enumerator's submissions add up to.
type enumTallies struct {
	n, refusals, rejections, approved, pending int
	byDay, flags                               map[string]int
	minutes                                    sortedFloats // of consented interviews
	ages, heaped                               int          // ages from 23 to 62, and of them ending in 0 or 5
	amounts, round                             int
}

// sortedFloats is a multiset of numbers kept sorted (or appended and sorted
// on first use while a state is built).
type sortedFloats struct {
	v        []float64
	unsorted bool
}

func (s *sortedFloats) sort() {
	if s.unsorted {
		slices.Sort(s.v)
		s.unsorted = false
	}
}

func (s *sortedFloats) add(x float64, bulk bool) {
	if bulk {
		s.v = append(s.v, x)
		s.unsorted = true
		return
	}
	s.sort()
	i, _ := slices.BinarySearch(s.v, x)
	s.v = slices.Insert(s.v, i, x)
}

func (s *sortedFloats) remove(x float64) {
	s.sort()
	if i, found := slices.BinarySearch(s.v, x); found {
		s.v = slices.Delete(s.v, i, i+1)
	}
}

// median is Median of the values.
func (s *sortedFloats) median() float64 {
	s.sort()
	n := len(s.v)
	switch {
	case n == 0:
		return 0
	case n%2 == 1:
		return s.v[n/2]
	}
	return (s.v[n/2-1] + s.v[n/2]) / 2
}

// bump adds d to m[k], and drops k when it comes to 0.
func bump(m map[string]int, k string, d int) {
	if v := m[k] + d; v != 0 {
		m[k] = v
	} else {
		delete(m, k)
	}
}

// NewProgressState makes the state of tallies (any order, one per id).
func NewProgressState(tallies []Tally) *ProgressState {
	s := &ProgressState{tallies: make(map[string]Tally, len(tallies)), psus: map[string]*psuTallies{}, enums: map[string]*enumTallies{}, bulk: true}
	for _, t := range tallies {
		s.Put(t)
	}
	s.bulk = false
	return s
}

// Len is the number of tallies in the state.
func (s *ProgressState) Len() int { return len(s.tallies) }

// Put adds t, or replaces the tally of the same submission.
func (s *ProgressState) Put(t Tally) {
	if old, ok := s.tallies[t.ID]; ok {
		s.apply(old, -1)
	}
	s.apply(t, 1)
	s.tallies[t.ID] = t
}

// Remove takes out the tally of submission id, if there is one.
func (s *ProgressState) Remove(id string) {
	if old, ok := s.tallies[id]; ok {
		s.apply(old, -1)
		delete(s.tallies, id)
	}
}

// apply adds (sign 1) or takes out (sign −1) the contribution of t, as
// ComputeProgress counts it.
func (s *ProgressState) apply(t Tally, sign int) {
	e, ok := s.enums[t.Enumerator]
	if !ok {
		e = &enumTallies{byDay: map[string]int{}, flags: map[string]int{}}
		s.enums[t.Enumerator] = e
	}
	e.n += sign
	bump(e.byDay, t.Day, sign)
	if t.Refused {
		e.refusals += sign
	} else if m := float64(t.Seconds) / 60; sign > 0 {
		e.minutes.add(m, s.bulk)
	} else {
		e.minutes.remove(m)
	}
	switch t.Status {
	case SubmissionRejected:
		e.rejections += sign
	case SubmissionApproved:
		e.approved += sign
	case SubmissionReceived:
		e.pending += sign
	}
	for _, f := range t.Flags {
		bump(e.flags, f, sign)
	}
	for _, a := range t.Ages {
		if a >= 23 && a <= 62 {
			e.ages += sign
			if a%5 == 0 {
				e.heaped += sign
			}
		}
	}
	e.amounts += sign * t.Amounts
	e.round += sign * t.RoundAmount
	if e.n == 0 {
		delete(s.enums, t.Enumerator)
	}
	if t.Superseded {
		return
	}
	a, ok := s.psus[t.PSU]
	if !ok {
		a = &psuTallies{strata: map[string]int{}, interviewedBy: map[string]int{}, flags: map[string]int{}, days: map[string]int{}}
		s.psus[t.PSU] = a
	}
	a.n += sign
	bump(a.strata, t.Stratum, sign)
	if t.Class != "" {
		bump(a.interviewedBy, string(t.Class), sign)
	}
	if t.Refused {
		a.refused += sign
	} else {
		a.completed += sign
	}
	switch t.Status {
	case SubmissionReceived:
		a.pending += sign
	case SubmissionRejected:
		a.returned += sign
	case SubmissionApproved:
		a.approved += sign
	}
	if len(t.Flags) > 0 {
		a.flagged += sign
		for _, f := range t.Flags {
			bump(a.flags, f, sign)
		}
	}
	bump(a.days, t.Day, sign)
	if t.HasGPS {
		if sign > 0 {
			a.lats.add(t.Lat, s.bulk)
			a.lons.add(t.Lon, s.bulk)
		} else {
			a.lats.remove(t.Lat)
			a.lons.remove(t.Lon)
		}
	}
	if a.n == 0 {
		delete(s.psus, t.PSU)
	}
}

// tallyStratum is the stratum ComputeProgress gives EA psu from its
// tallies: that of its current tally of lowest id with a stratum. Only when
// the EA's tallies name more than one stratum are they looked up.
func (s *ProgressState) tallyStratum(psu string, a *psuTallies) string {
	var only string
	n := 0
	for k := range a.strata {
		if k != "" {
			only = k
			n++
		}
	}
	if n <= 1 {
		return only
	}
	best, stratum := "", ""
	for id, t := range s.tallies {
		if t.PSU == psu && !t.Superseded && t.Stratum != "" && (stratum == "" || id < best) {
			best, stratum = id, t.Stratum
		}
	}
	return stratum
}

// Summary is ComputeProgress of in with the state's tallies in place of
// in.Tallies, and assigned (when not nil) in place of in.Assigned: the same
// answer, in time of the answer's size (and of the interview points', when
// asked for).
func (s *ProgressState) Summary(in ProgressInput, assigned *AssignedTotals) Progress {
	type acc struct {
		Counts
		stratum     string
		first, last string
		anyDays     bool
	}
	newAcc := func() *acc {
		return &acc{Counts: newCounts()}
	}
	psus := map[string]*acc{}
	psu := func(id, stratum string) *acc {
		a, ok := psus[id]
		if !ok {
			a = newAcc()
			psus[id] = a
		}
		if a.stratum == "" {
			a.stratum = stratum
		}
		return a
	}
	sampled := addSampleCounts(in, func(id, stratum string) *Counts { return &psu(id, stratum).Counts })
	enumAssigned := map[string]int{}
	if assigned != nil {
		for _, as := range assigned.ByPSU {
			psu(as.PSU, as.Stratum).Assigned += as.N
		}
		enumAssigned = assigned.ByEnumerator
	} else {
		for _, as := range in.Assigned {
			psu(as.PSU, as.Stratum).Assigned += as.N
			enumAssigned[as.Enumerator] += as.N
		}
	}
	for id, t := range s.psus {
		a := psu(id, "")
		if a.stratum == "" {
			a.stratum = s.tallyStratum(id, t)
		}
		a.Interviewed = t.n
		for k, v := range t.interviewedBy {
			a.InterviewedBy[k] += v
		}
		a.Completed, a.Refused = t.completed, t.refused
		a.Pending, a.Returned, a.Approved = t.pending, t.returned, t.approved
		a.Flagged = t.flagged
		for k, v := range t.flags {
			a.Flags[k] += v
		}
		for d := range t.days {
			if !a.anyDays || d < a.first {
				a.first = d
			}
			if !a.anyDays || d > a.last {
				a.last = d
			}
			a.anyDays = true
		}
	}

	var points []MapPoint
	if in.WithPoints {
		ids := make([]string, 0, len(s.tallies))
		for id, t := range s.tallies {
			if !t.Superseded && t.HasGPS {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		for _, id := range ids {
			t := s.tallies[id]
			points = append(points, MapPoint{Submission: t.ID, PSU: t.PSU, Enumerator: t.Enumerator, Lat: t.Lat, Lon: t.Lon, Flags: t.Flags})
		}
	}
	p := Progress{Survey: in.Survey, Strata: []StratumProgress{}, PSUs: make([]PSUProgress, 0, len(psus)), Enumerators: []EnumeratorProgress{}, Points: points}
	strata := map[string]*acc{}
	total := newAcc()
	span := func(to *acc, from *acc) {
		if !from.anyDays {
			return
		}
		if !to.anyDays || from.first < to.first {
			to.first = from.first
		}
		if !to.anyDays || from.last > to.last {
			to.last = from.last
		}
		to.anyDays = true
	}
	for _, id := range sortedKeys(psus) {
		a := psus[id]
		if sampled[id] || (in.Sampled == nil && id != "") {
			a.PSUs = 1
		}
		finishSpan(&a.Counts, a.first, a.last, a.anyDays)
		row := PSUProgress{PSU: id, Stratum: a.stratum, Counts: a.Counts}
		if t := s.psus[id]; in.WithPoints && t != nil && len(t.lats.v) > 0 {
			row.Centroid = &Point{Lat: t.lats.median(), Lon: t.lons.median()}
		}
		p.PSUs = append(p.PSUs, row)
		st, ok := strata[a.stratum]
		if !ok {
			st = newAcc()
			strata[a.stratum] = st
		}
		for _, to := range []*acc{st, total} {
			to.add(a.Counts)
			span(to, a)
		}
	}
	for _, id := range sortedKeys(strata) {
		st := strata[id]
		finishSpan(&st.Counts, st.first, st.last, st.anyDays)
		p.Strata = append(p.Strata, StratumProgress{Stratum: id, Counts: st.Counts})
	}
	finishSpan(&total.Counts, total.first, total.last, total.anyDays)
	p.Total = total.Counts

	// Enumerators, and their flags against each other.
	names := make([]string, 0, len(s.enums)+len(enumAssigned))
	for name := range s.enums {
		names = append(names, name)
	}
	for name := range enumAssigned {
		if _, ok := s.enums[name]; !ok {
			names = append(names, name)
		}
	}
	slices.SortFunc(names, strings.Compare)
	var meds, refusals []float64
	compared := map[string]bool{}
	for _, name := range names {
		e := EnumeratorProgress{Enumerator: name, Assigned: enumAssigned[name], ByDay: map[string]int{}, Flags: map[string]int{}, EnumeratorFlags: []string{}}
		t := s.enums[name]
		if t == nil {
			p.Enumerators = append(p.Enumerators, e)
			continue
		}
		e.Interviews, e.Refusals, e.Rejections, e.Approved, e.Pending = t.n, t.refusals, t.rejections, t.approved, t.pending
		for k, v := range t.byDay {
			e.ByDay[k] = v
		}
		for k, v := range t.flags {
			e.Flags[k] = v
		}
		e.Days = len(e.ByDay)
		if e.Days > 0 {
			e.PerDay = float64(e.Interviews) / float64(e.Days)
		}
		if len(t.minutes.v) > 0 {
			e.MedianMinutes = t.minutes.median()
		}
		if t.ages >= MinHeapingAges { // Whipple and HeapingZ, from the counts
			e.Whipple = 500 * float64(t.heaped) / float64(t.ages)
			n, heaped := float64(t.ages), float64(t.heaped)
			if e.Whipple > MaxWhipple && (heaped-n/5)/math.Sqrt(n*0.16) > HeapingMinZ {
				e.EnumeratorFlags = append(e.EnumeratorFlags, FlagAgeHeaping)
			}
		}
		if t.amounts > 0 {
			e.RoundAmounts = float64(t.round) / float64(t.amounts)
			if t.amounts >= MinRoundAmounts && e.RoundAmounts > MaxRoundShare {
				e.EnumeratorFlags = append(e.EnumeratorFlags, FlagAmountHeaping)
			}
		}
		if len(t.minutes.v) >= MinOutlierInterviews {
			compared[name] = true
			meds = append(meds, e.MedianMinutes)
			refusals = append(refusals, float64(e.Refusals)/float64(e.Interviews))
		}
		p.Enumerators = append(p.Enumerators, e)
	}
	// RobustZ's median and MAD, once for all enumerators (the same
	// numbers ComputeProgress computes for each).
	medZ, refZ := newRobustZ(meds), newRobustZ(refusals)
	for i := range p.Enumerators {
		e := &p.Enumerators[i]
		if !compared[e.Enumerator] {
			continue
		}
		if m := medZ.median; medZ.z(e.MedianMinutes) > OutlierZ && math.Abs(e.MedianMinutes-m) > OutlierDuration*m {
			e.EnumeratorFlags = append(e.EnumeratorFlags, FlagDurationOut)
		}
		share := float64(e.Refusals) / float64(e.Interviews)
		if refZ.z(share) > OutlierZ && math.Abs(share-refZ.median) > OutlierRefusals {
			e.EnumeratorFlags = append(e.EnumeratorFlags, FlagRefusalOut)
		}
	}
	return p
}

// robustZ is RobustZ against fixed xs, with their median and MAD computed
// once.
type robustZ struct{ median, mad float64 }

func newRobustZ(xs []float64) robustZ {
	m := Median(xs)
	dev := make([]float64, len(xs))
	for i, v := range xs {
		dev[i] = math.Abs(v - m)
	}
	return robustZ{median: m, mad: 1.4826 * Median(dev)}
}

func (r robustZ) z(x float64) float64 {
	d := math.Abs(x - r.median)
	if r.mad == 0 {
		if d == 0 {
			return 0
		}
		return math.Inf(1)
	}
	return d / r.mad
}
