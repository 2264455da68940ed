package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/dotm-survey/dotm/sampling"
)

func runWeights(e *env, args []string) error {
	return dispatch(e, "weights", []subcommand{
		{"base", "base weights 1/(pi1*pi2) of the selected households", runWeightsBase},
		{"nonresponse", "adjust weights for nonresponse within weighting classes", runWeightsNonresponse},
		{"calibrate", "post-stratify, rake or calibrate (linear/GREG) to population margins", runWeightsCalibrate},
		{"trim", "trim weights to bounds as R survey::trimWeights", runWeightsTrim},
		{"report", "n, sum, min, max, max/min, CV and Kish design effect, overall and per group", runWeightsReport},
	}, "", `dotm weights base --psus psus.csv --households households.csv --out base.csv
dotm weights nonresponse --data base.csv --weight weight --class stratum,class --responded responded --out nr.csv
dotm weights calibrate --data nr.csv --weight weight --method rake --margins margins.csv --out final.csv
dotm weights report --data final.csv --weight weight --by stratum`, args)
}

func runWeightsBase(e *env, args []string) error {
	fs := newFlags(e, "weights base", "weights base --psus P.csv --households H.csv --out W.csv",
		"dotm weights base --psus psus.csv --households households.csv --out base.csv\n"+
			"dotm weights base --psus psus.csv --households households.csv --pps brewer --out base.csv\n\n"+
			"Besides OUT it writes the design as drawn (OUT.design.yaml, or --design): certainty EAs as strata\n"+
			"of their households, screening classes as second-stage strata, and the first-stage variance\n"+
			"(--pps with-replacement, the default, or brewer). A plan uses it with design: {file: base.design.yaml}.")
	psusPath := fs.String("psus", "", "PSU sample CSV written by `dotm sample psus` (with --all to get fpc)")
	hhPath := fs.String("households", "", "household sample CSV written by `dotm sample households`")
	out := fs.String("out", "", "output CSV: household_id,stratum,psu,class,pi1,pi2,weight,certainty[,fpc] and the extra columns")
	pps := fs.String("pps", sampling.WithReplacement, "first-stage variance of the design file: with-replacement (Hansen–Hurwitz, no fpc) or brewer (PPS without replacement, Brewer's approximation, fpc = inclusion probabilities)")
	designPath := fs.String("design", "", "design file to write: the design as drawn, for an analysis plan's design: {file: ...} (default: OUT with .design.yaml)")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if *psusPath == "" || *hhPath == "" || *out == "" {
		return exitError{code: 2, msg: "weights base: --psus, --households and --out are required"}
	}
	drawn, err := sampling.NewDrawnDesign(*pps, sampling.DefaultDesignColumns)
	if err != nil {
		return exitError{code: 2, msg: "weights base: --pps: " + err.Error()}
	}
	psus, err := readWith(*psusPath, sampling.ReadPSUSample)
	if err != nil {
		return err
	}
	hh, err := readWith(*hhPath, sampling.ReadHouseholdSample)
	if err != nil {
		return err
	}
	ws, err := sampling.BaseWeights(psus, hh)
	if err != nil {
		return fmt.Errorf("%s:\n%w", *hhPath, err)
	}
	if len(ws) == 0 {
		return fmt.Errorf("weights base: %s has no selected households", *hhPath)
	}
	if err := writeCSVAtomic(*out, sampling.BaseWeightTable(ws, psus.ExtraColumns, hh.ExtraColumns)); err != nil {
		return err
	}
	w := make([]float64, len(ws))
	for i := range ws {
		w[i] = ws[i].Weight
	}
	s, _ := sampling.Summarize(w, nil)
	fmt.Fprintf(e.stderr, "%d households, weights sum to %s (min %s, max %s, Kish deff %.4g)", s.N, sampling.FormatFloat(s.Sum), sampling.FormatFloat(s.Min), sampling.FormatFloat(s.Max), s.Deff)
	if *designPath == "" {
		*designPath = designFileName(*out)
	}
	if err := writeDesignFile(*designPath, drawn, *out); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "; wrote %s and %s\n", *out, *designPath)
	fmt.Fprintf(e.stderr, "design as drawn (%s): %s\n", drawn.Variance, drawn.Specification)
	return nil
}

// weightData reads --data and its --weight column.
func weightData(path, weightCol string) (*sampling.Table, []float64, error) {
	t, err := readWith(path, sampling.ReadTable)
	if err != nil {
		return nil, nil, err
	}
	w, err := t.Floats(weightCol)
	if err != nil {
		return nil, nil, fmt.Errorf("%s:\n%w", path, err)
	}
	if len(w) == 0 {
		return nil, nil, fmt.Errorf("%s: no rows", path)
	}
	return t, w, nil
}

func runWeightsNonresponse(e *env, args []string) error {
	fs := newFlags(e, "weights nonresponse", "weights nonresponse --data D.csv --weight COL --class COL[,COL] --responded COL --out OUT.csv [--as COL]",
		"dotm weights nonresponse --data base.csv --weight weight --class stratum,class --responded responded --out nr.csv")
	data := fs.String("data", "", "CSV with one row per selected household, respondents and nonrespondents")
	weightCol := fs.String("weight", "weight", "column with the weight to adjust")
	classCols := fs.String("class", "", "weighting class column(s), comma-separated")
	respCol := fs.String("responded", "", "column: 1 for a respondent, 0 for a nonrespondent")
	as := fs.String("as", "", "output weight column (default: the --weight column, replaced); nonrespondents get 0")
	out := fs.String("out", "", "output CSV: the input with the adjusted weight")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if *data == "" || *classCols == "" || *respCol == "" || *out == "" {
		return exitError{code: 2, msg: "weights nonresponse: --data, --class, --responded and --out are required"}
	}
	t, w, err := weightData(*data, *weightCol)
	if err != nil {
		return err
	}
	var cols [][]string
	var errs []error
	for _, c := range strings.Split(*classCols, ",") {
		v, err := t.Strings(strings.TrimSpace(c), false)
		errs = append(errs, err)
		cols = append(cols, v)
	}
	resp, err := t.Flags(*respCol)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s:\n%w", *data, err)
	}
	keys := make([][]string, len(w))
	for i := range keys {
		for _, c := range cols {
			keys[i] = append(keys[i], c[i])
		}
	}
	res, err := sampling.AdjustNonresponse(w, keys, resp)
	if err != nil {
		return err
	}
	for _, warn := range res.Warnings {
		fmt.Fprintln(e.stderr, "warning:", warn)
	}
	t.SetColumn(outName(*as, *weightCol), sampling.FormatFloats(res.Weights))
	if err := writeCSVAtomic(*out, t); err != nil {
		return err
	}
	nresp := 0
	for _, r := range resp {
		if r {
			nresp++
		}
	}
	fmt.Fprintf(e.stderr, "%d of %d households responded in %d weighting classes; wrote %s\n", nresp, len(resp), len(res.Classes), *out)
	return nil
}

func outName(as, weight string) string {
	if as != "" {
		return as
	}
	return weight
}

func runWeightsCalibrate(e *env, args []string) error {
	fs := newFlags(e, "weights calibrate",
		"weights calibrate --data D.csv --weight COL --method poststratify|rake|linear|raking --margins M.csv [--bounds LO,HI] [--max-iter N] [--tol T] --out OUT.csv",
		"dotm weights calibrate --data nr.csv --weight weight --method linear --margins margins.csv --bounds 0.5,2 --out final.csv")
	data := fs.String("data", "", "CSV with one row per responding household")
	weightCol := fs.String("weight", "weight", "column with the input weight")
	method := fs.String("method", "", "poststratify (one variable), rake (iterative proportional fitting), linear (GREG, survey::calibrate calfun linear) or raking (calfun raking)")
	marginsPath := fs.String("margins", "", "CSV variable,category,total; a numeric variable has one row with an empty category (linear, raking)")
	bounds := fs.String("bounds", "", "LO,HI: bounds on w_new/w for linear and raking, e.g. 0.5,2")
	maxIter := fs.Int("max-iter", 0, "maximum iterations (default 100 for rake, 50 for linear and raking)")
	tol := fs.Float64("tol", 0, "convergence tolerance: for rake the largest |weighted count − total|/total (default 1e-10); for linear and raking R's epsilon on |misfit|/(1+|total|) (default 1e-7)")
	as := fs.String("as", "", "output weight column (default: the --weight column, replaced)")
	out := fs.String("out", "", "output CSV: the input with the calibrated weight")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if *data == "" || *marginsPath == "" || *out == "" || *method == "" {
		return exitError{code: 2, msg: "weights calibrate: --data, --method, --margins and --out are required"}
	}
	var lo, hi float64
	if *bounds != "" {
		a, b, ok := strings.Cut(*bounds, ",")
		var e1, e2 error
		lo, e1 = strconv.ParseFloat(strings.TrimSpace(a), 64)
		hi, e2 = strconv.ParseFloat(strings.TrimSpace(b), 64)
		if !ok || e1 != nil || e2 != nil || !(lo < 1 && hi > 1) {
			return exitError{code: 2, msg: fmt.Sprintf("weights calibrate: --bounds %q: want LO,HI with LO < 1 < HI", *bounds)}
		}
		if *method != "linear" && *method != "raking" {
			return exitError{code: 2, msg: "weights calibrate: --bounds applies to --method linear or raking"}
		}
	}
	t, w, err := weightData(*data, *weightCol)
	if err != nil {
		return err
	}
	margins, err := readWith(*marginsPath, sampling.ReadMargins)
	if err != nil {
		return err
	}
	vars, err := sampling.MarginVariables(t, margins)
	if err != nil {
		return fmt.Errorf("%s and %s:\n%w", *data, *marginsPath, err)
	}
	it, tl := *maxIter, *tol
	switch *method {
	case sampling.MethodRake:
		it, tl = orInt(*maxIter, 100), orFloat(*tol, 1e-10)
	case sampling.MethodLinear, sampling.MethodRaking:
		it, tl = orInt(*maxIter, 50), orFloat(*tol, 1e-7)
	}
	run, err := sampling.CalibrateWith(*method, w, vars, it, tl, lo, hi)
	switch {
	case errors.Is(err, sampling.ErrUnknownMethod):
		return exitError{code: 2, msg: fmt.Sprintf("weights calibrate: --method %q: want poststratify, rake, linear or raking", *method)}
	case errors.Is(err, sampling.ErrOneVariable):
		return exitError{code: 2, msg: fmt.Sprintf("weights calibrate: poststratify takes one variable, the margins have %d (use rake)", len(vars))}
	case errors.Is(err, sampling.ErrNotConverged):
		return fmt.Errorf("weights calibrate: %w; nothing written: widen --bounds or raise --max-iter", err)
	case err != nil:
		return err
	}
	nw := run.Weights
	switch *method {
	case sampling.MethodPostStratify:
		fmt.Fprintf(e.stderr, "post-stratified to %d categories of %s\n", len(vars[0].Categories), vars[0].Name)
	case sampling.MethodRake:
		if !run.Converged {
			return fmt.Errorf("weights calibrate: raking did not converge in %d iterations (largest relative difference %.3g > --tol %g); nothing written: raise --max-iter or check the margins", run.Iterations, run.MaxMisfit, tl)
		}
		fmt.Fprintf(e.stderr, "raking converged in %d iterations (largest relative difference %.3g)\n", run.Iterations, run.MaxMisfit)
	default:
		gmin, gmax := math.Inf(1), math.Inf(-1)
		for _, g := range run.G {
			gmin, gmax = math.Min(gmin, g), math.Max(gmax, g)
		}
		fmt.Fprintf(e.stderr, "%s calibration converged in %d iterations (misfit %.3g); g from %.4g to %.4g\n", *method, run.Iterations, run.MaxMisfit, gmin, gmax)
		if n, min := sampling.NegativeWeights(nw); n > 0 {
			fmt.Fprintf(e.stderr, "WARNING: %d weights are negative (smallest %s): unbounded linear calibration can do that; bound it (--bounds 0.5,2) or use --method raking\n", n, sampling.FormatFloat(min))
		}
	}
	outCol := outName(*as, *weightCol)
	t.SetColumn(outCol, sampling.FormatFloats(nw))
	if err := writeCSVAtomic(*out, t); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "wrote %s\n", *out)
	// Standard errors must come from the calibrated design: say how to
	// declare it in a plan (it needs the weights before calibration).
	var names []string
	for _, v := range vars {
		names = append(names, v.Name)
	}
	if outCol != *weightCol {
		fmt.Fprintf(e.stderr, "declare the calibration in your analysis plan so that standard errors are the calibrated design's:\n  design: {weight: %s, calibration: {method: %s, variables: [%s], before: %s}}\n", outCol, *method, strings.Join(names, ", "), *weightCol)
	} else {
		fmt.Fprintf(e.stderr, "note: --as was not given, so the weights before calibration were replaced; keep them (--as NEW) to declare the calibration in an analysis plan (calibration: {method: %s, variables: [%s], before: %s}) and get the calibrated design's standard errors\n", *method, strings.Join(names, ", "), *weightCol)
	}
	return nil
}

func orInt(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

func orFloat(v, def float64) float64 {
	if v > 0 {
		return v
	}
	return def
}

func runWeightsTrim(e *env, args []string) error {
	fs := newFlags(e, "weights trim", "weights trim --data D.csv --weight COL --lower L --upper U [--strict] --out OUT.csv",
		"dotm weights trim --data final.csv --weight weight --lower 50 --upper 2000 --strict --out trimmed.csv")
	data := fs.String("data", "", "CSV with the weights")
	weightCol := fs.String("weight", "weight", "column with the weight to trim")
	lower := fs.Float64("lower", math.Inf(-1), "lower bound (default none)")
	upper := fs.Float64("upper", math.Inf(1), "upper bound (default none)")
	strict := fs.Bool("strict", false, "repeat until no weight is outside the bounds (survey::trimWeights strict = TRUE)")
	as := fs.String("as", "", "output weight column (default: the --weight column, replaced)")
	out := fs.String("out", "", "output CSV: the input with the trimmed weight")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if *data == "" || *out == "" || (math.IsInf(*lower, -1) && math.IsInf(*upper, 1)) {
		return exitError{code: 2, msg: "weights trim: --data, --out and --lower or --upper are required"}
	}
	t, w, err := weightData(*data, *weightCol)
	if err != nil {
		return err
	}
	res, err := sampling.Trim(w, *lower, *upper, *strict)
	if err != nil {
		return err
	}
	t.SetColumn(outName(*as, *weightCol), sampling.FormatFloats(res.Weights))
	if err := writeCSVAtomic(*out, t); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "trimmed %d of %d weights in %d round(s); wrote %s\n", res.Trimmed, len(w), res.Rounds, *out)
	return nil
}

func runWeightsReport(e *env, args []string) error {
	fs := newFlags(e, "weights report", "weights report --data D.csv --weight COL [--by COL] [--format text|csv|json]",
		"dotm weights report --data final.csv --weight weight --by stratum --format json")
	data := fs.String("data", "", "CSV with the weights")
	weightCol := fs.String("weight", "weight", "column with the weight")
	by := fs.String("by", "", "group column (default: stratum when the data has one; \"-\" for none)")
	format := fs.String("format", "text", "text, csv or json")
	designPath := fs.String("design", "", "design file of the weights (default: DATA's .design.yaml when there is one, as weights base writes it): the report says which design it encodes")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if *data == "" {
		return exitError{code: 2, msg: "weights report: --data is required"}
	}
	design, err := describeDesignFile(*designPath, *data)
	if err != nil {
		return err
	}
	if *format != "text" && *format != "csv" && *format != "json" {
		return exitError{code: 2, msg: fmt.Sprintf("weights report: --format %q: want text, csv or json", *format)}
	}
	t, w, err := weightData(*data, *weightCol)
	if err != nil {
		return err
	}
	group := *by
	if group == "" {
		if _, err := t.Index("stratum"); err == nil {
			group = "stratum"
		}
	}
	var groups []string
	if group != "" && group != "-" {
		if groups, err = t.Strings(group, false); err != nil {
			return fmt.Errorf("%s:\n%w", *data, err)
		}
	} else {
		group = ""
	}
	all, byGroup := sampling.Summarize(w, groups)
	switch *format {
	case "json":
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Weight  string                   `json:"weight"`
			By      string                   `json:"by,omitempty"`
			All     sampling.WeightSummary   `json:"all"`
			ByGroup []sampling.WeightSummary `json:"groups,omitempty"`
			Design  string                   `json:"design,omitempty"`
		}{*weightCol, group, all, byGroup, design})
	case "csv":
		t := &sampling.Table{Header: []string{"group", "n", "sum", "min", "max", "max_min_ratio", "cv", "deff_kish"}}
		for k, s := range append([]sampling.WeightSummary{all}, byGroup...) {
			name := s.Group
			if k == 0 {
				name = "(all)"
			}
			t.Rows = append(t.Rows, []string{name, strconv.Itoa(s.N), sampling.FormatFloat(s.Sum), sampling.FormatFloat(s.Min),
				sampling.FormatFloat(s.Max), sampling.FormatFloat(s.Ratio), sampling.FormatFloat(s.CV), sampling.FormatFloat(s.Deff)})
		}
		return t.Write(e.stdout)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	title := "GROUP"
	if group != "" {
		title = strings.ToUpper(group)
	}
	fmt.Fprintf(tw, "%s\tN\tSUM\tMIN\tMAX\tMAX/MIN\tCV\tDEFF\t\n", title)
	row := func(name string, s sampling.WeightSummary) {
		fmt.Fprintf(tw, "%s\t%d\t%.6g\t%.6g\t%.6g\t%.4g\t%.4f\t%.4f\t\n", name, s.N, s.Sum, s.Min, s.Max, s.Ratio, s.CV, s.Deff)
	}
	for _, s := range byGroup {
		row(s.Group, s)
	}
	row("(all)", all)
	if err := tw.Flush(); err != nil {
		return err
	}
	if design != "" {
		fmt.Fprintf(e.stdout, "\ndesign: %s\n", design)
	}
	return nil
}
