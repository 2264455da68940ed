package sampling

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// BaseWeight is the design weight of one selected household.
type BaseWeight struct {
	HouseholdID, PSU, Stratum, Class string
	Pi1, Pi2                         float64
	Weight                           float64 // 1/(π1·π2)
	// Certainty: its PSU was selected with certainty (π1 = 1), so that in
	// the design as drawn its households are PSUs (see DrawnDesign).
	Certainty bool
	// FPC is the number of PSUs in the stratum's frame, or 0 when the PSU
	// sample does not list the whole frame (written without --all: no
	// unselected units).
	FPC            float64
	PSUExtra       []string // the PSU's extra columns (PSUSample.ExtraColumns)
	HouseholdExtra []string // the household's extra columns
}

// BaseWeights returns the base weight w = 1/(π1·π2) of every selected
// household in hh; π1 comes from its PSU in psus, which must be selected.
// The result is in the order of hh. Problems are InputErrors with the
// household's line (Order).
func BaseWeights(psus *PSUSample, hh *HouseholdSample) ([]BaseWeight, error) {
	byID := map[string]*PSUDraw{}
	frameSize := map[string]int{}
	complete := false
	for i := range psus.Draws {
		d := &psus.Draws[i]
		byID[d.ID] = d
		frameSize[d.Stratum]++
		if !d.Selected {
			complete = true
		}
	}
	var ex errs
	var out []BaseWeight
	for _, h := range hh.Draws {
		if !h.Selected {
			continue
		}
		p, ok := byID[h.PSU]
		switch {
		case !ok:
			ex.add(h.Order, "psu_id", "household %q: PSU %q is not in the PSU sample", h.ID, h.PSU)
			continue
		case !p.Selected:
			ex.add(h.Order, "psu_id", "household %q: PSU %q was not selected", h.ID, h.PSU)
			continue
		case !(h.Pi2 > 0):
			ex.add(h.Order, "pi2", "household %q is selected but pi2 = %s", h.ID, FormatFloat(h.Pi2))
			continue
		}
		b := BaseWeight{HouseholdID: h.ID, PSU: h.PSU, Stratum: p.Stratum, Class: h.Class,
			Pi1: p.Pi, Pi2: h.Pi2, Weight: 1 / (p.Pi * h.Pi2), Certainty: p.Certainty, PSUExtra: p.Extra, HouseholdExtra: h.Extra}
		if complete {
			b.FPC = float64(frameSize[p.Stratum])
		}
		out = append(out, b)
	}
	if err := ex.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// BaseWeightTable lays out base weights with the canonical column names:
// household_id, stratum, psu, class, pi1, pi2, weight, certainty (0/1),
// fpc (frame PSUs, only when known), then the PSU's and the household's extra columns (a household
// column whose name is already taken is left out).
func BaseWeightTable(ws []BaseWeight, psuExtra, householdExtra []string) *Table {
	withFPC := len(ws) > 0 && ws[0].FPC > 0
	header := []string{"household_id", "stratum", "psu", "class", "pi1", "pi2", "weight", "certainty"}
	if withFPC {
		header = append(header, "fpc")
	}
	taken := map[string]bool{}
	for _, h := range header {
		taken[h] = true
	}
	var keepPSU, keepHH []int
	for j, c := range psuExtra {
		if !taken[c] {
			taken[c] = true
			header = append(header, c)
			keepPSU = append(keepPSU, j)
		}
	}
	for j, c := range householdExtra {
		if !taken[c] {
			taken[c] = true
			header = append(header, c)
			keepHH = append(keepHH, j)
		}
	}
	t := &Table{Header: header}
	for _, w := range ws {
		row := []string{w.HouseholdID, w.Stratum, w.PSU, w.Class, FormatFloat(w.Pi1), FormatFloat(w.Pi2), FormatFloat(w.Weight), flag(w.Certainty)}
		if withFPC {
			row = append(row, FormatFloat(w.FPC))
		}
		for _, j := range keepPSU {
			row = append(row, w.PSUExtra[j])
		}
		for _, j := range keepHH {
			row = append(row, w.HouseholdExtra[j])
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// NonresponseClass reports one weighting class of AdjustNonresponse.
type NonresponseClass struct {
	Key              []string // the class's values of the class columns
	Units            int
	Respondents      int
	Weight           float64 // Σ w over all units of the class
	RespondentWeight float64 // Σ w over its respondents
	// Factor multiplies the weights of the class's respondents (0 for a
	// class without respondents, whose weight went to MergedInto).
	Factor     float64
	MergedInto []string // key of the class that took this class's weight; nil if none
}

// NonresponseResult is the outcome of AdjustNonresponse.
type NonresponseResult struct {
	Weights  []float64 // adjusted weights; 0 for nonrespondents
	Classes  []NonresponseClass
	Warnings []string // one per class without respondents
}

// AdjustNonresponse applies the weighting-class nonresponse adjustment: in
// each class c (the distinct values of the tuples keys[i]), respondents'
// weights are multiplied by Σ_{i∈c} w_i / Σ_{i∈c, responded} w_i and
// nonrespondents' weights set to 0, so every class keeps its weight total.
//
// Collapse rule for a class without respondents (or whose respondents have
// zero total weight): the classes are sorted by key (element by element,
// as strings); the class's weight is added to the class with respondents
// that shares the longest leading part of its key (the same value of the
// first class column, then of the first two, …); among equally good ones
// the nearest in sort order, the following one before the preceding one.
// A warning names both classes. With no respondents at all it is an error.
// AdjustNonresponse panics if the slices differ in length.
func AdjustNonresponse(w []float64, keys [][]string, responded []bool) (*NonresponseResult, error) {
	if len(w) != len(keys) || len(w) != len(responded) {
		panic("sampling: AdjustNonresponse length mismatch")
	}
	index := map[string]int{}
	var classes []NonresponseClass
	unitClass := make([]int, len(w))
	for i := range w {
		k := strings.Join(keys[i], "\x00")
		c, ok := index[k]
		if !ok {
			c = len(classes)
			index[k] = c
			classes = append(classes, NonresponseClass{Key: keys[i]})
		}
		unitClass[i] = c
		classes[c].Units++
		classes[c].Weight += w[i]
		if responded[i] {
			classes[c].Respondents++
			classes[c].RespondentWeight += w[i]
		}
	}
	order := make([]int, len(classes))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return lessKey(classes[order[a]].Key, classes[order[b]].Key) })
	sorted := make([]NonresponseClass, len(classes))
	newIndex := make([]int, len(classes))
	for pos, c := range order {
		sorted[pos] = classes[c]
		newIndex[c] = pos
	}
	classes = sorted
	for i := range unitClass {
		unitClass[i] = newIndex[unitClass[i]]
	}
	res := &NonresponseResult{Weights: make([]float64, len(w)), Classes: classes}
	var donors []int
	for c := range classes {
		if classes[c].RespondentWeight > 0 {
			donors = append(donors, c)
		}
	}
	if len(donors) == 0 {
		return nil, fmt.Errorf("nonresponse: no respondents with positive weight in any class")
	}
	total := make([]float64, len(classes))
	for c := range classes {
		total[c] += classes[c].Weight
	}
	for c := range classes {
		if classes[c].RespondentWeight > 0 {
			continue
		}
		best, bestScore, bestDist := -1, -1, 0
		for _, d := range donors {
			score := commonPrefix(classes[c].Key, classes[d].Key)
			dist := d - c
			if dist < 0 {
				dist = -dist*2 + 1 // after the following one at the same distance
			} else {
				dist *= 2
			}
			if score > bestScore || (score == bestScore && dist < bestDist) {
				best, bestScore, bestDist = d, score, dist
			}
		}
		classes[c].MergedInto = classes[best].Key
		total[best] += classes[c].Weight
		total[c] = 0
		res.Warnings = append(res.Warnings, fmt.Sprintf("weighting class (%s) has %d units and no respondents: its weight %s is merged into class (%s)",
			strings.Join(classes[c].Key, ", "), classes[c].Units, FormatFloat(classes[c].Weight), strings.Join(classes[best].Key, ", ")))
	}
	for c := range classes {
		if classes[c].RespondentWeight > 0 {
			classes[c].Factor = total[c] / classes[c].RespondentWeight
		}
	}
	for i := range w {
		if responded[i] {
			res.Weights[i] = w[i] * classes[unitClass[i]].Factor
		}
	}
	return res, nil
}

func lessKey(a, b []string) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

func commonPrefix(a, b []string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// TrimResult is the outcome of Trim.
type TrimResult struct {
	Weights []float64
	Trimmed int // units outside [lower, upper] in the first pass
	Rounds  int // passes made (more than one only with strict)
}

// maxTrimRounds bounds the strict repetitions of Trim.
const maxTrimRounds = 100000

// Trim trims weights as R's survey::trimWeights(design, upper, lower,
// strict): weights outside [lower, upper] are set to the bound, and the
// total trimmed, Σ(w − w_new), is shared equally (added, not in proportion)
// among the units that were not outside, so the weight total is kept. The
// shares can push those units past a bound; with strict the whole step is
// repeated until no weight is outside. Use -Inf/+Inf for no bound.
func Trim(w []float64, lower, upper float64, strict bool) (*TrimResult, error) {
	if lower > upper {
		return nil, fmt.Errorf("trim: lower bound %s is above the upper bound %s", FormatFloat(lower), FormatFloat(upper))
	}
	n, total := float64(len(w)), sum(w)
	if strict && (total > n*upper || total < n*lower) {
		return nil, fmt.Errorf("trim: the weights sum to %s, which %d weights within [%s, %s] cannot reach", FormatFloat(total), len(w), FormatFloat(lower), FormatFloat(upper))
	}
	res := &TrimResult{Weights: append([]float64(nil), w...)}
	pw := res.Weights
	outside := make([]bool, len(w))
	for {
		any, inside := false, 0
		for i, x := range pw {
			outside[i] = x < lower || x > upper
			if outside[i] {
				any = true
			} else {
				inside++
			}
		}
		if !any {
			return res, nil
		}
		if inside == 0 {
			return nil, fmt.Errorf("trim: every weight is outside [%s, %s]", FormatFloat(lower), FormatFloat(upper))
		}
		res.Rounds++
		var trimmings float64
		for i, x := range pw {
			if outside[i] {
				if res.Rounds == 1 {
					res.Trimmed++
				}
				nx := math.Max(lower, math.Min(x, upper))
				trimmings += x - nx
				pw[i] = nx
			}
		}
		share := trimmings / float64(inside)
		for i := range pw {
			if !outside[i] {
				pw[i] += share
			}
		}
		if !strict {
			return res, nil
		}
		if res.Rounds >= maxTrimRounds {
			return nil, fmt.Errorf("trim: still outside the bounds after %d rounds", res.Rounds)
		}
	}
}

// WeightSummary describes a set of weights.
type WeightSummary struct {
	Group string  `json:"group"` // "" for all units
	N     int     `json:"n"`
	Sum   float64 `json:"sum"`
	Min   float64 `json:"min"`
	Max   float64 `json:"max"`
	Ratio float64 `json:"max_min_ratio"` // Max/Min
	// CV is the coefficient of variation sd/mean, with the population
	// standard deviation (divisor n), so that Deff = 1 + CV².
	CV float64 `json:"cv"`
	// Deff is Kish's design effect due to unequal weighting,
	// n·Σw²/(Σw)² (Kish 1965, 11.7).
	Deff float64 `json:"deff_kish"`
}

// Summarize returns the summary of all weights and, when groups is not
// nil, of each group (in sorted order of the group values). It panics if
// groups is not nil and differs from w in length.
func Summarize(w []float64, groups []string) (all WeightSummary, byGroup []WeightSummary) {
	all = summarize("", w)
	if groups == nil {
		return all, nil
	}
	if len(groups) != len(w) {
		panic("sampling: Summarize length mismatch")
	}
	members := map[string][]float64{}
	for i, g := range groups {
		members[g] = append(members[g], w[i])
	}
	names := make([]string, 0, len(members))
	for g := range members {
		names = append(names, g)
	}
	sort.Strings(names)
	for _, g := range names {
		byGroup = append(byGroup, summarize(g, members[g]))
	}
	return all, byGroup
}

func summarize(group string, w []float64) WeightSummary {
	s := WeightSummary{Group: group, N: len(w)}
	if len(w) == 0 {
		return s
	}
	s.Min, s.Max = math.Inf(1), math.Inf(-1)
	sq := make([]float64, len(w))
	for i, x := range w {
		s.Min = math.Min(s.Min, x)
		s.Max = math.Max(s.Max, x)
		sq[i] = x * x
	}
	s.Sum = sum(w)
	s.Ratio = s.Max / s.Min
	n := float64(len(w))
	s.Deff = n * sum(sq) / (s.Sum * s.Sum)
	mean := s.Sum / n
	for i, x := range w {
		sq[i] = (x - mean) * (x - mean)
	}
	s.CV = math.Sqrt(sum(sq)/n) / mean
	return s
}
