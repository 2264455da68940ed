package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dotm-survey/dotm/analysis"
	"github.com/dotm-survey/dotm/round"
)

// runAnalyze is `dotm analyze [--format F] [--out FILE] [--report indicators] PLAN.yaml`.
func runAnalyze(e *env, args []string) error {
	fs := newFlags(e, "analyze", "analyze [--format json|table|csv|html] [--out FILE] [--report indicators] (PLAN.yaml | --survey ID)",
		"dotm analyze --format table plan.yaml\ndotm analyze --report indicators --out report.html plan.yaml\ndotm analyze --report indicators --survey gh-2026 --data-dir ./data\n\nplan.yaml:\n  data: households.csv          # or survey: gh-2026 (approved interviews with their weights)\n  design: {strata: stratum, psu: psu, weight: weight, fpc: fpc, lonely_psu: adjust}\n  estimates:\n    - {id: b1, mean: bank_account, by: migrant}\n\nWeights that were calibrated: declare the calibration so that standard errors are the\ncalibrated design's (R's calibrate/rake/postStratify designs); before names the weights it started from:\n  design: {strata: stratum, psu: psu, weight: weight, fpc: fpc,\n           calibration: {method: rake, variables: [region, urban], before: weight_nr}}\nmethods: poststratify, rake, linear (GREG, bounded or not), raking, logit; a list of steps for trim-then-recalibrate.\nWith --survey the calibration stored with the survey's weights is used.\n\nThe design as drawn, from the design file dotm weights base writes (certainty EAs as strata of\ntheir households, screening classes as second-stage strata; --pps with-replacement or brewer):\n  design: {file: base.design.yaml, weight: w_final}\n\nSeveral surveys (one per country round), stacked with each survey's strata kept apart; survey is a\ndomain (by: survey) and the indicator report gets a cross-country page (migrant gap by country, and\nits difference from the first country's):\n  surveys: [{name: ghana, data: ghana.csv}, {name: senegal, survey: sn-2026}]\n  rescale: equal                # optional: each survey's weights scaled to the same total\n  design: {strata: stratum, psu: psu, weight: weight, lonely_psu: adjust}\ndotm analyze --report indicators --survey gh-2026,sn-2026 --rescale equal\n\nMore statistics (as R survey's functions; intervals are t on the design's df):\n    - {id: t1, total: migrant}                        # svytotal of a factor: every level's total\n    - {id: b2, mean: bank, by: [migrant, region], deff: replace, deft: true}\n    - {id: g1, mean: bank, by: migrant, contrasts: [{name: gap, weights: {current: 1, none: -1}}]}\n    - {id: c2, chisq: [migrant, bank], statistic: adjWald}   # F, Chisq, Wald, adjWald\n    - {id: p1, ciprop: remit, method: beta}           # svyciprop: logit, likelihood, mean, beta, asin, xlogit\n    - {id: v1, var: consumption, na_rm: true}         # svyvar\n    - {id: q2, quantile: consumption, p: [0.5], qrule: hf7, interval: score}\n    - {id: r1, glm: \"children ~ migrant * urban + I(hh_size^2)\", family: poisson, meff: true,\n       tests: [{terms: \"migrant + migrant:urban\"}], contrasts: [{name: d, weights: {migrantreturn: 1, migrantnone: -1}}]}")
	format := fs.String("format", "json", "output format: json, table, csv or html")
	out := fs.String("out", "", "output file (default: standard output; for --report with --format html, indicators.html and its .json beside it)")
	report := fs.String("report", "", "build a report instead of the plan's estimates: indicators")
	surveyID := fs.String("survey", "", "with --report: the survey whose approved interviews to report on (no plan needed); several, comma-separated (one per country round), stack them and add the cross-country page")
	rescale := fs.String("rescale", "", "with several --survey: equal gives each survey's weights the same total (plans say rescale: equal)")
	sf := addStoreFlags(e, fs)
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) >= 1 {
		// Allow flags after the plan file too.
		if err := parseFlags(e, fs, rest[1:]); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			fmt.Fprintf(e.stderr, "analyze: unexpected arguments %v\n", fs.Args())
			return exitError{code: 2}
		}
	}
	if len(rest) < 1 && *surveyID == "" {
		fmt.Fprintln(e.stderr, "analyze: give a PLAN.yaml, or --report indicators --survey ID (dotm analyze --help)")
		return exitError{code: 2}
	}
	if *surveyID != "" && (len(rest) > 0 || *report == "") {
		fmt.Fprintln(e.stderr, "analyze: --survey goes with --report indicators and no plan; a plan names its survey with survey: ID")
		return exitError{code: 2}
	}
	switch *format {
	case "json", "table", "csv", "html":
	default:
		fmt.Fprintf(e.stderr, "analyze: --format %q is not json, table, csv or html\n", *format)
		return exitError{code: 2}
	}
	if *report != "" && *report != "indicators" {
		fmt.Fprintf(e.stderr, "analyze: --report %q: the only report is indicators\n", *report)
		return exitError{code: 2}
	}
	var plan *analysis.Plan
	var planPath string
	if *rescale != "" && !strings.Contains(*surveyID, ",") {
		fmt.Fprintln(e.stderr, "analyze: --rescale goes with several --survey IDs (comma-separated); a plan says rescale: equal")
		return exitError{code: 2}
	}
	if *surveyID != "" {
		plan = &analysis.Plan{Survey: *surveyID}
		if ids := strings.Split(*surveyID, ","); len(ids) > 1 {
			plan = &analysis.Plan{Rescale: *rescale}
			for _, id := range ids {
				plan.Surveys = append(plan.Surveys, analysis.StackEntry{Name: strings.TrimSpace(id), Survey: strings.TrimSpace(id)})
			}
			if err := analysis.CheckStack(plan); err != nil {
				fmt.Fprintf(e.stderr, "analyze: --survey: %v\n", err)
				return exitError{code: 2}
			}
		}
	} else {
		planPath = rest[0]
		b, err := os.ReadFile(planPath)
		if err != nil {
			return fmt.Errorf("analyze: %w", err)
		}
		if *report != "" {
			plan, err = analysis.ParseReportPlan(b)
		} else {
			plan, err = analysis.ParsePlan(b)
		}
		if err != nil {
			return fmt.Errorf("analyze: %s: %w", planPath, err)
		}
		if err := resolveDesignFile(plan, planPath); err != nil {
			return fmt.Errorf("analyze: %s: %w", planPath, err)
		}
	}
	if plan.Stacked() {
		return runStackedAnalysis(e, sf, plan, planPath, *report, *format, *out, fs)
	}
	var src analysis.Source
	if plan.Survey != "" {
		store, err := sf.open(e)
		if err != nil {
			return fmt.Errorf("analyze: %w", err)
		}
		defer store.Close(e.ctx)
		if plan.Design.Weight == "" && plan.Design.Prob == "" {
			if plan.Design, err = storeSurveyData(store).CalibratedDesign(e.ctx, plan.Survey, plan.Design.LonelyPSU); err != nil {
				return fmt.Errorf("analyze: %w", err)
			}
		}
		src = round.SurveySource{Data: storeSurveyData(store), Survey: plan.Survey}
	} else {
		data := plan.Data
		if !filepath.IsAbs(data) {
			data = filepath.Join(filepath.Dir(planPath), data)
		}
		src = fileSource{path: data}
	}
	if *report != "" {
		return runIndicatorReport(e, plan, src, reportFormat(fs, *format), *out)
	}
	res, err := analysis.Run(e.ctx, plan, src)
	if err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return writeResults(e, res, *format, *out)
}

// reportFormat is --format, html unless given: a report is a page.
func reportFormat(fs *flag.FlagSet, format string) string {
	set := false
	fs.Visit(func(fl *flag.Flag) { set = set || fl.Name == "format" })
	if !set {
		return "html"
	}
	return format
}

// writeResults writes a plan's results in format to out (or stdout).
func writeResults(e *env, res *analysis.Results, format, out string) error {
	write := func(w io.Writer) error {
		switch format {
		case "table":
			return res.WriteTable(w)
		case "csv":
			return res.WriteCSV(w)
		case "html":
			return res.WriteHTML(w)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	if out == "" {
		return write(e.stdout)
	}
	return writeAtomic(out, write)
}

// runIndicatorReport writes the migrant indicator report as HTML and,
// next to it, JSON.
func runIndicatorReport(e *env, plan *analysis.Plan, src analysis.Source, format, out string) error {
	t, err := src.Load(e.ctx, analysis.IndicatorColumns(plan.Design.Spec()))
	if err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return writeIndicatorReport(e, t, plan.Design.Spec(), format, out)
}

// writeIndicatorReport computes the indicator report on t and writes it.
func writeIndicatorReport(e *env, t *analysis.Table, spec analysis.DesignSpec, format, out string) error {
	rep, err := analysis.IndicatorReport(t, spec)
	if err != nil {
		return fmt.Errorf("analyze: indicator report: %w", err)
	}
	writeJSON := func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	var write func(io.Writer) error
	switch format {
	case "html":
		if out == "" {
			out = "indicators.html"
		}
		write = rep.WriteHTML
	case "json":
		write = writeJSON
	case "table":
		write = rep.WriteTable
	case "csv":
		write = rep.WriteCSV
	default:
		return exitError{code: 2, msg: fmt.Sprintf("analyze: --format %q: want json, table, csv or html", format)}
	}
	if out == "" {
		return write(e.stdout)
	}
	if err := writeAtomic(out, write); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	wrote := []string{out}
	if format == "html" {
		// The page's numbers, for other tools.
		jsonPath := strings.TrimSuffix(out, filepath.Ext(out)) + ".json"
		if err := writeAtomic(jsonPath, writeJSON); err != nil {
			return fmt.Errorf("analyze: %w", err)
		}
		wrote = append(wrote, jsonPath)
	}
	fmt.Fprintf(e.stderr, "wrote %s\n", strings.Join(wrote, " and "))
	return nil
}
