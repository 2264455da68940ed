package main

import (
	"github.com/dotm-survey/dotm/mongodb"
	"github.com/dotm-survey/dotm/round"
)

// storeSurveyData is the survey-round view of a store: what `dotm analyze`
// with `survey:`, `dotm release create --survey`, the API and the demo read.
func storeSurveyData(store *mongodb.Store) round.SurveyData {
	return round.SurveyData{Forms: store, Assignments: store, Design: store, Weights: store, Approved: store, Surveys: store}
}
