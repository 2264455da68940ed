// Package questionnaire is dotm's form engine: the form model with XLSForm
// semantics (sheets survey, choices and settings), readers and writers for
// XLSForm .xlsx, YAML and JSON, the ODK XPath expression subset used in
// relevant, constraint, calculation, choice_filter and repeat_count columns,
// and the server-side validation of a submission's answers with exactly the
// rules the tablet applies.
//
// It also embeds the built-in Development on the Move household
// questionnaire (Household).
//
// The package is pure: it reads only the bytes (or the one file) it is
// given, keeps no clock (ValidateOptions.Now is what today() and now()
// return) and no global state, and builds for GOOS=js GOARCH=wasm so the
// offline web client runs the same evaluator as the server.
//
// It is not a form server, a store or an XForm (XML) generator: the
// collector serves forms as JSON (Form.Encode("json")) and stores
// submissions; the dataset package flattens approved answers.
package questionnaire
