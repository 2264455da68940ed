package round

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/sampling"
)

// DrawPSUs draws the first stage of survey from frame
// (sampling.DrawFirstStage) and stores it: a survey's PSU sample is drawn
// once (ECONFLICT after that). Invalid PSU ids, a failed allocation and
// frame problems are EUNPROCESSABL errors naming the row and column.
func DrawPSUs(ctx context.Context, design dotm.DesignStore, survey string, frame *sampling.Frame, d dotm.PSUDraw, by string, at time.Time) (dotm.PSUSample, error) {
	if ps := d.Valid(ctx); ps != nil {
		return dotm.PSUSample{}, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "invalid draw parameters", Problems: ps}
	}
	var bad []dotm.Problem
	for i, u := range frame.Units {
		if !dotm.ValidID(u.ID) {
			bad = append(bad, dotm.Problem{Path: "frame row " + strconv.Itoa(i+1) + " column " + d.IDColumn, Code: "format", Message: "a PSU id: " + dotm.IDRule})
		}
	}
	if bad != nil {
		return dotm.PSUSample{}, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "frame: " + strconv.Itoa(len(bad)) + " invalid PSU id(s)", Problems: bad}
	}
	alloc, _ := sampling.ParseAllocation(d.Allocation) // checked by Valid
	first, err := sampling.DrawFirstStage(frame, d.N, alloc, *d.Seed, sampling.SelectOptions{RandomSort: d.RandomSort})
	var ae *sampling.AllocationError
	if errors.As(err, &ae) {
		return dotm.PSUSample{}, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "allocation: " + ae.Error(), Err: err}
	}
	if err != nil {
		return dotm.PSUSample{}, InputProblems("frame", err)
	}
	sample := dotm.PSUSample{Survey: survey, Allocation: d.Allocation, Seed: *d.Seed, DrawnAt: at, DrawnBy: by}
	for _, st := range first.Strata {
		sample.Strata = append(sample.Strata, dotm.StratumFrame{Stratum: st.Name, FramePSUs: st.Units, Size: st.Size, Selected: first.Sizes[st.Name]})
	}
	for _, u := range first.Sample.Draws {
		if !u.Selected {
			continue
		}
		p := dotm.SampledPSU{PSU: u.ID, Stratum: u.Stratum, Size: u.Size, Pi1: u.Pi, Certainty: u.Certainty}
		if len(frame.ExtraColumns) > 0 {
			p.Extra = map[string]string{}
			for j, col := range frame.ExtraColumns {
				p.Extra[col] = u.Extra[j]
			}
		}
		sample.PSUs = append(sample.PSUs, p)
	}
	if err := design.PutPSUSample(ctx, sample); err != nil {
		return dotm.PSUSample{}, err
	}
	return sample, nil
}

// DesignStores are the stores the second stage reads and writes.
type DesignStores struct {
	Design      dotm.DesignStore
	Listings    dotm.ListingStore
	Assignments dotm.AssignmentStore
}

// DrawHouseholds draws households in every sampled PSU of survey that has a
// listing and no draw yet, by screening-class quota
// (sampling.SelectHouseholds), and makes each selected household an
// assignment of one of the PSU's enumerators. Each PSU's draw is stored
// before its assignments, so a retry after a failure re-creates only the
// missing assignments; a PSU drawn before is left alone.
func DrawHouseholds(ctx context.Context, st DesignStores, survey string, d dotm.HouseholdDraw, at time.Time) (dotm.HouseholdDrawResult, error) {
	if ps := d.Valid(ctx); ps != nil {
		return dotm.HouseholdDrawResult{}, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "invalid household draw", Problems: ps}
	}
	method := sampling.SimpleRandom
	if d.Method != "" {
		method, _ = sampling.ParseHouseholdMethod(d.Method) // checked by Valid
	}
	if d.PerPSU <= 0 {
		d.PerPSU = 2
	}
	psus, err := st.Design.PSUSample(ctx, survey)
	if err != nil {
		if dotm.ErrorCode(err) == dotm.ENOTFOUND {
			err = dotm.Errorf(dotm.EUNPROCESSABL, "survey %s has no PSU sample: draw PSUs first", survey)
		}
		return dotm.HouseholdDrawResult{}, err
	}
	done, err := st.Design.HouseholdSamples(ctx, survey)
	if err != nil {
		return dotm.HouseholdDrawResult{}, err
	}
	drawn := map[string]bool{}
	for _, h := range done {
		drawn[h.PSU] = true
	}
	ls, err := st.Listings.Listings(ctx, survey)
	if err != nil {
		return dotm.HouseholdDrawResult{}, err
	}
	listingOf := map[string]dotm.Listing{}
	for _, l := range ls {
		listingOf[l.PSU] = l
	}
	quota := sampling.Quota(d.Quota)
	res := dotm.HouseholdDrawResult{ByClass: map[string]int{}, PSUsWaiting: []string{}, Quota: quota.String()}
	for k, p := range psus.PSUs {
		if drawn[p.PSU] {
			continue
		}
		l, ok := listingOf[p.PSU]
		if !ok {
			res.PSUsWaiting = append(res.PSUsWaiting, p.PSU)
			continue
		}
		listed := make([]sampling.ListedHousehold, len(l.Households))
		for i, h := range l.Households {
			if !dotm.ValidID(h.HouseholdID) { // stored before ids were checked
				return res, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "the listing of PSU " + p.PSU + " has an invalid household id; correct the listing",
					Problems: []dotm.Problem{{Path: "listings." + p.PSU + ".households[" + strconv.Itoa(i) + "].household_id", Code: "format", Message: "the household id: " + dotm.IDRule}}}
			}
			listed[i] = sampling.ListedHousehold{PSU: p.PSU, ID: h.HouseholdID, Class: string(h.Class), Order: i + 1}
		}
		draws, err := sampling.SelectHouseholds(listed, quota, method, *d.Seed)
		if err != nil {
			return res, InputProblems("listing of PSU "+p.PSU, err)
		}
		hs := dotm.HouseholdSample{Survey: survey, PSU: p.PSU, Stratum: p.Stratum, Quota: quota.String(), Method: d.Method, Seed: *d.Seed, DrawnAt: at}
		team := make([]string, 0, d.PerPSU)
		for j := 0; j < d.PerPSU && j < len(d.Enumerators); j++ {
			team = append(team, d.Enumerators[(k*d.PerPSU+j)%len(d.Enumerators)])
		}
		var as []dotm.Assignment
		for _, h := range draws {
			hs.Households = append(hs.Households, dotm.SampledHousehold{HouseholdID: h.ID, Class: h.Class, Pi2: h.Pi2, Listed: h.Listed, Taken: h.Taken, Selected: h.Selected})
			if !h.Selected {
				continue
			}
			res.Selected++
			res.ByClass[h.Class]++
			as = append(as, dotm.Assignment{ID: dotm.AssignmentID(survey, p.PSU, h.ID), Survey: survey, Enumerator: team[len(as)%len(team)], Supervisor: d.Supervisor,
				HouseholdID: h.ID, Stratum: p.Stratum, PSU: p.PSU, FormID: d.FormID, Status: dotm.AssignmentAssigned, CreatedAt: at, UpdatedAt: at})
		}
		// The draw is stored first: it is what makes the PSU drawn, and a
		// retry after a failure below re-creates only missing assignments.
		if err := st.Design.PutHouseholdSample(ctx, hs); err != nil {
			return res, err
		}
		if len(as) > 0 {
			if err := st.Assignments.AddAssignments(ctx, as); err != nil {
				if dotm.ErrorCode(err) != dotm.ECONFLICT {
					return res, err
				}
				// Ids that exist already: only this draw's own (a retry)
				// count as created.
				for _, want := range as {
					got, err := st.Assignments.Assignment(ctx, want.ID)
					if err != nil || got.Survey != want.Survey || got.PSU != want.PSU || got.HouseholdID != want.HouseholdID {
						return res, dotm.Errorf(dotm.ECONFLICT, "assignment id %s is taken by another assignment", want.ID)
					}
				}
			}
		}
		res.PSUsDrawn++
		res.Assignments += len(as)
	}
	sort.Strings(res.PSUsWaiting)
	return res, nil
}

// InputProblems turns sampling's row-level input errors into an
// EUNPROCESSABL error whose problems name the line and column (at most
// dotm.MaxProblems of them); other errors keep their message.
func InputProblems(what string, err error) error {
	var list sampling.InputErrors
	var one *sampling.InputError
	switch {
	case errors.As(err, &list):
	case errors.As(err, &one):
		list = sampling.InputErrors{one}
	default:
		return &dotm.Error{Code: dotm.EUNPROCESSABL, Message: what + ": " + err.Error(), Err: err}
	}
	e := &dotm.Error{Code: dotm.EUNPROCESSABL, Message: fmt.Sprintf("%s: %d problem(s)", what, len(list))}
	for _, ie := range list {
		path := what
		if ie.Line > 0 {
			path += " line " + strconv.Itoa(ie.Line)
		}
		if ie.Column != "" {
			path += " column " + ie.Column
		}
		e.Problems = append(e.Problems, dotm.Problem{Path: path, Code: "invalid", Message: ie.Msg})
	}
	if len(e.Problems) > dotm.MaxProblems {
		e.Problems = e.Problems[:dotm.MaxProblems]
	}
	return e
}
