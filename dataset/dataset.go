package dataset

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dotm-survey/dotm/exports"
	"github.com/dotm-survey/dotm/questionnaire"
)

// Household is one approved interview and the design information of the
// household it is about.
type Household struct {
	ID      string  // the sampled household's id
	Stratum string  // design stratum of its PSU
	PSU     string  // enumeration area
	Weight  float64 // final weight (after nonresponse adjustment and calibration)
	// Uncalibrated and Calibrated are the weight before calibration (after
	// the nonresponse adjustment) and after it (before trimming), when the
	// weights were calibrated (else 0): the households table then carries
	// them as weight_uncalibrated and weight_calibrated, so that variances
	// can be those of the calibrated design.
	Uncalibrated, Calibrated float64
	FPC                      float64 // PSUs in the stratum's frame; 0 when unknown
	// Class is the household's screening class (the second-stage stratum)
	// and Certainty whether its PSU was selected with certainty: with
	// stratum and psu, the design as drawn (columns ScreeningClass and
	// Certainty, present when every household has a class).
	Class     string
	Certainty bool
	// Interviewed is when the interview ended.
	Interviewed time.Time
	// Answers are the validated, normalized answers (questionnaire.Form.Validate
	// output). Direct identifiers may be absent: callers without the right to
	// see them leave them out, and nothing here needs them.
	Answers map[string]any
}

// Table names, and the form repeats they come from.
const (
	Households     = "households"
	Persons        = "persons"
	Migrants       = "migrants"
	ReturnMigrants = "return_migrants"
)

// repeatTables maps the household form's repeats to table names; any other
// repeat becomes a table of its own name.
var repeatTables = map[string]string{"members": Persons, "migrants": Migrants, "returnees": ReturnMigrants}

// Migration status of a household, from the interview (current migrants
// first: a household with both is a current-migrant household, as screening
// classes it).
const (
	CurrentMigrant = "current_migrant"
	ReturnMigrant  = "return_migrant"
	NonMigrant     = "non_migrant"
)

// Build makes the tables of one survey round from its approved interviews,
// in the order given. Every household table row has the design variables
// (stratum, psu, weight, fpc), the derived variables listed in derived.go, and
// one column per top-level question of the form; each repeat gives a table
// with household_id, a 1-based line number, the design variables and one
// column per question in the repeat.
func Build(survey string, form *questionnaire.Form, hh []Household) (*exports.Dataset, error) {
	if form == nil {
		return nil, fmt.Errorf("dataset: no form")
	}
	ds := &exports.Dataset{Survey: survey, Languages: append([]string(nil), form.Languages...)}
	fields := form.Fields()
	byRepeat := map[string][]questionnaire.Field{}
	var repeats []string
	for _, f := range fields {
		if f.Repeat != "" && len(f.Repeats) > 1 {
			continue // nested repeats stay out of the flat tables
		}
		if _, ok := byRepeat[f.Repeat]; !ok && f.Repeat != "" {
			repeats = append(repeats, f.Repeat)
		}
		byRepeat[f.Repeat] = append(byRepeat[f.Repeat], f)
	}
	for i, h := range hh {
		if h.ID == "" {
			return nil, fmt.Errorf("dataset: household %d has no id", i)
		}
		if !(h.Weight > 0) || math.IsInf(h.Weight, 0) {
			return nil, fmt.Errorf("dataset: household %s: weight %v is not positive", h.ID, h.Weight)
		}
	}

	house := &exports.Table{Name: Households}
	house.Columns = append(house.Columns, designColumns(hh)...)
	house.Columns = append(house.Columns, drawnColumnsAt(hh, nil)...)
	house.Columns = append(house.Columns, calibrationColumns(hh)...)
	house.Columns = append(house.Columns, derivedColumns(hh)...)
	have := map[string]*exports.Column{}
	for _, c := range house.Columns {
		have[c.Name] = c
	}
	for _, f := range byRepeat[""] {
		if c := have[f.Name]; c != nil {
			// The derived column of that name wins (same meaning, clean
			// type) and takes the question's text and class from the form.
			c.Meta.Question = f.Labels
			if f.Sensitivity != "" {
				c.Meta.Sensitivity = f.Sensitivity
			}
			if c.Type == exports.String && len(c.Meta.Choices) == 0 {
				for _, ch := range f.Choices {
					c.Meta.Choices = append(c.Meta.Choices, exports.Choice{Name: ch.Name, Labels: ch.Labels})
				}
			}
			continue
		}
		col := fieldColumn(f, len(hh), func(i int) (any, bool) {
			v, ok := hh[i].Answers[f.Name]
			return v, ok
		})
		if col != nil {
			house.Columns = append(house.Columns, col...)
		}
	}
	ds.Tables = append(ds.Tables, house)

	for _, rep := range repeats {
		name := repeatTables[rep]
		if name == "" {
			name = rep
		}
		t, err := repeatTable(name, rep, byRepeat[rep], hh)
		if err != nil {
			return nil, err
		}
		ds.Tables = append(ds.Tables, t)
	}
	labelCopies(ds, byRepeat)
	exports.StandardizeCodes(ds)
	for _, t := range ds.Tables {
		if err := t.Check(); err != nil {
			return nil, fmt.Errorf("dataset: %w", err)
		}
	}
	return ds, nil
}

// rowsOf returns the entries of a repeat in one household's answers.
func rowsOf(answers map[string]any, repeat string) []map[string]any {
	raw, _ := answers[repeat].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, r := range raw {
		if m, ok := r.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func repeatTable(name, repeat string, fields []questionnaire.Field, hh []Household) (*exports.Table, error) {
	type ref struct{ h, line int }
	var refs []ref
	for i, h := range hh {
		for j := range rowsOf(h.Answers, repeat) {
			refs = append(refs, ref{i, j})
		}
	}
	t := &exports.Table{Name: name}
	n := len(refs)
	ids := &exports.Column{Name: "household_id", Type: exports.String, Strings: make([]string, n), Meta: exports.Meta{Source: "sample"}}
	lines := &exports.Column{Name: "line", Type: exports.Int, Ints: make([]int64, n), Meta: exports.Meta{Source: "position in " + repeat}}
	for k, r := range refs {
		ids.Strings[k] = hh[r.h].ID
		lines.Ints[k] = int64(r.line + 1)
	}
	t.Columns = append(t.Columns, ids, lines)
	hidx := make([]int, n)
	for k, r := range refs {
		hidx[k] = r.h
	}
	t.Columns = append(t.Columns, designColumnsAt(hh, hidx)...)
	t.Columns = append(t.Columns, drawnColumnsAt(hh, hidx)...)
	for _, f := range fields {
		col := fieldColumn(f, n, func(k int) (any, bool) {
			row := rowsOf(hh[refs[k].h].Answers, repeat)[refs[k].line]
			v, ok := row[f.Name]
			return v, ok
		})
		t.Columns = append(t.Columns, col...)
	}
	return t, nil
}

// designColumns gives household_id, stratum, psu, weight and fpc for every household.
func designColumns(hh []Household) []*exports.Column {
	idx := make([]int, len(hh))
	for i := range idx {
		idx[i] = i
	}
	cols := designColumnsAt(hh, idx)
	id := &exports.Column{Name: "household_id", Type: exports.String, Strings: make([]string, len(hh)), Meta: exports.Meta{Source: "sample"}}
	for i, h := range hh {
		id.Strings[i] = h.ID
	}
	return append([]*exports.Column{id}, cols...)
}

// Names of the households table's columns of weights before and after
// calibration (present only when the weights were calibrated).
const (
	WeightUncalibrated = "weight_uncalibrated"
	WeightCalibrated   = "weight_calibrated"
)

// calibrationColumns gives weight_uncalibrated and weight_calibrated when
// every household has them, else nothing.
func calibrationColumns(hh []Household) []*exports.Column {
	for _, h := range hh {
		if !(h.Uncalibrated > 0) || !(h.Calibrated > 0) {
			return nil
		}
	}
	before := &exports.Column{Name: WeightUncalibrated, Type: exports.Float, Floats: make([]float64, len(hh)), Meta: exports.Meta{Source: "weight after the nonresponse adjustment, before calibration"}}
	after := &exports.Column{Name: WeightCalibrated, Type: exports.Float, Floats: make([]float64, len(hh)), Meta: exports.Meta{Source: "weight after calibration, before trimming"}}
	for i, h := range hh {
		before.Floats[i], after.Floats[i] = h.Uncalibrated, h.Calibrated
	}
	return []*exports.Column{before, after}
}

// Names of the columns of the design as drawn (see Household.Class).
const (
	ScreeningClass = "screening_class"
	Certainty      = "certainty"
)

// drawnColumnsAt gives screening_class and certainty (0/1) of household
// hidx[k] for row k (hidx nil: every household in order), or nothing when
// some household has no class.
func drawnColumnsAt(hh []Household, hidx []int) []*exports.Column {
	for _, h := range hh {
		if h.Class == "" {
			return nil
		}
	}
	if hidx == nil {
		hidx = make([]int, len(hh))
		for i := range hidx {
			hidx[i] = i
		}
	}
	class := &exports.Column{Name: ScreeningClass, Type: exports.String, Strings: make([]string, len(hidx)), Meta: exports.Meta{Source: "sample design: screening class at listing, the second-stage stratum"}}
	cert := &exports.Column{Name: Certainty, Type: exports.Int, Ints: make([]int64, len(hidx)), Meta: exports.Meta{Source: "sample design: 1 when the PSU was selected with certainty (self-representing)"}}
	for k, i := range hidx {
		class.Strings[k] = hh[i].Class
		if hh[i].Certainty {
			cert.Ints[k] = 1
		}
	}
	return []*exports.Column{class, cert}
}

// designColumnsAt gives the design variables of household hidx[k] for row k.
func designColumnsAt(hh []Household, hidx []int) []*exports.Column {
	n := len(hidx)
	stratum := &exports.Column{Name: "stratum", Type: exports.String, Strings: make([]string, n), Meta: exports.Meta{Source: "sample design"}}
	psu := &exports.Column{Name: "psu", Type: exports.String, Strings: make([]string, n), Meta: exports.Meta{Source: "sample design"}}
	weight := &exports.Column{Name: "weight", Type: exports.Float, Floats: make([]float64, n), Meta: exports.Meta{Source: "final weight"}}
	fpc := &exports.Column{Name: "fpc", Type: exports.Float, Floats: make([]float64, n), Nullable: true, Meta: exports.Meta{Source: "PSUs in the stratum's frame"}}
	for k, i := range hidx {
		h := hh[i]
		stratum.Strings[k], psu.Strings[k], weight.Floats[k] = h.Stratum, h.PSU, h.Weight
		if h.FPC > 0 {
			fpc.Floats[k] = h.FPC
		} else {
			fpc.SetNull(k)
		}
	}
	return []*exports.Column{stratum, psu, weight, fpc}
}

// fieldColumn makes the column(s) of one form field over n rows; get returns
// row k's answer. A geopoint gives _lat and _lon columns.
func fieldColumn(f questionnaire.Field, n int, get func(k int) (any, bool)) []*exports.Column {
	meta := exports.Meta{Sensitivity: f.Sensitivity, Question: f.Labels, Source: f.Name}
	switch f.Type {
	case "text", "start", "end", "today", "deviceid", "subscriberid", "simserial", "phonenumber", "username", "email", "audit":
		meta.FreeText = true
	}
	for _, c := range f.Choices {
		meta.Choices = append(meta.Choices, exports.Choice{Name: c.Name, Labels: c.Labels})
	}
	meta.Multiple = f.Type == "select_multiple"
	switch f.Type {
	case "integer":
		c := &exports.Column{Name: f.Name, Type: exports.Int, Ints: make([]int64, n), Nullable: true, Meta: meta}
		for k := 0; k < n; k++ {
			if x, ok := number(get(k)); ok && x == math.Trunc(x) {
				c.Ints[k] = int64(x)
			} else {
				c.SetNull(k)
			}
		}
		return []*exports.Column{c}
	case "decimal":
		c := &exports.Column{Name: f.Name, Type: exports.Float, Floats: make([]float64, n), Nullable: true, Meta: meta}
		for k := 0; k < n; k++ {
			if x, ok := number(get(k)); ok {
				c.Floats[k] = x
			} else {
				c.SetNull(k)
			}
		}
		return []*exports.Column{c}
	case "date":
		c := &exports.Column{Name: f.Name, Type: exports.Date, Ints: make([]int64, n), Nullable: true, Meta: meta}
		for k := 0; k < n; k++ {
			v, ok := get(k)
			s, _ := v.(string)
			d, err := time.Parse(time.DateOnly, s)
			if !ok || err != nil {
				c.SetNull(k)
				continue
			}
			c.Ints[k] = d.Unix() / 86400
		}
		return []*exports.Column{c}
	case "geopoint":
		lat := &exports.Column{Name: f.Name + "_lat", Type: exports.Float, Floats: make([]float64, n), Nullable: true, Meta: meta}
		lon := &exports.Column{Name: f.Name + "_lon", Type: exports.Float, Floats: make([]float64, n), Nullable: true, Meta: meta}
		for k := 0; k < n; k++ {
			v, _ := get(k)
			m, _ := v.(map[string]any)
			la, ok1 := number(m["lat"], m != nil)
			lo, ok2 := number(m["lon"], m != nil)
			if ok1 && ok2 {
				lat.Floats[k], lon.Floats[k] = la, lo
			} else {
				lat.SetNull(k)
				lon.SetNull(k)
			}
		}
		return []*exports.Column{lat, lon}
	case "calculate":
		// A calculation's type is what its values are: numbers if all are.
		vals := make([]any, n)
		numeric, some := true, false
		for k := 0; k < n; k++ {
			v, ok := get(k)
			if !ok || v == nil || v == "" {
				continue
			}
			vals[k], some = v, true
			if _, isNum := number(v, true); !isNum {
				numeric = false
			}
		}
		if numeric && some && indicator(vals) {
			// 0/1 values: an indicator, typed as the derived ones are.
			c := &exports.Column{Name: f.Name, Type: exports.Int, Ints: make([]int64, n), Nullable: true, Meta: meta}
			c.Meta.Choices = exports.YesNoChoices()
			for k := 0; k < n; k++ {
				if x, ok := number(vals[k], vals[k] != nil); ok {
					c.Ints[k] = int64(x)
				} else {
					c.SetNull(k)
				}
			}
			return []*exports.Column{c}
		}
		if numeric && some {
			c := &exports.Column{Name: f.Name, Type: exports.Float, Floats: make([]float64, n), Nullable: true, Meta: meta}
			for k := 0; k < n; k++ {
				if x, ok := number(vals[k], vals[k] != nil); ok {
					c.Floats[k] = x
				} else {
					c.SetNull(k)
				}
			}
			return []*exports.Column{c}
		}
		fallthrough
	default: // text, select_one, select_multiple, datetime, time, acknowledge, …
		c := &exports.Column{Name: f.Name, Type: exports.String, Strings: make([]string, n), Nullable: true, Meta: meta}
		for k := 0; k < n; k++ {
			v, ok := get(k)
			s, has := text(v)
			if !ok || !has {
				c.SetNull(k)
				continue
			}
			c.Strings[k] = s
		}
		return []*exports.Column{c}
	}
}

// indicator reports whether every non-missing value is 0 or 1.
func indicator(vals []any) bool {
	for _, v := range vals {
		if x, ok := number(v, v != nil); ok && x != 0 && x != 1 {
			return false
		}
	}
	return true
}

// number reads a JSON-ish number (float64, int64, int, numeric string).
func number(v any, ok bool) (float64, bool) {
	if !ok || v == nil {
		return 0, false
	}
	switch x := v.(type) {
	case float64:
		return x, !math.IsNaN(x)
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	}
	return 0, false
}

// text renders an answer as a string: select_multiple as its sorted choice
// names joined by spaces (as ODK stores it).
func text(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, x != ""
	case []string:
		s := append([]string(nil), x...)
		sort.Strings(s)
		return strings.Join(s, " "), true
	case []any:
		s := make([]string, 0, len(x))
		for _, e := range x {
			s = append(s, fmt.Sprint(e))
		}
		sort.Strings(s)
		return strings.Join(s, " "), true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	case int64:
		return strconv.FormatInt(x, 10), true
	}
	return fmt.Sprint(v), true
}

// copiedFrom names the repeat question whose answer a derived household
// column copies: the column takes that question's value labels.
var copiedFrom = map[string][2]string{"head_sex": {"members", "sex"}, "dest_country": {"migrants", "dest_country"}}

// labelCopies gives the derived columns that copy an answer (head_sex,
// dest_country) the value labels of the question they copy.
func labelCopies(ds *exports.Dataset, byRepeat map[string][]questionnaire.Field) {
	house := ds.Table(Households)
	for _, name := range []string{"head_sex", "dest_country"} {
		c := house.Column(name)
		if c == nil || len(c.Meta.Choices) > 0 {
			continue
		}
		from := copiedFrom[name]
		for _, f := range byRepeat[from[0]] {
			if f.Name != from[1] {
				continue
			}
			for _, ch := range f.Choices {
				c.Meta.Choices = append(c.Meta.Choices, exports.Choice{Name: ch.Name, Labels: ch.Labels})
			}
		}
		if name == "dest_country" && len(c.Meta.Choices) > 0 {
			c.Meta.Choices = append(c.Meta.Choices, exports.Choice{Name: "", Labels: map[string]string{"en": "No member abroad"}})
		}
	}
}
