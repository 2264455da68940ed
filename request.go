package dotm

import (
	"context"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// This file declares the bodies of the API's requests that create records
// by hand, each validating itself; package client sends the same types.

// MaxAssignments is the most assignments one request creates.
const MaxAssignments = 10000

// MaxListing is the most households one PSU's listing holds.
const MaxListing = 20000

// AssignmentItem is one assignment made by hand: until the sample selects
// households, an admin assigns them. An empty ID gets a UUID.
type AssignmentItem struct {
	ID          string `json:"id"`
	Enumerator  string `json:"enumerator"`
	Supervisor  string `json:"supervisor"`
	HouseholdID string `json:"household_id"`
	Stratum     string `json:"stratum"`
	PSU         string `json:"psu"`
	FormID      string `json:"form_id"`
}

// AssignmentsRequest is the body of POST /surveys/{id}/assignments.
type AssignmentsRequest struct {
	Assignments []AssignmentItem `json:"assignments"`
}

// Valid lists what is wrong with r, each problem at its item's path.
func (r AssignmentsRequest) Valid(context.Context) []Problem {
	if len(r.Assignments) == 0 || len(r.Assignments) > MaxAssignments {
		return []Problem{{Path: "assignments", Code: "constraint", Message: "1 to " + strconv.Itoa(MaxAssignments) + " assignments"}}
	}
	var ps []Problem
	seen := map[string]bool{}
	for i, it := range r.Assignments {
		at := "assignments[" + strconv.Itoa(i) + "]."
		if it.ID != "" {
			if !IDPattern.MatchString(it.ID) {
				ps = append(ps, Problem{Path: at + "id", Code: "format", Message: "1 to 64 letters, digits, '.', '_' or '-'"})
			}
			if seen[it.ID] {
				ps = append(ps, Problem{Path: at + "id", Code: "constraint", Message: "id " + it.ID + " is listed twice"})
			}
			seen[it.ID] = true
		}
		if !IDPattern.MatchString(it.Enumerator) {
			ps = append(ps, Problem{Path: at + "enumerator", Code: "required", Message: "the enumerator's user name"})
		}
		if !ValidID(it.HouseholdID) {
			ps = append(ps, Problem{Path: at + "household_id", Code: "format", Message: "the household id: " + IDRule})
		}
		for _, f := range []struct{ name, v string }{{"supervisor", it.Supervisor}, {"stratum", it.Stratum}, {"psu", it.PSU}, {"form_id", it.FormID}} {
			if len(f.v) > 128 {
				ps = append(ps, Problem{Path: at + f.name, Code: "constraint", Message: "at most 128 characters"})
			}
		}
	}
	return ps
}

// Make returns the assignments of a valid r in survey, created at at.
func (r AssignmentsRequest) Make(survey string, at time.Time) []Assignment {
	at = at.UTC().Truncate(time.Millisecond)
	out := make([]Assignment, len(r.Assignments))
	for i, it := range r.Assignments {
		if it.ID == "" {
			it.ID = uuid.NewString()
		}
		out[i] = Assignment{ID: it.ID, Survey: survey, Enumerator: it.Enumerator, Supervisor: it.Supervisor, HouseholdID: it.HouseholdID,
			Stratum: it.Stratum, PSU: it.PSU, FormID: it.FormID, Status: AssignmentAssigned, CreatedAt: at, UpdatedAt: at}
	}
	return out
}

// ListingRequest is the body of POST /surveys/{id}/listings: the screened
// household listing of one PSU.
type ListingRequest struct {
	PSU        string            `json:"psu"`
	Stratum    string            `json:"stratum,omitempty"`
	Households []ListedHousehold `json:"households"`
}

// Valid lists what is wrong with r.
func (r ListingRequest) Valid(context.Context) []Problem {
	var ps []Problem
	if !IDPattern.MatchString(r.PSU) {
		ps = append(ps, Problem{Path: "psu", Code: "required", Message: "the PSU id: 1 to 64 letters, digits, '.', '_' or '-'"})
	}
	if len(r.Stratum) > 128 {
		ps = append(ps, Problem{Path: "stratum", Code: "constraint", Message: "at most 128 characters"})
	}
	if len(r.Households) == 0 || len(r.Households) > MaxListing {
		ps = append(ps, Problem{Path: "households", Code: "constraint", Message: "1 to " + strconv.Itoa(MaxListing) + " households"})
	}
	seen := make(map[string]bool, len(r.Households))
	for i, h := range r.Households {
		at := "households[" + strconv.Itoa(i) + "]."
		if !ValidID(h.HouseholdID) {
			ps = append(ps, Problem{Path: at + "household_id", Code: "format", Message: "the household id: " + IDRule})
		} else if seen[h.HouseholdID] {
			ps = append(ps, Problem{Path: at + "household_id", Code: "constraint", Message: "household " + h.HouseholdID + " is listed twice"})
		}
		seen[h.HouseholdID] = true
		switch h.Class {
		case CurrentMigrant, ReturnMigrant, NonMigrant:
		default:
			ps = append(ps, Problem{Path: at + "class", Code: "choice", Message: "current_migrant, return_migrant or non_migrant"})
		}
	}
	return ps
}

// Counts is the number of listed households by screening class.
func (r ListingRequest) Counts() map[HouseholdClass]int {
	counts := map[HouseholdClass]int{CurrentMigrant: 0, ReturnMigrant: 0, NonMigrant: 0}
	for _, h := range r.Households {
		if _, ok := counts[h.Class]; ok {
			counts[h.Class]++
		}
	}
	return counts
}
