package quality

import (
	"encoding/json"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/questionnaire"
)

// The thresholds of the submission-level checks.
const (
	// SecondsPerAnswer is the fastest pace believed: an interview that took
	// less than this per answered question is flagged short. A household
	// interview runs at 10–20 s per answer; 4 s leaves no time to read the
	// question aloud.
	SecondsPerAnswer = 4
	// MaxEAKm is how far (km) a point may lie from the median point of the
	// other interviews of its EA; an EA is a few km across, even in rural
	// areas. MinEAPoints is how many other located interviews the EA needs
	// before its median point is trusted.
	MaxEAKm     = 10.0
	MinEAPoints = 3
	// MinBattery is the fewest select-one questions on one choice list (of
	// at least 3 choices) that make a battery for the straight-lining check.
	MinBattery = 4
	// MinAnswersForCopy is the fewest answered questions (identifiers and
	// cover excluded) an interview needs before its answers are
	// fingerprinted: short interviews (refusals) look alike by nature.
	MinAnswersForCopy = 20
)

// Result is what the checks found in one submission.
type Result struct {
	Flags    []string // dotm.Flag* constants, sorted
	Seconds  int      // ended − started
	Answered int      // leaves with an answer
	Refused  bool     // a consent question answered no
	GPS      *dotm.Point
	Ages     []int
	Amounts  int // decimal answers above zero
	Round    int // of which with one significant digit
	// Fingerprints are the canonical bytes of what identifies the household,
	// by kind (answers, respondent, phone); the caller hashes them with a
	// key (dotm.Keyring.Fingerprint) and never stores them.
	Fingerprints map[string][]byte
}

// Check runs the checks of one submission: form f, answers as the
// validator normalized them (direct answers included, before sealing),
// interview times, and the located interviews of the same EA received
// before it (for the distance check).
func Check(f *questionnaire.Form, answers map[string]any, started, ended time.Time, eaPoints []dotm.Point) Result {
	fields := map[string]questionnaire.Field{}
	lists := map[string]int{}
	for _, fd := range f.Fields() {
		fields[fd.Name] = fd
		if fd.Type == "select_one" {
			lists[fd.ListName] = len(fd.Choices)
		}
	}
	var r Result
	r.Seconds = int(ended.Sub(started) / time.Second)
	if v, ok := answers["consent"].(string); ok && v == "no" {
		r.Refused = true
	}
	flags := map[string]bool{}
	var walk func(m map[string]any)
	walk = func(m map[string]any) {
		battery := map[string][]string{} // choice list → answers in this instance
		for k, v := range m {
			fd, known := fields[k]
			switch x := v.(type) {
			case nil:
				continue
			case []any:
				if known && fd.Type == "select_multiple" {
					r.Answered++
					continue
				}
				for _, e := range x {
					if sub, ok := e.(map[string]any); ok {
						walk(sub)
					} else {
						r.Answered++
					}
				}
				continue
			case []string:
				r.Answered++
				continue
			case string:
				if x == "" {
					continue
				}
			}
			if !known {
				r.Answered++
				continue
			}
			switch fd.Type {
			case "calculate", "start", "end", "today", "deviceid", "audit":
				continue
			case "geopoint":
				if g, ok := v.(map[string]any); ok && r.GPS == nil {
					lat, ok1 := num(g["lat"])
					lon, ok2 := num(g["lon"])
					if ok1 && ok2 {
						r.GPS = &dotm.Point{Lat: lat, Lon: lon}
					}
				}
			case "integer":
				if fd.Name == "age" || strings.HasSuffix(fd.Name, "_age") {
					if a, ok := num(v); ok {
						r.Ages = append(r.Ages, int(a))
					}
				}
			case "decimal":
				if a, ok := num(v); ok && a > 0 {
					r.Amounts++
					if OneSignificantDigit(a) {
						r.Round++
					}
				}
			case "select_one":
				if s, ok := v.(string); ok && lists[fd.ListName] >= 3 {
					battery[fd.ListName] = append(battery[fd.ListName], s)
				}
			}
			r.Answered++
		}
		for _, answers := range battery {
			if len(answers) >= MinBattery && allSame(answers) {
				flags[dotm.FlagStraightLine] = true
			}
		}
	}
	walk(answers)
	if r.Seconds < SecondsPerAnswer*r.Answered {
		flags[dotm.FlagShort] = true
	}
	if r.GPS != nil && len(eaPoints) >= MinEAPoints {
		if _, far := FarFromEA(*r.GPS, eaPoints); far {
			flags[dotm.FlagGPSFar] = true
		}
	}
	r.Fingerprints = fingerprints(fields, answers, r.Refused)
	for k := range flags {
		r.Flags = append(r.Flags, k)
	}
	sort.Strings(r.Flags)
	return r
}

func allSame(xs []string) bool {
	for _, x := range xs[1:] {
		if x != xs[0] {
			return false
		}
	}
	return true
}

func num(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case int32:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// OneSignificantDigit reports whether x > 0 is a round amount: one
// significant digit (500, 2000, 30000), what a respondent who guesses says.
func OneSignificantDigit(x float64) bool {
	if x <= 0 || x != math.Trunc(x) {
		return false
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	return math.Mod(x, p) == 0 && x >= 10
}

// HaversineKm is the great-circle distance between two points on a sphere
// of the Earth's mean radius (6371.0088 km).
func HaversineKm(a, b dotm.Point) float64 {
	const r = 6371.0088
	rad := math.Pi / 180
	dlat := (b.Lat - a.Lat) * rad
	dlon := (b.Lon - a.Lon) * rad
	h := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(h)))
}

// Centroid is the coordinate-wise median of points: one far point does not
// move it.
func Centroid(points []dotm.Point) dotm.Point {
	lat := make([]float64, len(points))
	lon := make([]float64, len(points))
	for i, p := range points {
		lat[i], lon[i] = p.Lat, p.Lon
	}
	return dotm.Point{Lat: dotm.Median(lat), Lon: dotm.Median(lon)}
}

// FarFromEA is the distance of p from the centroid of its EA's other
// points and whether it is over MaxEAKm.
func FarFromEA(p dotm.Point, others []dotm.Point) (km float64, far bool) {
	km = HaversineKm(p, Centroid(others))
	return km, km > MaxEAKm
}

// The kinds of fingerprint.
const (
	PrintAnswers    = "answers"
	PrintRespondent = "respondent"
	PrintPhone      = "phone"
)

// fingerprints are the canonical bytes of a household's answers (without
// identifiers, cover, location and metadata), of its respondent with the
// roster's names and ages, and of its phone number's digits.
func fingerprints(fields map[string]questionnaire.Field, answers map[string]any, refused bool) map[string][]byte {
	out := map[string][]byte{}
	// Answers: everything but direct and cover questions.
	skip := func(fd questionnaire.Field, name string) bool {
		switch name {
		case "household_id", "interview_date", "region", "urban", "consent":
			return true
		}
		switch fd.Type {
		case "geopoint", "calculate", "start", "end", "today", "deviceid", "audit":
			return true
		}
		return fd.Sensitivity == "direct"
	}
	var strip func(m map[string]any) (map[string]any, int)
	strip = func(m map[string]any) (map[string]any, int) {
		c, n := map[string]any{}, 0
		for k, v := range m {
			if skip(fields[k], k) {
				continue
			}
			if xs, ok := v.([]any); ok {
				var list []any
				for _, e := range xs {
					if sub, ok := e.(map[string]any); ok {
						s, k := strip(sub)
						list = append(list, s)
						n += k
					} else {
						list = append(list, e)
					}
				}
				c[k] = list
				continue
			}
			c[k] = v
			n++
		}
		return c, n
	}
	if plain, n := strip(answers); !refused && n >= MinAnswersForCopy {
		if b, err := json.Marshal(plain); err == nil {
			out[PrintAnswers] = b
		}
	}
	// Respondent: the direct names at the top, with the roster's names and
	// ages, sorted.
	var names, roster []string
	for k, v := range answers {
		fd := fields[k]
		switch x := v.(type) {
		case string:
			if fd.Sensitivity == "direct" && fd.Type == "text" && strings.Contains(k, "name") && x != "" {
				names = append(names, k+"="+normalize(x))
			}
			if fd.Sensitivity == "direct" && fd.Type == "text" && (strings.Contains(k, "phone") || strings.Contains(k, "tel")) {
				if d := digits(x); len(d) >= 6 {
					out[PrintPhone] = []byte(d)
				}
			}
		case []any:
			for _, e := range x {
				m, ok := e.(map[string]any)
				if !ok {
					continue
				}
				var entry []string
				for mk, mv := range m {
					mf := fields[mk]
					if s, ok := mv.(string); ok && mf.Sensitivity == "direct" && mf.Type == "text" && strings.Contains(mk, "name") {
						entry = append(entry, normalize(s))
					}
					if mk == "age" {
						if a, ok := num(mv); ok {
							entry = append(entry, "age "+itoa(int(a)))
						}
					}
				}
				if len(entry) > 0 {
					sort.Strings(entry)
					roster = append(roster, k+":"+strings.Join(entry, ","))
				}
			}
		}
	}
	if len(names) > 0 && len(roster) > 0 {
		sort.Strings(names)
		sort.Strings(roster)
		out[PrintRespondent] = []byte(strings.Join(names, ";") + "|" + strings.Join(roster, ";"))
	}
	return out
}

func normalize(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
