package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"

	"github.com/dotm-survey/dotm/analysis"
	"github.com/dotm-survey/dotm/mongodb"
	"github.com/dotm-survey/dotm/round"
)

// runStackedAnalysis runs a plan (or report) over several surveys: data
// files relative to the plan, stored surveys from the store (opened once,
// when one is named).
func runStackedAnalysis(e *env, sf *storeFlags, plan *analysis.Plan, planPath, report, format, out string, fs *flag.FlagSet) error {
	var store *mongodb.Store
	defer func() {
		if store != nil {
			store.Close(e.ctx)
		}
	}()
	open := func(ctx context.Context, se analysis.StackEntry) (analysis.Source, *analysis.PlanDesign, error) {
		if se.Data != "" {
			data := se.Data
			if !filepath.IsAbs(data) {
				data = filepath.Join(filepath.Dir(planPath), data)
			}
			return fileSource{path: data}, nil, nil
		}
		if store == nil {
			var err error
			if store, err = sf.open(e); err != nil {
				return nil, nil, err
			}
		}
		pd, err := storeSurveyData(store).CalibratedDesign(ctx, se.Survey, plan.Design.LonelyPSU)
		if err != nil {
			return nil, nil, err
		}
		// A stack treats each survey's weights as fixed (calibrated designs
		// are not stackable yet): the design as drawn, without calibration.
		pd.Calibration = nil
		return round.SurveySource{Data: storeSurveyData(store), Survey: se.Survey}, &pd, nil
	}
	if report != "" {
		t, spec, err := analysis.LoadStack(e.ctx, plan, analysis.IndicatorColumns(analysis.DesignSpec{}), open)
		if err != nil {
			return fmt.Errorf("analyze: %w", err)
		}
		return writeIndicatorReport(e, t, spec, reportFormat(fs, format), out)
	}
	res, err := analysis.RunStacked(e.ctx, plan, open)
	if err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return writeResults(e, res, format, out)
}
