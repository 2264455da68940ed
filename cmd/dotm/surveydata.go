package main

import (
	"github.com/dotm-survey/dotm/collector"
	"github.com/dotm-survey/dotm/mongodb"
)

// storeSurveyData is the survey-round view of a store: what `dotm analyze`
// with `survey:`, `dotm release create --survey`, the API and the demo read.
func storeSurveyData(store *mongodb.Store) collector.SurveyData {
	return collector.SurveyData{Forms: store, Assignments: store, Design: store, Weights: store, Approved: store}
}
