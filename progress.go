package dotm

import (
	"context"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/dotm-survey/dotm/sampling"
)

// This file declares what the progress summary of a survey round is made
// of: one small Tally per stored submission, written when the submission is
// stored and updated when it is reviewed or corrected, so that the summary
// reads these few fields and never the answers.

// Tally is what the progress summary keeps of one submission: where and by
// whom it was made, where it stands, how long it took, its quality flags,
// and the few numbers the enumerator-level checks need (ages for heaping,
// amounts' roundness). It holds no identifier: the location is the only
// direct answer it keeps, for the map and the distance check, and the API
// shows it only to roles that may read locations.
type Tally struct {
	ID          string           `json:"id"` // the submission id
	Survey      string           `json:"survey"`
	Enumerator  string           `json:"enumerator"`
	Assignment  string           `json:"assignment,omitempty"`
	PSU         string           `json:"psu,omitempty"`
	Stratum     string           `json:"stratum,omitempty"`
	HouseholdID string           `json:"household_id,omitempty"`
	Status      SubmissionStatus `json:"status"`
	Superseded  bool             `json:"superseded,omitempty"` // corrected by a later submission
	Refused     bool             `json:"refused,omitempty"`    // consent not given
	Class       HouseholdClass   `json:"class,omitempty"`      // screening class of the household, from its EA's listing
	Day         string           `json:"day"`                  // YYYY-MM-DD of the interview's end (UTC)
	Seconds     int              `json:"seconds"`              // ended_at − started_at
	Flags       []string         `json:"flags,omitempty"`
	HasGPS      bool             `json:"has_gps,omitempty"`
	Lat         float64          `json:"lat,omitempty"`
	Lon         float64          `json:"lon,omitempty"`
	Ages        []int            `json:"ages,omitempty"`          // every age answered (roster, migrants, returnees)
	Amounts     int              `json:"amounts,omitempty"`       // amounts answered
	RoundAmount int              `json:"round_amounts,omitempty"` // of which with at most one significant digit
}

// TallyFilter selects tallies: a survey's, or one PSU's of a survey.
type TallyFilter struct {
	Survey string
	PSU    string // "" for every PSU
	GPS    bool   // only those with a location
}

// TallyStore keeps one tally per submission, keyed by submission id.
//
// PutTally stores t, replacing the tally of the same submission (a retry
// writes the same tally again). SetTallyStatus records a review decision;
// SupersedeTally records that a submission was corrected (both ENOTFOUND
// when no tally has that id). Tallies lists those matching f, by id.
type TallyStore interface {
	PutTally(ctx context.Context, t Tally) error
	SetTallyStatus(ctx context.Context, id string, status SubmissionStatus) error
	SupersedeTally(ctx context.Context, id string) error
	Tallies(ctx context.Context, f TallyFilter) ([]Tally, error)
}

// TallyRepair is a stored submission whose tally is missing (Missing:
// stored before tallies were kept, or its write failed) or disagrees with
// it (a review or correction whose tally update failed). Status and
// Superseded are the submission's.
type TallyRepair struct {
	ID         string
	Missing    bool
	Status     SubmissionStatus
	Superseded bool
}

// TallyReconciler lists the submissions whose tally needs repair, in the
// order they were received (so that rebuilding their tallies in that order
// replays the checks as ingest ran them).
type TallyReconciler interface {
	TallyRepairs(ctx context.Context) ([]TallyRepair, error)
}

// ClassCount is a number of households of one screening class in one EA.
type ClassCount struct {
	PSU, Stratum, Class string
	N                   int
}

// PSUSelection is the second-stage draw of one EA in counts: its quota (as
// sampling.Quota.String writes it) and the households selected by class.
type PSUSelection struct {
	PSU, Stratum, Quota string
	Selected            map[string]int
}

// AssignedCount is a number of assignments of one enumerator in one EA.
type AssignedCount struct {
	PSU, Stratum, Enumerator string
	N                        int
}

// ProgressStore reads what the progress summary counts, in counts per EA
// (never the listings, draws or assignments whole), besides the tallies.
//
// ListedCounts counts a survey's listed households by EA and class;
// Selections are its household draws; AssignedCounts counts its
// assignments by EA and enumerator; HouseholdClass finds the screening
// class of a household in the listing of its EA ("" when not listed);
// SampledPSUs lists the EAs of the first-stage sample (PSU and stratum
// only; none before the draw).
type ProgressStore interface {
	TallyStore
	ListedCounts(ctx context.Context, survey string) ([]ClassCount, error)
	Selections(ctx context.Context, survey string) ([]PSUSelection, error)
	AssignedCounts(ctx context.Context, survey string) ([]AssignedCount, error)
	HouseholdClass(ctx context.Context, survey, psu, household string) (HouseholdClass, error)
	SampledPSUs(ctx context.Context, survey string) ([]SampledPSU, error)
}

// FingerprintStore remembers keyed hashes of what identifies a household
// (its answers, respondent, phone), to find duplicates without keeping or
// showing the identifiers.
//
// FingerprintOwner answers the submission that first had fingerprint key
// ("" when none); ClaimFingerprint records id as its owner unless one is
// recorded already (then nothing changes and no error).
type FingerprintStore interface {
	FingerprintOwner(ctx context.Context, key string) (string, error)
	ClaimFingerprint(ctx context.Context, key, id string) error
}

// The quality flags of a submission (computed on ingest by package
// quality) and of an enumerator (computed with the progress summary).
const (
	FlagShort         = "short"                // interview too short for the answers it holds
	FlagGPSFar        = "gps_far"              // point far from its EA's other interviews
	FlagDupAnswers    = "duplicate_answers"    // same answers as another household
	FlagDupRespondent = "duplicate_respondent" // same respondent and roster as another household
	FlagDupPhone      = "duplicate_phone"      // same phone as another household
	FlagStraightLine  = "straight_lining"      // one answer to a whole battery of questions
	FlagAgeHeaping    = "age_heaping"          // enumerator: ages end in 0 or 5 too often (Whipple)
	FlagAmountHeaping = "amount_heaping"       // enumerator: amounts too often round
	FlagDurationOut   = "duration_outlier"     // enumerator: median duration far from the others'
	FlagRefusalOut    = "refusal_outlier"      // enumerator: refusal share far from the others'
)

// Counts are the household counts of one row of the progress summary.
type Counts struct {
	Listed      int            `json:"listed"`
	ListedBy    map[string]int `json:"listed_by_class"`
	Selected    int            `json:"selected"`
	SelectedBy  map[string]int `json:"selected_by_class"`
	Quota       map[string]int `json:"quota_by_class"` // the draw's quota summed over the row's PSUs
	Assigned    int            `json:"assigned"`
	Interviewed int            `json:"interviewed"` // households with a stored interview (corrections not counted twice)
	// InterviewedBy counts interviewed households by screening class
	// (against Quota).
	InterviewedBy map[string]int `json:"interviewed_by_class"`
	Completed     int            `json:"completed"` // interviewed with consent
	Refused       int            `json:"refused"`
	Pending       int            `json:"pending_review"`
	Returned      int            `json:"returned"` // rejected and not corrected yet
	Approved      int            `json:"approved"`
	Flagged       int            `json:"flagged"` // households whose current interview has a flag
	Flags         map[string]int `json:"flags"`
	// ResponseRate is AAPOR RR1: complete interviews over the eligible
	// sample (the selected households; those not interviewed yet count as
	// non-interviews, so the rate grows as fieldwork goes on).
	ResponseRate float64 `json:"response_rate_rr1"`
	// ScreeningRate is the share of the sampled EAs that are listed and
	// screened (1 for an EA once its listing is in).
	ScreeningRate float64 `json:"screening_rate"`
	PSUs          int     `json:"psus"`
	PSUsListed    int     `json:"psus_listed"`
	FirstDay      string  `json:"first_day,omitempty"`
	LastDay       string  `json:"last_day,omitempty"`
	DaysInField   int     `json:"days_in_field"` // from the first interview's day to the last's, inclusive
}

// PSUProgress is one enumeration area's row.
type PSUProgress struct {
	PSU     string `json:"psu"`
	Stratum string `json:"stratum"`
	Counts
	// Centroid of the EA's interview locations (coordinate-wise median),
	// for the map; only for roles that may see locations.
	Centroid *Point `json:"centroid,omitempty"`
}

// StratumProgress is one stratum's row.
type StratumProgress struct {
	Stratum string `json:"stratum"`
	Counts
}

// EnumeratorProgress is one enumerator's row.
type EnumeratorProgress struct {
	Enumerator    string         `json:"enumerator"`
	Assigned      int            `json:"assigned"`
	Interviews    int            `json:"interviews"` // submissions, corrections included
	Refusals      int            `json:"refusals"`
	Rejections    int            `json:"rejections"` // submissions a supervisor returned
	Approved      int            `json:"approved"`
	Pending       int            `json:"pending_review"`
	Days          int            `json:"days"` // days with at least one interview
	PerDay        float64        `json:"interviews_per_day"`
	ByDay         map[string]int `json:"by_day"`
	MedianMinutes float64        `json:"median_minutes"` // of consented interviews
	Flags         map[string]int `json:"flags"`          // per-submission flags, counted
	// Whipple is Whipple's index of the ages the enumerator recorded
	// (100: no preference for 0 and 5; 500: every age ends in 0 or 5);
	// 0 when fewer than MinHeapingAges ages from 23 to 62 were recorded.
	Whipple float64 `json:"whipple"`
	// RoundAmounts is the share of amounts with one significant digit.
	RoundAmounts float64 `json:"round_amount_share"`
	// EnumeratorFlags are the flags of the enumerator's work as a whole.
	EnumeratorFlags []string `json:"enumerator_flags"`
}

// Point is a location.
type Point struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// MapPoint is one interview's location, for the map.
type MapPoint struct {
	Submission string   `json:"submission"`
	PSU        string   `json:"psu"`
	Enumerator string   `json:"enumerator"`
	Lat        float64  `json:"lat"`
	Lon        float64  `json:"lon"`
	Flags      []string `json:"flags,omitempty"`
}

// Progress is a survey round's progress summary.
type Progress struct {
	Survey      string               `json:"survey"`
	Total       Counts               `json:"total"`
	Strata      []StratumProgress    `json:"strata"`
	PSUs        []PSUProgress        `json:"psus"`
	Enumerators []EnumeratorProgress `json:"enumerators"`
	// Points are the interview locations (nil unless asked for by a role
	// that may see them).
	Points []MapPoint `json:"points,omitempty"`
}

// HeapingZ is the one-sided z statistic of the count of ages from 23 to 62
// ending in 0 or 5 against the binomial expectation of one in five without
// digit preference: (heaped − n/5) / √(n·0.16). An enumerator's Whipple
// index is flagged only when it is also significant (HeapingMinZ), so that
// the chance variation of a hundred ages (a standard error of about 20
// points of the index) is not taken for heaping.
func HeapingZ(ages []int) float64 {
	var n, heaped float64
	for _, a := range ages {
		if a >= 23 && a <= 62 {
			n++
			if a%5 == 0 {
				heaped++
			}
		}
	}
	if n == 0 {
		return 0
	}
	return (heaped - n/5) / math.Sqrt(n*0.16)
}

// HeapingMinZ is the z beyond which heaping is taken as real (one-sided
// p < 0.001).
const HeapingMinZ = 3.09

// MinHeapingAges is the fewest ages from 23 to 62 that Whipple's index is
// computed on; MaxWhipple is the index above which ages are flagged (the
// United Nations' grading calls 125–175 "rough", above 175 "very rough").
const (
	MinHeapingAges = 50
	MaxWhipple     = 125.0
	// MinRoundAmounts and MaxRoundShare: amounts are flagged when at least
	// this many were recorded and more than this share have one
	// significant digit.
	MinRoundAmounts = 20
	MaxRoundShare   = 0.6
	// OutlierZ is the robust z-score (median and MAD over enumerators)
	// beyond which an enumerator's median duration or refusal share is
	// flagged; MinOutlierInterviews is the fewest consented interviews an
	// enumerator needs to be compared.
	OutlierZ             = 3.5
	MinOutlierInterviews = 10
	// OutlierDuration and OutlierRefusals are the smallest differences
	// from the enumerators' median that count: a quarter of the median
	// duration, ten points of refusal share.
	OutlierDuration = 0.25
	OutlierRefusals = 0.10
)

// ProgressInput is what ComputeProgress reads: the survey's tallies and
// its listings, household draws and assignments in counts.
type ProgressInput struct {
	Survey     string
	Tallies    []Tally
	Listed     []ClassCount
	Selections []PSUSelection
	Assigned   []AssignedCount
	Sampled    []SampledPSU // the EAs of the first-stage sample, once drawn
	WithPoints bool
}

// newCounts is an EA's counts before anything is added.
func newCounts() Counts {
	return Counts{ListedBy: map[string]int{}, SelectedBy: map[string]int{}, Quota: map[string]int{},
		InterviewedBy: map[string]int{}, Flags: map[string]int{}}
}

// addSampleCounts adds to the EAs' counts (psu makes an EA's on first use)
// what no tally changes: the sampled EAs, the households listed by class,
// the selections and their quotas. It returns the sampled EAs.
func addSampleCounts(in ProgressInput, psu func(id, stratum string) *Counts) map[string]bool {
	sampled := map[string]bool{}
	if in.Sampled != nil {
		for _, p := range in.Sampled {
			psu(p.PSU, p.Stratum)
			sampled[p.PSU] = true
		}
	}
	for _, l := range in.Listed {
		a := psu(l.PSU, l.Stratum)
		a.PSUsListed = 1
		a.Listed += l.N
		a.ListedBy[l.Class] += l.N
	}
	for _, sel := range in.Selections {
		a := psu(sel.PSU, sel.Stratum)
		if q, err := sampling.ParseQuota(sel.Quota); err == nil {
			for k, v := range q {
				a.Quota[k] += v
			}
		}
		for k, v := range sel.Selected {
			a.Selected += v
			a.SelectedBy[k] += v
		}
	}
	return sampled
}

// ComputeProgress makes the progress summary. A household counts once:
// its current interview (the latest correction) says whether it is
// pending, returned or approved; refusals are interviews without consent.
func ComputeProgress(in ProgressInput) Progress {
	type acc struct {
		Counts
		stratum string
		days    []string
		lats    []float64
		lons    []float64
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
	enums := map[string]*EnumeratorProgress{}
	enum := func(name string) *EnumeratorProgress {
		e, ok := enums[name]
		if !ok {
			e = &EnumeratorProgress{Enumerator: name, ByDay: map[string]int{}, Flags: map[string]int{}, EnumeratorFlags: []string{}}
			enums[name] = e
		}
		return e
	}
	for _, as := range in.Assigned {
		psu(as.PSU, as.Stratum).Assigned += as.N
		enum(as.Enumerator).Assigned += as.N
	}

	// Per enumerator: every submission; per household: the current one.
	minutes := map[string][]float64{}
	ages := map[string][]int{}
	amounts := map[string][2]int{}
	var points []MapPoint
	for _, t := range in.Tallies {
		e := enum(t.Enumerator)
		e.Interviews++
		e.ByDay[t.Day]++
		if t.Refused {
			e.Refusals++
		} else {
			minutes[t.Enumerator] = append(minutes[t.Enumerator], float64(t.Seconds)/60)
		}
		switch t.Status {
		case SubmissionRejected:
			e.Rejections++
		case SubmissionApproved:
			e.Approved++
		case SubmissionReceived:
			e.Pending++
		}
		for _, f := range t.Flags {
			e.Flags[f]++
		}
		ages[t.Enumerator] = append(ages[t.Enumerator], t.Ages...)
		am := amounts[t.Enumerator]
		amounts[t.Enumerator] = [2]int{am[0] + t.Amounts, am[1] + t.RoundAmount}
		if t.Superseded {
			continue
		}
		a := psu(t.PSU, t.Stratum)
		a.Interviewed++
		if t.Class != "" {
			a.InterviewedBy[string(t.Class)]++
		}
		if t.Refused {
			a.Refused++
		} else {
			a.Completed++
		}
		switch t.Status {
		case SubmissionReceived:
			a.Pending++
		case SubmissionRejected:
			a.Returned++
		case SubmissionApproved:
			a.Approved++
		}
		if len(t.Flags) > 0 {
			a.Flagged++
			for _, f := range t.Flags {
				a.Flags[f]++
			}
		}
		a.days = append(a.days, t.Day)
		if t.HasGPS {
			a.lats = append(a.lats, t.Lat)
			a.lons = append(a.lons, t.Lon)
			if in.WithPoints {
				points = append(points, MapPoint{Submission: t.ID, PSU: t.PSU, Enumerator: t.Enumerator, Lat: t.Lat, Lon: t.Lon, Flags: t.Flags})
			}
		}
	}

	p := Progress{Survey: in.Survey, Strata: []StratumProgress{}, PSUs: []PSUProgress{}, Enumerators: []EnumeratorProgress{}, Points: points}
	strata := map[string]*acc{}
	total := newAcc()
	for _, id := range sortedKeys(psus) {
		a := psus[id]
		if sampled[id] || (in.Sampled == nil && id != "") {
			a.PSUs = 1
		}
		finish(&a.Counts, a.days)
		row := PSUProgress{PSU: id, Stratum: a.stratum, Counts: a.Counts}
		if in.WithPoints && len(a.lats) > 0 {
			row.Centroid = &Point{Lat: Median(a.lats), Lon: Median(a.lons)}
		}
		p.PSUs = append(p.PSUs, row)
		s, ok := strata[a.stratum]
		if !ok {
			s = newAcc()
			strata[a.stratum] = s
		}
		for _, t := range []*acc{s, total} {
			t.add(a.Counts)
			t.days = append(t.days, a.days...)
		}
	}
	for _, id := range sortedKeys(strata) {
		s := strata[id]
		finish(&s.Counts, s.days)
		p.Strata = append(p.Strata, StratumProgress{Stratum: id, Counts: s.Counts})
	}
	finish(&total.Counts, total.days)
	p.Total = total.Counts

	// Enumerators, and their flags against each other.
	var meds, refusals []float64
	for _, name := range sortedKeys(enums) {
		e := enums[name]
		e.Days = len(e.ByDay)
		if e.Days > 0 {
			e.PerDay = float64(e.Interviews) / float64(e.Days)
		}
		if m := minutes[name]; len(m) > 0 {
			e.MedianMinutes = Median(m)
		}
		if w, ok := Whipple(ages[name]); ok {
			e.Whipple = w
			if w > MaxWhipple && HeapingZ(ages[name]) > HeapingMinZ {
				e.EnumeratorFlags = append(e.EnumeratorFlags, FlagAgeHeaping)
			}
		}
		if am := amounts[name]; am[0] > 0 {
			e.RoundAmounts = float64(am[1]) / float64(am[0])
			if am[0] >= MinRoundAmounts && e.RoundAmounts > MaxRoundShare {
				e.EnumeratorFlags = append(e.EnumeratorFlags, FlagAmountHeaping)
			}
		}
		if len(minutes[name]) >= MinOutlierInterviews {
			meds = append(meds, e.MedianMinutes)
			refusals = append(refusals, float64(e.Refusals)/float64(e.Interviews))
		}
		p.Enumerators = append(p.Enumerators, *e)
	}
	for i := range p.Enumerators {
		e := &p.Enumerators[i]
		if len(minutes[e.Enumerator]) < MinOutlierInterviews {
			continue
		}
		// Far from the others both in the robust z-score and in practice:
		// when every enumerator works alike the MAD is tiny, and a median
		// two minutes off would stand out.
		if m := Median(meds); RobustZ(e.MedianMinutes, meds) > OutlierZ && math.Abs(e.MedianMinutes-m) > OutlierDuration*m {
			e.EnumeratorFlags = append(e.EnumeratorFlags, FlagDurationOut)
		}
		share := float64(e.Refusals) / float64(e.Interviews)
		if RobustZ(share, refusals) > OutlierZ && math.Abs(share-Median(refusals)) > OutlierRefusals {
			e.EnumeratorFlags = append(e.EnumeratorFlags, FlagRefusalOut)
		}
	}
	return p
}

func (c *Counts) add(o Counts) {
	c.Listed += o.Listed
	c.Selected += o.Selected
	c.Assigned += o.Assigned
	c.Interviewed += o.Interviewed
	c.Completed += o.Completed
	c.Refused += o.Refused
	c.Pending += o.Pending
	c.Returned += o.Returned
	c.Approved += o.Approved
	c.Flagged += o.Flagged
	c.PSUs += o.PSUs
	c.PSUsListed += o.PSUsListed
	for _, m := range []struct{ to, from map[string]int }{{c.ListedBy, o.ListedBy}, {c.SelectedBy, o.SelectedBy}, {c.Quota, o.Quota},
		{c.InterviewedBy, o.InterviewedBy}, {c.Flags, o.Flags}} {
		for k, v := range m.from {
			m.to[k] += v
		}
	}
}

// finish computes a row's rates and field days.
func finish(c *Counts, days []string) {
	if len(days) == 0 {
		finishSpan(c, "", "", false)
		return
	}
	finishSpan(c, slices.Min(days), slices.Max(days), true)
}

// finishSpan is finish given the first and last of the row's days
// (anyDays false: it has none).
func finishSpan(c *Counts, first, last string, anyDays bool) {
	if c.Selected > 0 {
		c.ResponseRate = float64(c.Completed) / float64(c.Selected)
	} else if c.Assigned > 0 {
		c.ResponseRate = float64(c.Completed) / float64(c.Assigned)
	}
	if c.PSUs > 0 {
		c.ScreeningRate = float64(min(c.PSUsListed, c.PSUs)) / float64(c.PSUs)
	}
	if !anyDays {
		return
	}
	c.FirstDay, c.LastDay = first, last
	firstDay, err1 := time.Parse(time.DateOnly, c.FirstDay)
	lastDay, err2 := time.Parse(time.DateOnly, c.LastDay)
	if err1 == nil && err2 == nil {
		c.DaysInField = int(lastDay.Sub(firstDay).Hours()/24) + 1
	}
}

func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}

// Median is the middle value of x (the mean of the two middle ones for an
// even count); 0 for none. x is not changed.
func Median(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	s := slices.Clone(x)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// RobustZ is |x − median(xs)| / (1.4826·MAD(xs)), the robust z-score of
// Iglewicz and Hoaglin; 0 when the MAD is 0 and x is the median, +Inf when
// the MAD is 0 and x is not.
func RobustZ(x float64, xs []float64) float64 {
	m := Median(xs)
	dev := make([]float64, len(xs))
	for i, v := range xs {
		dev[i] = math.Abs(v - m)
	}
	mad := 1.4826 * Median(dev)
	d := math.Abs(x - m)
	if mad == 0 {
		if d == 0 {
			return 0
		}
		return math.Inf(1)
	}
	return d / mad
}

// Whipple is Whipple's index of digit preference for 0 and 5 over the ages
// from 23 to 62: 5 × (ages ending in 0 or 5) / (all of them) × 100; ok is
// false below MinHeapingAges ages in that range (United Nations, Manual II,
// 1955; the range is the one the UN and the DHS use).
func Whipple(ages []int) (w float64, ok bool) {
	var n, heaped int
	for _, a := range ages {
		if a >= 23 && a <= 62 {
			n++
			if a%5 == 0 {
				heaped++
			}
		}
	}
	if n < MinHeapingAges {
		return 0, false
	}
	return 500 * float64(heaped) / float64(n), true
}
