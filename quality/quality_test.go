package quality_test

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/fieldsim"
	"github.com/dotm-survey/dotm/quality"
	"github.com/dotm-survey/dotm/questionnaire"
)

// simulated is one clean interview of the simulated field work, as the
// server checks it.
type simulated struct {
	id, ea, enumerator string
	answers            map[string]any
	started, ended     time.Time
}

// simulate makes n clean interviews of the built-in household form in the
// EAs of a simulated country, 12 per EA, by 10 enumerators, each lasting
// 40 to 80 minutes (the demo's field work), 4% of them refusals.
func simulate(t testing.TB, f *questionnaire.Form, n int, seed uint64) []simulated {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	country := fieldsim.NewCountry(n/12+1, seed)
	start := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	var out []simulated
	for i := 0; len(out) < n; i++ {
		ea := country.EAs[i%len(country.EAs)]
		listed := fieldsim.List(ea, rng)
		l := listed[rng.IntN(len(listed))]
		h := fieldsim.Household{ID: fmt.Sprintf("%s-%d", l.ID, i), Region: ea.Region, Urban: ea.Urban, Class: l.Class, EA: ea.ID}
		end := start.Add(time.Duration(rng.IntN(28*24*60)) * time.Minute)
		var a map[string]any
		if rng.Float64() < 0.04 {
			a = fieldsim.Refusal(rng, h, end)
		} else {
			a = fieldsim.Interview(rng, h, end)
		}
		norm, problems := f.Validate(a, questionnaire.ValidateOptions{Now: end})
		if len(problems) > 0 {
			t.Fatalf("simulated interview %d does not pass the form: %v", i, problems[0])
		}
		out = append(out, simulated{id: fmt.Sprintf("s%05d", i), ea: ea.ID, enumerator: fmt.Sprintf("enu%02d", i%10), answers: norm,
			started: end.Add(-time.Duration(40+rng.IntN(40)) * time.Minute), ended: end})
	}
	return out
}

// field runs the checks over interviews in order, as the server does on
// receipt: each against the located interviews of its EA received before,
// and the fingerprints against those seen before. It returns each
// interview's flags and the tallies for the enumerator-level checks.
func field(f *questionnaire.Form, interviews []simulated) (map[string][]string, []dotm.Tally) {
	points := map[string][]dotm.Point{}
	seen := map[string]string{}
	flags := map[string][]string{}
	var tallies []dotm.Tally
	for _, s := range interviews {
		r := quality.Check(f, s.answers, s.started, s.ended, points[s.ea])
		fl := slices.Clone(r.Flags)
		for kind, b := range r.Fingerprints {
			key := kind + "/" + string(b)
			if first, ok := seen[key]; ok && first != s.id {
				fl = append(fl, "duplicate_"+kind)
			} else {
				seen[key] = s.id
			}
		}
		slices.Sort(fl)
		flags[s.id] = fl
		if r.GPS != nil {
			points[s.ea] = append(points[s.ea], *r.GPS)
		}
		t := dotm.Tally{ID: s.id, Survey: "sim", Enumerator: s.enumerator, PSU: s.ea, Status: dotm.SubmissionReceived, Refused: r.Refused,
			Day: s.ended.Format(time.DateOnly), Seconds: r.Seconds, Flags: fl, Ages: r.Ages, Amounts: r.Amounts, RoundAmount: r.Round}
		tallies = append(tallies, t)
	}
	return flags, tallies
}

func TestCleanInterviewsFalsePositives(t *testing.T) {
	f := questionnaire.Household()
	interviews := simulate(t, f, 800, 1)
	flags, tallies := field(f, interviews)
	count := map[string]int{}
	for _, fl := range flags {
		for _, x := range fl {
			count[x]++
		}
	}
	n := len(interviews)
	for _, k := range []string{dotm.FlagShort, dotm.FlagGPSFar, dotm.FlagDupAnswers, dotm.FlagDupRespondent, dotm.FlagDupPhone, dotm.FlagStraightLine} {
		t.Logf("clean interviews flagged %s: %d of %d (%.2f%%)", k, count[k], n, 100*float64(count[k])/float64(n))
	}
	// Each per-interview flag on at most 0.5% of clean interviews: the
	// respondent fingerprint can collide by chance in one-person
	// households of the simulation's few names; the others never should.
	for _, k := range []string{dotm.FlagShort, dotm.FlagGPSFar, dotm.FlagDupAnswers, dotm.FlagDupPhone, dotm.FlagStraightLine} {
		if count[k] > 0 {
			t.Errorf("%d clean interviews flagged %s", count[k], k)
		}
	}
	if rate := float64(count[dotm.FlagDupRespondent]) / float64(n); rate > 0.005 {
		t.Errorf("duplicate_respondent on %.2f%% of clean interviews", 100*rate)
	}
	p := dotm.ComputeProgress(dotm.ProgressInput{Survey: "sim", Tallies: tallies})
	for _, e := range p.Enumerators {
		t.Logf("%s: %d interviews, median %.1f min, Whipple %.0f, round amounts %.2f", e.Enumerator, e.Interviews, e.MedianMinutes, e.Whipple, e.RoundAmounts)
		if len(e.EnumeratorFlags) > 0 {
			t.Errorf("clean enumerator %s flagged %v", e.Enumerator, e.EnumeratorFlags)
		}
	}
}

// TestPlantedCases plants one case of each problem among clean interviews
// and checks that each is caught, and only it.
func TestPlantedCases(t *testing.T) {
	f := questionnaire.Household()
	interviews := simulate(t, f, 600, 2)
	consented := func(i int) int {
		for ; interviews[i].answers["consent"] != "yes"; i++ {
		}
		return i
	}
	// A 4-minute interview.
	short := consented(100)
	interviews[short].started = interviews[short].ended.Add(-4 * time.Minute)
	// A point 50 km north of its EA (0.45° of latitude), late in its EA.
	far := consented(500)
	g := maps.Clone(interviews[far].answers["gps"].(map[string]any))
	g["lat"] = g["lat"].(float64) + 50/111.2
	interviews[far].answers["gps"] = g
	// A copied household: another household id and name, the same answers
	// (and so the same phone and roster).
	src := consented(200)
	copied := maps.Clone(interviews[src].answers)
	copied["household_id"] = "copied-1"
	copied["respondent_name"] = "Someone Else"
	interviews = append(interviews, simulated{id: "copied", ea: interviews[src].ea, enumerator: "enu03", answers: copied,
		started: interviews[src].started.Add(24 * time.Hour), ended: interviews[src].ended.Add(24 * time.Hour)})
	// Heaped ages and round amounts: enumerator enu07 rounds every adult's
	// age to the nearest 5 and every amount to one significant digit.
	for i := range interviews {
		if interviews[i].enumerator != "enu07" {
			continue
		}
		if ms, ok := interviews[i].answers["members"].([]any); ok {
			for _, m := range ms {
				m := m.(map[string]any)
				if a := m["age"].(int64); a >= 20 {
					m["age"] = (a + 2) / 5 * 5
				}
			}
		}
		for _, k := range []string{"food_exp", "educ_exp", "health_exp", "housing_exp", "other_exp", "remit_amount"} {
			if v, ok := interviews[i].answers[k].(float64); ok && v > 10 {
				interviews[i].answers[k] = roundOne(v)
			}
		}
	}
	// A hurried enumerator: enu05's interviews take 15 minutes.
	for i := range interviews {
		if interviews[i].enumerator == "enu05" {
			interviews[i].started = interviews[i].ended.Add(-15 * time.Minute)
		}
	}
	flags, tallies := field(f, interviews)
	want := map[string][]string{
		interviews[short].id: {dotm.FlagShort},
		interviews[far].id:   {dotm.FlagGPSFar},
		"copied":             {dotm.FlagDupAnswers, dotm.FlagDupPhone},
	}
	for id, w := range want {
		if !slices.Equal(flags[id], w) {
			t.Errorf("planted %s: flags %v, want %v", id, flags[id], w)
		}
	}
	for id, fl := range flags {
		if _, planted := want[id]; !planted && len(fl) > 0 && !(len(fl) == 1 && fl[0] == dotm.FlagDupRespondent) {
			t.Errorf("clean interview %s flagged %v", id, fl)
		}
	}
	p := dotm.ComputeProgress(dotm.ProgressInput{Survey: "sim", Tallies: tallies})
	wantEnum := map[string][]string{"enu07": {dotm.FlagAgeHeaping, dotm.FlagAmountHeaping}, "enu05": {dotm.FlagDurationOut}}
	for _, e := range p.Enumerators {
		if !slices.Equal(e.EnumeratorFlags, wantEnum[e.Enumerator]) {
			t.Errorf("%s (Whipple %.0f, round %.2f, median %.0f min): flags %v, want %v", e.Enumerator, e.Whipple, e.RoundAmounts, e.MedianMinutes, e.EnumeratorFlags, wantEnum[e.Enumerator])
		}
	}
}

func roundOne(v float64) float64 {
	p := 1.0
	for v/p >= 10 {
		p *= 10
	}
	return float64(int(v/p+0.5)) * p
}

// batteryForm has a battery of five agree–disagree questions.
const batteryForm = `
settings: {form_id: battery, version: "1", default_language: en}
survey:
  - {type: text, name: respondent_name, label: {en: Name}, sensitivity: direct}
  - {type: select_one agree, name: q1, label: {en: Q1}}
  - {type: select_one agree, name: q2, label: {en: Q2}}
  - {type: select_one agree, name: q3, label: {en: Q3}}
  - {type: select_one agree, name: q4, label: {en: Q4}}
  - {type: select_one agree, name: q5, label: {en: Q5}}
  - {type: select_one yes_no, name: y1, label: {en: Y1}}
  - {type: select_one yes_no, name: y2, label: {en: Y2}}
  - {type: select_one yes_no, name: y3, label: {en: Y3}}
  - {type: select_one yes_no, name: y4, label: {en: Y4}}
choices:
  - {list_name: agree, name: agree, label: {en: Agree}}
  - {list_name: agree, name: neutral, label: {en: Neutral}}
  - {list_name: agree, name: disagree, label: {en: Disagree}}
  - {list_name: yes_no, name: "yes", label: {en: "Yes"}}
  - {list_name: yes_no, name: "no", label: {en: "No"}}
`

func TestStraightLining(t *testing.T) {
	f, err := questionnaire.Decode([]byte(batteryForm), "yaml")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	answers := func(vs ...string) map[string]any {
		a := map[string]any{"respondent_name": "x", "y1": "yes", "y2": "yes", "y3": "yes", "y4": "yes"}
		for i, v := range vs {
			a[fmt.Sprintf("q%d", i+1)] = v
		}
		return a
	}
	for _, c := range []struct {
		name    string
		answers map[string]any
		want    bool
	}{
		{"one answer to the whole battery", answers("agree", "agree", "agree", "agree", "agree"), true},
		{"four of five the same", answers("agree", "agree", "neutral", "agree", "agree"), false},
		{"a battery too short to tell (3 answered)", answers("agree", "agree", "agree"), false},
		// yes/no questions answered alike are not a battery: two choices
		// leave no room for a pattern.
		{"every yes/no the same", answers("agree", "neutral", "disagree", "agree", "neutral"), false},
	} {
		r := quality.Check(f, c.answers, start, start.Add(30*time.Minute), nil)
		if got := slices.Contains(r.Flags, dotm.FlagStraightLine); got != c.want {
			t.Errorf("%s: flags %v", c.name, r.Flags)
		}
	}
}

// TestDuplicateRespondent plants a household whose respondent and roster
// (names and ages) are those of another, with other answers elsewhere.
func TestDuplicateRespondent(t *testing.T) {
	f := questionnaire.Household()
	interviews := simulate(t, f, 40, 3)
	i := 0
	for interviews[i].answers["consent"] != "yes" {
		i++
	}
	dup := maps.Clone(interviews[i].answers)
	dup["household_id"] = "dup-1"
	dup["phone"] = "+57 300 000 0000"
	dup["women_work_abroad"] = map[string]string{"agree": "disagree", "neutral": "agree", "disagree": "neutral"}[dup["women_work_abroad"].(string)]
	interviews = append(interviews, simulated{id: "dup", ea: interviews[i].ea, enumerator: "enu01", answers: dup, started: interviews[i].started, ended: interviews[i].ended})
	flags, _ := field(f, interviews)
	if !slices.Equal(flags["dup"], []string{dotm.FlagDupRespondent}) {
		t.Errorf("the same respondent and roster: flags %v, want [%s]", flags["dup"], dotm.FlagDupRespondent)
	}
	if len(flags[interviews[i].id]) != 0 {
		t.Errorf("the first of the two is flagged %v: only the later one is", flags[interviews[i].id])
	}
}

// TestHaversine checks the distance against R's: Bogotá (4.7110, −74.0721)
// to Medellín (6.2442, −75.5812) on a sphere of radius 6371.0088 km,
// geosphere::distHaversine(c(-74.0721, 4.7110), c(-75.5812, 6.2442),
// r = 6371008.8) = 238673.293153 m.
func TestHaversine(t *testing.T) {
	d := quality.HaversineKm(dotm.Point{Lat: 4.7110, Lon: -74.0721}, dotm.Point{Lat: 6.2442, Lon: -75.5812})
	if math.Abs(d-238.673293153) > 1e-6 {
		t.Errorf("Bogotá–Medellín %.9f km, R says 238.673293153", d)
	}
	if d := quality.HaversineKm(dotm.Point{Lat: 4.7, Lon: -74}, dotm.Point{Lat: 4.7 + 50/111.195, Lon: -74}); d < 49.9 || d > 50.1 {
		t.Errorf("50 km north: %.3f km", d)
	}
}
