package round

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/analysis"
	"github.com/dotm-survey/dotm/dataset"
	"github.com/dotm-survey/dotm/exports"
	"github.com/dotm-survey/dotm/internal/suggest"
	"github.com/dotm-survey/dotm/questionnaire"
	"github.com/dotm-survey/dotm/sampling"
)

// SurveyData joins what a survey round stored (design, assignments,
// approved interviews, weights) into weights and release/analysis tables.
// It implements exports.Source; cmd/dotm and the API use the same code.
type SurveyData struct {
	Forms       dotm.FormStore
	Assignments dotm.AssignmentStore
	Design      dotm.DesignStore
	Weights     dotm.WeightStore
	Approved    dotm.ApprovedSource
	// Surveys, when set, tells a survey that does not exist from one
	// without weights in errors.
	Surveys dotm.SurveyStore
}

// noWeights is the error for a survey whose weights are not stored: it does
// not exist (when d.Surveys can tell), or its weights were not computed.
func (d SurveyData) noWeights(ctx context.Context, survey string) error {
	if d.Surveys != nil {
		if _, err := d.Surveys.Survey(ctx, survey); dotm.ErrorCode(err) == dotm.ENOTFOUND {
			return dotm.Errorf(dotm.ENOTFOUND, "survey %s does not exist (dotm surveys list shows the surveys)", survey)
		}
	}
	return dotm.Errorf(dotm.EUNPROCESSABL, "survey %s has no weights yet: compute them first (POST /api/v1/surveys/%s/weights as a statistician, on dotm serve)", survey, survey)
}

// interview is one approved, final interview of a sampled household.
type interview struct {
	sub       dotm.Submission
	household string
	consent   bool
}

// interviews returns the final approved interview of each household, by
// household id. A household with several approved interviews (a correction
// approved after its original, say) keeps the latest by end time.
func (d SurveyData) interviews(ctx context.Context, survey string) (map[string]interview, error) {
	byAssignment := map[string]dotm.Assignment{}
	as, err := d.Assignments.Assignments(ctx, dotm.AssignmentFilter{Survey: survey})
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		byAssignment[a.ID] = a
	}
	out := map[string]interview{}
	err = d.Approved.ApprovedSubmissions(ctx, survey, func(s dotm.Submission) error {
		if s.SupersededBy != "" {
			return nil
		}
		a, ok := byAssignment[s.AssignmentID]
		hh := a.HouseholdID
		if !ok || hh == "" {
			return nil // an interview outside the sample cannot be weighted
		}
		consent, _ := s.Answers["consent"].(string)
		iv := interview{sub: s, household: hh, consent: consent != "no"}
		if old, dup := out[hh]; !dup || s.EndedAt.After(old.sub.EndedAt) {
			out[hh] = iv
		}
		return nil
	})
	return out, err
}

// ComputeWeights builds the weights of every selected household of survey:
// base 1/(π1·π2) from the stored draws, the weighting-class nonresponse
// adjustment (respondents: an approved final interview with consent), then
// the calibration and trimming of spec. It stores nothing; the caller does.
func (d SurveyData) ComputeWeights(ctx context.Context, survey string, spec dotm.WeightSpec) (dotm.Weights, error) {
	drawn, err := sampling.NewDrawnDesign(spec.Variance, SurveyDesignColumns)
	if err != nil {
		return dotm.Weights{}, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: err.Error(),
			Problems: []dotm.Problem{{Path: "variance", Code: "choice", Message: "one of with-replacement, brewer"}}}
	}
	psus, err := d.Design.PSUSample(ctx, survey)
	if err != nil {
		return dotm.Weights{}, err
	}
	draws, err := d.Design.HouseholdSamples(ctx, survey)
	if err != nil {
		return dotm.Weights{}, err
	}
	ivs, err := d.interviews(ctx, survey)
	if err != nil {
		return dotm.Weights{}, err
	}
	psuByID := map[string]dotm.SampledPSU{}
	for _, p := range psus.PSUs {
		psuByID[p.PSU] = p
	}
	framePSUs := map[string]int{}
	for _, s := range psus.Strata {
		framePSUs[s.Stratum] = s.FramePSUs
	}
	type unit struct {
		hw    dotm.HouseholdWeight
		class string
		psu   dotm.SampledPSU
	}
	var units []unit
	for _, hs := range draws {
		p, ok := psuByID[hs.PSU]
		if !ok {
			return dotm.Weights{}, dotm.Errorf(dotm.EUNPROCESSABL, "household draw of PSU %s, which is not in the PSU sample", hs.PSU)
		}
		for _, h := range hs.Households {
			if !h.Selected {
				continue
			}
			iv, ok := ivs[h.HouseholdID]
			units = append(units, unit{
				hw: dotm.HouseholdWeight{HouseholdID: h.HouseholdID, PSU: p.PSU, Stratum: p.Stratum, Base: 1 / (p.Pi1 * h.Pi2),
					Responded: ok && iv.consent, FramePSUs: framePSUs[p.Stratum],
					Class: h.Class, Pi1: p.Pi1, Pi2: h.Pi2, Certainty: p.Certainty},
				class: h.Class, psu: p,
			})
		}
	}
	if len(units) == 0 {
		return dotm.Weights{}, dotm.Errorf(dotm.EUNPROCESSABL, "survey %s has no selected households: draw the sample first", survey)
	}
	sort.Slice(units, func(i, j int) bool { return units[i].hw.HouseholdID < units[j].hw.HouseholdID })
	n := len(units)
	w := make([]float64, n)
	keys := make([][]string, n)
	responded := make([]bool, n)
	classes := spec.NonresponseClasses
	if len(classes) == 0 {
		classes = []string{"stratum"}
	}
	for i, u := range units {
		w[i] = u.hw.Base
		responded[i] = u.hw.Responded
		for _, c := range classes {
			var v string
			switch c {
			case "stratum":
				v = u.psu.Stratum
			case "psu":
				v = u.psu.PSU
			case "class":
				v = u.class
			default:
				var ok bool
				if v, ok = u.psu.Extra[c]; !ok {
					return dotm.Weights{}, dotm.Errorf(dotm.EUNPROCESSABL, "nonresponse class %q is not stratum, psu, class or a frame column", c)
				}
			}
			keys[i] = append(keys[i], v)
		}
	}
	report := dotm.WeightsReport{Selected: n, Spec: spec, Design: &drawn}
	report.Base, _ = sampling.Summarize(w, nil)
	nr, err := sampling.AdjustNonresponse(w, keys, responded)
	if err != nil {
		return dotm.Weights{}, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "nonresponse adjustment: " + err.Error(), Err: err}
	}
	report.Warnings = append(report.Warnings, nr.Warnings...)
	final := append([]float64(nil), nr.Weights...)

	// Calibration and trimming work on the respondents.
	var resp []int
	var respIDs []string
	for i := range units {
		if responded[i] {
			resp = append(resp, i)
			respIDs = append(respIDs, units[i].hw.HouseholdID)
		}
	}
	report.Respondents = len(resp)
	rw := make([]float64, len(resp))
	for k, i := range resp {
		rw[k] = final[i]
	}
	if spec.Calibration != nil {
		cal, err := d.calibrate(ctx, survey, spec.Calibration, respIDs, ivs, rw)
		if err != nil {
			return dotm.Weights{}, err
		}
		rw = cal.weights
		report.Calibration = &cal.report
		if n := cal.report.NegativeWeights; n > 0 {
			report.Warnings = append(report.Warnings, fmt.Sprintf("calibration gave %d respondents a negative weight (smallest %s): bound the calibration (bounds: [lower, upper]) or use raking", n, sampling.FormatFloat(cal.report.MinWeight)))
		}
	}
	calibratedW := rw
	if spec.Trim != nil {
		tr, err := sampling.Trim(rw, spec.Trim.Lower, spec.Trim.Upper, spec.Trim.Strict)
		if err != nil {
			return dotm.Weights{}, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: err.Error(), Err: err}
		}
		rw = tr.Weights
		report.Trimmed = tr.Trimmed
	}
	out := dotm.Weights{Survey: survey, Households: make([]dotm.HouseholdWeight, n)}
	for i, u := range units {
		out.Households[i] = u.hw
		out.Households[i].Adjusted = nr.Weights[i]
	}
	strata := make([]string, len(resp))
	for k, i := range resp {
		out.Households[i].Final = rw[k]
		if spec.Calibration != nil {
			out.Households[i].Calibrated = calibratedW[k]
		}
		strata[k] = units[i].psu.Stratum
	}
	report.Final, report.ByStratum = sampling.Summarize(rw, strata)
	out.Report = report
	return out, nil
}

type calibrated struct {
	weights []float64
	report  dotm.CalibrationReport
}

// calibrate calibrates the respondents' weights w (households ids, in the
// same order) to spec's margins over household variables of the dataset.
func (d SurveyData) calibrate(ctx context.Context, survey string, spec *dotm.CalibrationSpec, ids []string, ivs map[string]interview, w []float64) (calibrated, error) {
	form, err := d.latestForm(ctx, survey)
	if err != nil {
		return calibrated{}, err
	}
	hh := make([]dataset.Household, len(ids))
	for k, id := range ids {
		iv := ivs[id]
		hh[k] = dataset.Household{ID: id, Weight: 1, Interviewed: iv.sub.EndedAt, Answers: iv.sub.Answers}
	}
	ds, err := dataset.Build(survey, form, hh)
	if err != nil {
		return calibrated{}, err
	}
	house := ds.Table(dataset.Households)
	margins := make([]sampling.Margin, len(spec.Margins))
	var vars []string
	seen := map[string]bool{}
	for i, m := range spec.Margins {
		margins[i] = sampling.Margin{Variable: m.Variable, Category: m.Category, Total: m.Total, Line: i + 1}
		if !seen[m.Variable] {
			seen[m.Variable] = true
			vars = append(vars, m.Variable)
		}
	}
	t := &sampling.Table{Header: vars, Rows: make([][]string, len(ids)), Lines: make([]int, len(ids))}
	for k := range ids {
		t.Lines[k] = k + 1
		t.Rows[k] = make([]string, len(vars))
	}
	for j, v := range vars {
		col := house.Column(v)
		if col == nil {
			return calibrated{}, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "calibration variable " + v + " is not a household variable",
				Problems: []dotm.Problem{{Path: "calibration.margins", Code: "unknown_variable", Message: v}}}
		}
		for k := range ids {
			t.Rows[k][j] = col.Format(k)
		}
	}
	mv, err := sampling.MarginVariables(t, margins)
	if err != nil {
		return calibrated{}, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "calibration margins: " + err.Error(), Err: err}
	}
	rep := dotm.CalibrationReport{Method: spec.Method}
	var lower, upper float64
	if len(spec.Bounds) == 2 {
		lower, upper = spec.Bounds[0], spec.Bounds[1]
	}
	run, err := sampling.CalibrateWith(strings.ToLower(spec.Method), w, mv, spec.MaxIter, spec.Tol, lower, upper)
	rep.Iterations, rep.Converged, rep.MaxMisfit = run.Iterations, run.Converged, run.MaxMisfit
	switch {
	case errors.Is(err, sampling.ErrUnknownMethod):
		return calibrated{}, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "unknown calibration method " + spec.Method,
			Problems: []dotm.Problem{{Path: "calibration.method", Code: "choice", Message: "one of poststratify, rake, linear, raking"}}}
	case errors.Is(err, sampling.ErrOneVariable):
		return calibrated{}, dotm.Errorf(dotm.EUNPROCESSABL, "poststratify takes one variable, got %d", len(mv))
	case err != nil:
		return calibrated{}, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "calibration: " + err.Error(), Err: err}
	}
	out := run.Weights
	rep.NegativeWeights, rep.MinWeight = sampling.NegativeWeights(out)
	return calibrated{weights: out, report: rep}, nil
}

// latestForm is the survey's most recently uploaded form version.
func (d SurveyData) latestForm(ctx context.Context, survey string) (*questionnaire.Form, error) {
	vs, err := d.Forms.FormVersions(ctx, "", survey)
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, dotm.Errorf(dotm.EUNPROCESSABL, "survey %s has no form", survey)
	}
	f, err := questionnaire.Decode(vs[len(vs)-1].JSON, "json")
	if err != nil {
		return nil, fmt.Errorf("decode stored form %s %s: %w", vs[len(vs)-1].FormID, vs[len(vs)-1].Version, err)
	}
	return f, nil
}

// Dataset implements exports.Source: the release and analysis tables of a
// survey's approved interviews with their final weights and design.
func (d SurveyData) Dataset(ctx context.Context, survey string) (*exports.Dataset, error) {
	ws, err := d.Weights.Weights(ctx, survey)
	if err != nil {
		if dotm.ErrorCode(err) == dotm.ENOTFOUND {
			return nil, d.noWeights(ctx, survey)
		}
		return nil, err
	}
	ivs, err := d.interviews(ctx, survey)
	if err != nil {
		return nil, err
	}
	form, err := d.latestForm(ctx, survey)
	if err != nil {
		return nil, err
	}
	var hh []dataset.Household
	for _, hw := range ws.Households {
		iv, ok := ivs[hw.HouseholdID]
		if !hw.Responded || !ok || !iv.consent || !(hw.Final > 0) || math.IsInf(hw.Final, 0) {
			continue
		}
		hh = append(hh, dataset.Household{ID: hw.HouseholdID, Stratum: hw.Stratum, PSU: hw.PSU, Weight: hw.Final,
			Uncalibrated: hw.Adjusted, Calibrated: hw.Calibrated, Class: hw.Class, Certainty: hw.Certainty,
			FPC: float64(hw.FramePSUs), Interviewed: iv.sub.EndedAt, Answers: iv.sub.Answers})
	}
	if len(hh) == 0 {
		return nil, dotm.Errorf(dotm.EUNPROCESSABL, "survey %s has no weighted respondents", survey)
	}
	ds, err := dataset.Build(survey, form, hh)
	if err != nil {
		return nil, err
	}
	if ws.Report.Design != nil {
		// The certainty column says which design the columns encode (the
		// release's codebook shows it).
		for _, t := range ds.Tables {
			if c := t.Column(dataset.Certainty); c != nil {
				c.Meta.Source = "sample design: " + ws.Report.Design.Specification
			}
		}
	}
	return ds, nil
}

// now is time.Now in UTC; records are stamped with it.
func now() time.Time { return time.Now().UTC() }

// AnalysisTable copies the named columns of a dataset table into an
// analysis table: numbers (integers, decimals, booleans, dates as days) as
// float64 with NaN for missing, text as strings with "" for missing.
func AnalysisTable(t *exports.Table, columns []string) (*analysis.Table, error) {
	if t == nil {
		return nil, fmt.Errorf("no such table")
	}
	out := analysis.NewTable(t.Rows())
	seen := map[string]bool{}
	for _, name := range columns {
		if seen[name] {
			continue
		}
		seen[name] = true
		c := t.Column(name)
		if c == nil {
			names := make([]string, len(t.Columns))
			for i, c := range t.Columns {
				names[i] = c.Name
			}
			msg := fmt.Sprintf("column %q is not in table %s", name, t.Name)
			if hint := suggest.DidYouMean(name, names); hint != "" {
				msg += "; " + hint
			}
			return nil, errors.New(msg)
		}
		n := c.Len()
		if c.Type == exports.String {
			v := make([]string, n)
			for i := range v {
				if !c.IsNull(i) {
					v[i] = c.Strings[i]
				}
			}
			out.AddStrings(name, v)
			continue
		}
		v := make([]float64, n)
		for i := range v {
			v[i] = c.Float(i)
			if c.IsNull(i) {
				v[i] = math.NaN()
			}
		}
		out.AddNumeric(name, v)
	}
	return out, nil
}

// SurveySource is an analysis.Source over a survey's approved interviews:
// the households table of its dataset (design variables, final weights and
// the derived household variables).
type SurveySource struct {
	Data   SurveyData
	Survey string
}

// Load implements analysis.Source. A column the households table lacks is
// an EUNPROCESSABL naming it.
func (s SurveySource) Load(ctx context.Context, columns []string) (*analysis.Table, error) {
	ds, err := s.Data.Dataset(ctx, s.Survey)
	if err != nil {
		return nil, err
	}
	var pis []string
	cols := columns[:0:0]
	for _, c := range columns {
		if (c == SurveyDesignColumns.Pi1 || c == SurveyDesignColumns.Pi2) && ds.Table(dataset.Households).Column(c) == nil {
			pis = append(pis, c)
			continue
		}
		cols = append(cols, c)
	}
	if len(pis) > 0 {
		cols = append(cols, SurveyDesignColumns.Household)
	}
	t, err := AnalysisTable(ds.Table(dataset.Households), cols)
	if err != nil {
		return nil, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "survey " + s.Survey + ": " + err.Error(), Err: err}
	}
	if len(pis) > 0 {
		if err := s.addInclusionProbabilities(ctx, t, pis); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// addInclusionProbabilities adds the columns pi1 and pi2 (those named in
// pis) of the stored weights to t, by household: the design as drawn with
// Brewer's approximation needs them, and the dataset (hence a release)
// leaves them out, since π1 tells the size of an enumeration area.
func (s SurveySource) addInclusionProbabilities(ctx context.Context, t *analysis.Table, pis []string) error {
	ws, err := s.Data.Weights.Weights(ctx, s.Survey)
	if err != nil {
		return err
	}
	byID := map[string]dotm.HouseholdWeight{}
	for _, h := range ws.Households {
		byID[h.HouseholdID] = h
	}
	ids, err := t.Column(SurveyDesignColumns.Household)
	if err != nil {
		return err
	}
	for _, name := range pis {
		v := make([]float64, t.Len())
		for i, code := range ids.Codes {
			h, ok := byID[ids.Levels[max(code, 0)]]
			if code < 0 || !ok || !(h.Pi1 > 0) {
				return dotm.Errorf(dotm.EUNPROCESSABL, "survey %s: the stored weights have no inclusion probabilities (computed before dotm kept them): compute the weights again", s.Survey)
			}
			v[i] = h.Pi1
			if name == SurveyDesignColumns.Pi2 {
				v[i] = h.Pi2
			}
		}
		t.AddNumeric(name, v)
	}
	return nil
}

// CalibratedDesign is the design as drawn (certainty PSUs as strata of
// their households, screening classes as second-stage strata, the
// first-stage variance the weights were computed with; SurveyDesign(lonely)
// for weights stored before dotm kept the draw) with the calibration that made
// the survey's stored weights, so that every variance is the calibrated
// design's (R: the design as calibrate/rake/postStratify return it, then
// trimWeights) without the user repeating how the weights were made.
// Weights computed without a calibration, or stored before dotm kept the
// calibrated weights, give the plain design.
func (d SurveyData) CalibratedDesign(ctx context.Context, survey, lonely string) (analysis.PlanDesign, error) {
	pd := SurveyDesign(lonely)
	ws, err := d.Weights.Weights(ctx, survey)
	if err != nil {
		if dotm.ErrorCode(err) == dotm.ENOTFOUND {
			return pd, d.noWeights(ctx, survey)
		}
		return pd, err
	}
	if drawn, ok := drawnDesign(ws, lonely); ok {
		pd = drawn
	}
	if step, ok := calibrationStep(ws); ok {
		pd.Calibration = append(pd.Calibration, step)
	}
	return pd, nil
}
