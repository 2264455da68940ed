// Package questionnaire is dotm's form engine: the form model with XLSForm
// semantics (sheets survey, choices and settings), readers and writers for
// XLSForm .xlsx, YAML and JSON, the ODK XPath expression subset used in
// relevant, constraint, calculation, choice_filter and repeat_count columns,
// and the server-side validation of a submission's answers with exactly the
// rules the tablet applies.
//
// # Form documents
//
// An XLSForm workbook has the sheets survey, choices and settings (names of
// sheets and columns in any case). Other columns are kept in Extra and
// Settings with their headers' spelling (Form.Headers), other sheets
// (external_choices, entities, ...) as read in Form.Sheets; neither is an
// error, and every writer gives them back. Translated columns are written
// label::English (en), hint::Español (es), constraint_message::...; dotm
// adds the survey column sensitivity (direct, quasi, sensitive or empty).
// YAML and JSON documents hold the same rows:
//
//	settings:  {form_id: dotm_household, version: "2025.1", form_title: ..., default_language: en}
//	languages: [{code: en, name: English}, {code: es, name: Español}]
//	survey:    [{type: integer, name: age, label: {en: Age, es: Edad}, constraint: ". <= 110"}, ...]
//	choices:   [{list_name: yes_no, name: "yes", label: {en: "Yes", es: "Sí"}}, ...]
//
// Decode(Encode(f)) gives back the same form in every format, so
// YAML -> XLSX -> YAML is lossless, and XLSX -> XLSX keeps every sheet,
// column and value (the columns in dotm's order). The written workbook's
// sheets carry their used range as dimension, which readers such as
// openpyxl in read-only mode rely on. A form that cannot be used is refused
// with FormErrors, each naming sheet, row and column (and, for an
// expression, the byte position).
//
// The WebAssembly build (GOOS=js) leaves out the .xlsx reader and writer
// (file xlsx.go, build tag !js) and the XForm writer (xform.go): the web
// client gets forms as JSON.
//
// # ODK XForms
//
// Form.XForm writes the form as the ODK XForm (XML) that pyxform, XLSForm's
// reference converter, writes for the same workbook, for ODK Collect,
// KoboCollect, Enketo and ODK Web Forms. The tests compare it with
// pyxform's expected XForms and load it in ODK's own form engine
// (@getodk/xforms-engine), whose relevance, required, constraint, repeat
// count and calculation results must equal Form.State's for the same
// answers.
//
// It also embeds the built-in Development on the Move household
// questionnaire (Household).
//
// The package is pure: it reads only the bytes (or the one file) it is
// given, keeps no clock (ValidateOptions.Now is what today() and now()
// return) and no global state, and builds for GOOS=js GOARCH=wasm so the
// offline web client runs the same evaluator as the server.
//
// It is not a form server or a store: the collector serves forms and
// stores submissions; the dataset package flattens approved answers.
package questionnaire
