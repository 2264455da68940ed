package dotm

import (
	"context"
	"strconv"

	"github.com/dotm-survey/dotm/sampling"
)

// This file declares the requests and results of the two sampling stages,
// as the API takes them and round.DrawPSUs and round.DrawHouseholds run
// them.

// PSUDraw asks round.DrawPSUs for a survey's first stage.
type PSUDraw struct {
	N          int    // PSUs to select in all
	Allocation string // proportional, equal or power:ALPHA, recorded as given
	Seed       *uint64
	RandomSort bool   // shuffle within strata before the systematic pass
	IDColumn   string // the frame column holding PSU ids, to name it in problems
}

// Valid lists what is wrong with d before any frame is read.
func (d PSUDraw) Valid(context.Context) []Problem {
	var ps []Problem
	if d.N < 1 {
		ps = append(ps, Problem{Path: "n", Code: "required", Message: "the number of PSUs to select, a whole number ≥ 1"})
	}
	if d.Seed == nil {
		ps = append(ps, Problem{Path: "seed", Code: "required", Message: "the random seed, a whole number ≥ 0 (recorded with the sample)"})
	}
	if _, err := sampling.ParseAllocation(d.Allocation); err != nil {
		ps = append(ps, Problem{Path: "allocation", Code: "choice", Message: err.Error()})
	}
	return ps
}

// HouseholdDraw asks round.DrawHouseholds for the second stage; it is also the
// body of POST /surveys/{id}/sample/households.
type HouseholdDraw struct {
	Quota       map[string]int `json:"quota"`
	Method      string         `json:"method"` // srs (default) or systematic
	Seed        *uint64        `json:"seed"`
	Enumerators []string       `json:"enumerators"`
	PerPSU      int            `json:"enumerators_per_psu"` // default 2
	Supervisor  string         `json:"supervisor"`
	FormID      string         `json:"form_id"`
}

// Valid lists what is wrong with d.
func (d HouseholdDraw) Valid(context.Context) []Problem {
	var ps []Problem
	if len(d.Quota) == 0 {
		ps = append(ps, Problem{Path: "quota", Code: "required", Message: "households per screening class, e.g. {\"current_migrant\": 6, \"return_migrant\": 3, \"non_migrant\": 6}"})
	}
	for k, v := range d.Quota {
		if v < 0 {
			ps = append(ps, Problem{Path: "quota." + k, Code: "constraint", Message: "a whole number ≥ 0"})
		}
	}
	if d.Seed == nil {
		ps = append(ps, Problem{Path: "seed", Code: "required", Message: "the random seed (recorded with the draw)"})
	}
	if len(d.Enumerators) == 0 {
		ps = append(ps, Problem{Path: "enumerators", Code: "required", Message: "the enumerators who will interview the selected households"})
	}
	for i, e := range d.Enumerators {
		if !IDPattern.MatchString(e) {
			ps = append(ps, Problem{Path: "enumerators[" + strconv.Itoa(i) + "]", Code: "format", Message: "a user name"})
		}
	}
	if d.Method != "" {
		if _, err := sampling.ParseHouseholdMethod(d.Method); err != nil {
			ps = append(ps, Problem{Path: "method", Code: "choice", Message: err.Error()})
		}
	}
	return ps
}

// HouseholdDrawResult says what round.DrawHouseholds did.
type HouseholdDrawResult struct {
	PSUsDrawn   int            `json:"psus_drawn"`
	PSUsWaiting []string       `json:"psus_without_listing"`
	Selected    int            `json:"households_selected"`
	ByClass     map[string]int `json:"selected_by_class"`
	Assignments int            `json:"assignments_created"`
	Quota       string         `json:"-"` // the quota as recorded, for the audit trail
}
