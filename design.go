package dotm

import (
	"context"
	"time"

	"github.com/dotm-survey/dotm/sampling"
)

// This file declares what the survey round keeps of its sampling design:
// the PSUs drawn at the first stage, the households drawn in each PSU at the
// second, and the weights computed from them. Every probability used is
// stored, so that a weight can always be traced back to its draw.

// SampledPSU is one enumeration area selected at the first stage.
type SampledPSU struct {
	PSU       string            `json:"psu_id"`
	Stratum   string            `json:"stratum"`
	Size      float64           `json:"size"`
	Pi1       float64           `json:"pi"`
	Certainty bool              `json:"certainty"`
	Extra     map[string]string `json:"extra,omitempty"` // other frame columns (region, urban, …)
}

// StratumFrame is what the frame held of one stratum.
type StratumFrame struct {
	Stratum   string  `json:"stratum"`
	FramePSUs int     `json:"frame_psus"` // PSUs in the frame: the fpc of the first stage
	Size      float64 `json:"size"`       // total measure of size
	Selected  int     `json:"selected"`
}

// PSUSample is a survey's first-stage sample, drawn once.
type PSUSample struct {
	Survey     string         `json:"survey"`
	Allocation string         `json:"allocation"`
	Seed       uint64         `json:"seed"`
	Strata     []StratumFrame `json:"strata"`
	PSUs       []SampledPSU   `json:"psus"`
	DrawnAt    time.Time      `json:"drawn_at"`
	DrawnBy    string         `json:"drawn_by"`
}

// SampledHousehold is one listed household of a sampled PSU with its
// second-stage probability; Selected ones became assignments.
type SampledHousehold struct {
	HouseholdID string  `json:"household_id"`
	Class       string  `json:"class"`
	Pi2         float64 `json:"pi2"`
	Listed      int     `json:"listed"` // M: households of its class listed in the PSU
	Taken       int     `json:"taken"`  // m
	Selected    bool    `json:"selected"`
}

// HouseholdSample is the second-stage draw of one PSU, made once.
type HouseholdSample struct {
	Survey     string             `json:"survey"`
	PSU        string             `json:"psu_id"`
	Stratum    string             `json:"stratum"`
	Quota      string             `json:"quota"`
	Method     string             `json:"method"`
	Seed       uint64             `json:"seed"`
	Households []SampledHousehold `json:"households"`
	DrawnAt    time.Time          `json:"drawn_at"`
}

// HouseholdWeight is the weight chain of one selected household.
type HouseholdWeight struct {
	HouseholdID string  `json:"household_id"`
	PSU         string  `json:"psu_id"`
	Stratum     string  `json:"stratum"`
	Base        float64 `json:"base"`       // 1/(π1·π2)
	Adjusted    float64 `json:"adjusted"`   // after the nonresponse adjustment (0 for nonrespondents)
	Final       float64 `json:"final"`      // after calibration and trimming
	Responded   bool    `json:"responded"`  // an approved interview with consent
	FramePSUs   int     `json:"frame_psus"` // fpc of its stratum
	// Calibrated is the weight after calibration and before trimming (0
	// without a calibration): with Adjusted, what the calibrated design's
	// variance needs (analysis.CalibrationStep).
	Calibrated float64 `json:"calibrated,omitempty"`
	// The draw, for the design as drawn (sampling.DrawnDesign): screening
	// class (the second-stage stratum), π1 (1 for a certainty PSU), π2,
	// and whether the PSU was selected with certainty. Empty in weights
	// stored before dotm kept them.
	Class     string  `json:"class,omitempty"`
	Pi1       float64 `json:"pi1,omitempty"`
	Pi2       float64 `json:"pi2,omitempty"`
	Certainty bool    `json:"certainty,omitempty"`
}

// Weights is a survey's current set of weights and how they were made.
type Weights struct {
	Survey     string            `json:"survey"`
	Households []HouseholdWeight `json:"households"`
	Report     WeightsReport     `json:"report"`
	ComputedAt time.Time         `json:"computed_at"`
	ComputedBy string            `json:"computed_by"`
}

// DesignStore keeps a survey's sampling design.
//
// PutPSUSample stores the first-stage sample (ECONFLICT when the survey has
// one: a sample is drawn once); PSUSample finds it (ENOTFOUND).
// PutHouseholdSample stores the draw of one PSU (ECONFLICT when that PSU was
// drawn); HouseholdSamples lists a survey's draws by PSU.
type DesignStore interface {
	PutPSUSample(ctx context.Context, s PSUSample) error
	PSUSample(ctx context.Context, survey string) (PSUSample, error)
	PutHouseholdSample(ctx context.Context, s HouseholdSample) error
	HouseholdSamples(ctx context.Context, survey string) ([]HouseholdSample, error)
}

// WeightStore keeps the current weights of a survey: PutWeights replaces
// them whole (one document), Weights finds them (ENOTFOUND before the first
// computation).
type WeightStore interface {
	PutWeights(ctx context.Context, w Weights) error
	Weights(ctx context.Context, survey string) (Weights, error)
}

// ApprovedSource walks a survey's approved submissions with their answers
// (direct answers stay sealed: Answers never holds them).
type ApprovedSource interface {
	ApprovedSubmissions(ctx context.Context, survey string, fn func(Submission) error) error
}

// WeightSpec says how to turn base weights into final weights.
type WeightSpec struct {
	// NonresponseClasses are the weighting classes of the nonresponse
	// adjustment: "stratum", "psu", "class" (screening class) or a frame
	// column (e.g. "region"). Empty: one class per stratum.
	NonresponseClasses []string `json:"nonresponse_classes,omitempty"`
	// Calibration to population totals, optional.
	Calibration *CalibrationSpec `json:"calibration,omitempty"`
	// Trim, optional, applied last (R survey::trimWeights semantics).
	Trim *TrimSpec `json:"trim,omitempty"`
	// Variance is the first-stage variance approximation of the stored
	// design: "with-replacement" (default, Hansen–Hurwitz) or "brewer"
	// (PPS without replacement); see sampling.DrawnDesign.
	Variance string `json:"variance,omitempty"`
}

// CalibrationSpec is a calibration step: Method poststratify (one
// variable), rake (iterative proportional fitting), linear (GREG) or raking
// (calibrate with calfun raking); margins over household variables (the
// columns of the households table, e.g. region, urban).
type CalibrationSpec struct {
	Method  string       `json:"method"`
	Margins []MarginSpec `json:"margins"`
	MaxIter int          `json:"max_iter,omitempty"`
	Tol     float64      `json:"tol,omitempty"`
	Bounds  []float64    `json:"bounds,omitempty"` // [lower, upper] of g for linear/raking
}

// MarginSpec is one population total (Category empty: a numeric variable).
type MarginSpec struct {
	Variable string  `json:"variable"`
	Category string  `json:"category,omitempty"`
	Total    float64 `json:"total"`
}

// TrimSpec bounds the final weights.
type TrimSpec struct {
	Lower  float64 `json:"lower"`
	Upper  float64 `json:"upper"`
	Strict bool    `json:"strict,omitempty"`
}

// WeightsReport tells how weights were made and what they look like.
type WeightsReport struct {
	Selected    int                      `json:"selected"`
	Respondents int                      `json:"respondents"`
	Base        sampling.WeightSummary   `json:"base"`
	Final       sampling.WeightSummary   `json:"final"`
	ByStratum   []sampling.WeightSummary `json:"final_by_stratum"`
	Warnings    []string                 `json:"warnings,omitempty"`
	Calibration *CalibrationReport       `json:"calibration,omitempty"`
	Trimmed     int                      `json:"trimmed,omitempty"`
	Spec        WeightSpec               `json:"spec"`
	// Design is the design as drawn that analyses of these weights use.
	Design *sampling.DrawnDesign `json:"design,omitempty"`
}

// CalibrationReport is how calibration ended.
type CalibrationReport struct {
	Method     string  `json:"method"`
	Iterations int     `json:"iterations"`
	Converged  bool    `json:"converged"`
	MaxMisfit  float64 `json:"max_misfit"`
	// NegativeWeights counts respondents whose calibrated weight is below
	// zero (possible with unbounded linear calibration); MinWeight is the
	// smallest calibrated weight.
	NegativeWeights int     `json:"negative_weights,omitempty"`
	MinWeight       float64 `json:"min_weight"`
}
