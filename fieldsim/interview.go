package fieldsim

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"time"
)

// Household is what the enumerator knows before the interview.
type Household struct {
	ID     string
	Region string
	Urban  bool
	Class  string // screening class
	// EA is the household's enumeration area: its GPS point lies within
	// about a kilometre of the EA's centre (EACentre). Empty: anywhere in
	// the region (tens of kilometres around its centre).
	EA string
}

var (
	firstNames = []string{"Ana", "Luis", "María", "José", "Camila", "Mateo", "Lucía", "Andrés", "Sofía", "Jorge", "Valentina", "Diego", "Rosa", "Carlos", "Elena", "Pedro"}
	lastNames  = []string{"Morales", "García", "Rodríguez", "López", "Martínez", "Pérez", "Gómez", "Díaz", "Torres", "Vargas"}
	// Destinations weighted as a Latin American sending country's.
	destinations = []string{"united_states", "united_states", "united_states", "spain", "spain", "venezuela", "ecuador", "italy", "canada", "united_kingdom", "germany", "other"}
	otherDest    = []string{"Chile", "Panamá", "México", "Francia", "Argentina"}
)

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

func bern(rng *rand.Rand, p float64) bool { return rng.Float64() < p }

func yn(b bool) string { return yesNo(b) }

// round2 keeps money to cents, as a tablet would send it.
func round2(x float64) float64 { return math.Round(x*100) / 100 }

// Interview answers the household questionnaire for h, interviewed on day.
// The answers are valid for questionnaire.Household(); their distributions
// depend on the screening class, region and urban/rural.
func Interview(rng *rand.Rand, h Household, day time.Time) map[string]any {
	cur, ret := h.Class == CurrentMigrant, h.Class == ReturnMigrant
	region := regionOf(h.Region)
	a := map[string]any{
		"household_id":    h.ID,
		"interview_date":  day.Format(time.DateOnly),
		"region":          h.Region,
		"urban":           yn(h.Urban),
		"respondent_name": pick(rng, firstNames) + " " + pick(rng, lastNames),
		"phone":           fmt.Sprintf("+57 3%02d %03d %04d", rng.IntN(100), rng.IntN(1000), rng.IntN(10000)),
		"consent":         "yes",
	}
	// Roster: the head first. Women head more migrant households (the
	// husband is abroad).
	size := 1 + poisson(rng, 3.1)
	if size > 12 {
		size = 12
	}
	headFemale := bern(rng, map[bool]float64{true: 0.48, false: 0.27}[cur])
	headAge := 25 + rng.IntN(50)
	members := make([]any, size)
	for i := range members {
		m := map[string]any{}
		var age int
		switch {
		case i == 0:
			m["relationship"], age = "head", headAge
			m["sex"] = map[bool]string{true: "female", false: "male"}[headFemale]
		case i == 1 && bern(rng, 0.6):
			m["relationship"], age = "spouse", max(18, headAge+rng.IntN(9)-4)
			m["sex"] = map[bool]string{true: "male", false: "female"}[headFemale]
		default:
			rel := pick(rng, []string{"child", "child", "child", "grandchild", "parent", "sibling", "other_relative"})
			m["relationship"] = rel
			switch rel {
			case "child":
				age = max(0, headAge-18-rng.IntN(25))
			case "grandchild":
				age = rng.IntN(15)
			case "parent":
				age = min(105, headAge+20+rng.IntN(15))
			default:
				age = rng.IntN(70)
			}
			m["sex"] = pick(rng, []string{"male", "female"})
		}
		m["member_name"] = pick(rng, firstNames)
		m["age"] = int64(age)
		if age >= 5 {
			m["education"] = pick(rng, []string{"none", "primary", "primary", "secondary", "secondary", "tertiary"})
		}
		if age >= 15 {
			m["activity"] = pick(rng, []string{"employed", "self_employed", "self_employed", "unemployed", "student", "homemaker", "retired"})
		}
		if age >= 6 && age <= 17 {
			p := 0.82
			if cur {
				p = 0.90
			}
			if !h.Urban {
				p -= 0.08
			}
			m["enrolled"] = yn(bern(rng, p))
		}
		members[i] = m
	}
	a["n_members"] = int64(size)
	a["members"] = members

	year := day.Year()
	if cur {
		n := 1 + poisson(rng, 0.5)
		migrants := make([]any, n)
		for i := range migrants {
			dest := pick(rng, destinations)
			m := map[string]any{
				"mig_relationship": pick(rng, []string{"child", "child", "spouse", "sibling", "child_in_law", "other_relative"}),
				"mig_sex":          pick(rng, []string{"male", "male", "female"}),
				"mig_age_left":     int64(18 + rng.IntN(25)),
				"mig_year_left":    int64(year - rng.IntN(20)),
				"dest_country":     dest,
				"mig_reason":       pick(rng, []string{"work", "work", "work", "study", "family", "conflict"}),
				"move_type":        pick(rng, []string{"permanent", "temporary", "seasonal", "circular"}),
				"legal_status":     pick(rng, []string{"citizen", "permanent_resident", "work_permit", "work_permit", "undocumented", "dont_know"}),
				"mig_occupation":   pick(rng, []string{"construction", "domestic_work", "services", "services", "agriculture", "professional", "trade"}),
			}
			if dest == "other" {
				m["dest_country_other"] = pick(rng, otherDest)
			}
			remits := bern(rng, 0.75)
			m["mig_remits"] = yn(remits)
			if remits {
				m["mig_remit_amount"] = round2(math.Exp(rng.NormFloat64()*0.6 + math.Log(2_500_000)))
			}
			migrants[i] = m
		}
		a["has_migrants"] = "yes"
		a["n_migrants_reported"] = int64(n)
		a["migrants"] = migrants
	} else {
		a["has_migrants"] = "no"
	}
	if ret {
		n := min(size, 1+poisson(rng, 0.2))
		returnees := make([]any, n)
		for i := range returnees {
			returnees[i] = map[string]any{
				"ret_sex":       pick(rng, []string{"male", "male", "female"}),
				"ret_age":       int64(20 + rng.IntN(45)),
				"ret_year_back": int64(year - rng.IntN(10)),
				"ret_country":   pick(rng, destinations[:len(destinations)-1]),
				"ret_reason":    pick(rng, []string{"contract_ended", "family", "saved_enough", "no_work", "deported", "homesick"}),
			}
		}
		a["has_returnees"] = "yes"
		a["n_returnees"] = int64(n)
		a["returnees"] = returnees
	} else {
		a["has_returnees"] = "no"
	}

	// Remittances received in the last 12 months.
	pRemit := map[string]float64{CurrentMigrant: 0.72, ReturnMigrant: 0.22, NonMigrant: 0.05}[h.Class]
	remit := bern(rng, pRemit)
	a["remit_received"] = yn(remit)
	if remit {
		a["remit_amount"] = round2(math.Exp(rng.NormFloat64()*0.7 + math.Log(3_200_000)))
		a["remit_currency"] = pick(rng, []string{"local", "local", "usd", "eur"})
		a["remit_channel"] = pick(rng, []string{"bank", "mto", "mto", "mobile_money", "informal"})
		a["remit_frequency"] = pick(rng, []string{"monthly", "monthly", "quarterly", "irregular"})
		uses := []any{"food"}
		for _, u := range []string{"education", "health", "housing", "savings", "debt"} {
			if bern(rng, 0.35) {
				uses = append(uses, u)
			}
		}
		a["remit_uses"] = uses
	}

	// Monthly expenditure: urban and migrant households spend more.
	scale := region.costScale
	if h.Urban {
		scale *= 1.35
	}
	if cur {
		scale *= 1.18
	} else if ret {
		scale *= 1.06
	}
	perHead := math.Exp(rng.NormFloat64()*0.35+math.Log(260_000)) * scale
	hh := float64(size)
	food := perHead * hh * 0.45
	a["food_exp"] = round2(food)
	a["educ_exp"] = round2(perHead * hh * (0.06 + 0.04*b2f(cur)) * rng.Float64() * 2)
	a["health_exp"] = round2(perHead * hh * 0.07 * rng.Float64() * 2)
	a["housing_exp"] = round2(perHead * hh * 0.22)
	a["other_exp"] = round2(perHead * hh * 0.15 * rng.Float64() * 2)

	a["dwelling_tenure"] = pick(rng, []string{"owned", "owned", "rented", "free"})
	a["dwelling_rooms"] = int64(1 + rng.IntN(6))
	a["dwelling_walls"] = pick(rng, []string{"brick_concrete", "brick_concrete", "wood", "mud", "metal"})
	a["dwelling_water"] = pick(rng, []string{"piped_dwelling", "piped_yard", "public_tap", "well"})
	a["dwelling_electricity"] = yn(bern(rng, 0.93))
	var assets []any
	for _, s := range []string{"radio", "tv", "fridge", "mobile_phone", "computer", "car", "motorcycle", "bicycle"} {
		if bern(rng, 0.4) {
			assets = append(assets, s)
		}
	}
	if len(assets) == 0 {
		assets = []any{"none"}
	}
	a["assets"] = assets

	pBank := 0.30 + 0.15*b2f(h.Urban) + 0.12*b2f(remit) + 0.05*b2f(ret)
	a["bank_account"] = yn(bern(rng, pBank))
	a["savings"] = yn(bern(rng, 0.25+0.15*b2f(remit)))
	a["credit"] = yn(bern(rng, 0.2))
	a["mobile_money"] = yn(bern(rng, 0.25+0.2*b2f(cur)))

	a["health_status"] = pick(rng, []string{"very_good", "good", "good", "fair", "poor"})
	a["health_access"] = pick(rng, []string{"always", "always", "sometimes", "never", "not_needed"})
	a["health_insurance"] = yn(bern(rng, 0.45+0.1*b2f(h.Urban)+0.08*b2f(remit)))

	kids, enrolled := 0, 0
	for _, m := range members {
		mm := m.(map[string]any)
		if e, ok := mm["enrolled"]; ok {
			kids++
			if e == "yes" {
				enrolled++
			}
		}
	}
	if kids > 0 && enrolled < kids {
		a["not_enrolled_reason"] = pick(rng, []string{"cost", "work", "distance", "not_interested", "migrating"})
	}
	if kids > 0 && remit && enrolled > 0 {
		a["remit_school"] = yn(bern(rng, 0.6))
	}
	a["n_working"] = int64(rng.IntN(min(size, 3) + 1))
	a["main_income"] = pick(rng, []string{"wages", "own_business", "agriculture"})
	if remit && bern(rng, 0.4) {
		a["main_income"] = "remittances"
	}

	// Decisions: "head_male" only for a male head, "head_female" only for a
	// female head; women take part more where the husband is abroad.
	for _, d := range []string{"decision_spending", "decision_education", "decision_health"} {
		var opts []string
		if headFemale {
			opts = []string{"head_female", "head_female", "joint", "other_man"}
		} else {
			opts = []string{"head_male", "head_male", "head_male", "head_male", "head_male", "head_male", "joint", "other_woman"}
			if cur {
				opts = append(opts, "joint", "other_woman")
			}
		}
		a[d] = pick(rng, opts)
	}
	a["women_work_abroad"] = pick(rng, []string{"agree", "neutral", "disagree"})
	lat, lon, spread := region.lat, region.lon, 0.3
	if h.EA != "" {
		lat, lon = EACentre(h.Region, h.EA)
		spread = 0.008 // about 0.9 km
	}
	a["gps"] = map[string]any{
		"lat": lat + rng.NormFloat64()*spread, "lon": lon + rng.NormFloat64()*spread,
		"alt": round2(200 + rng.Float64()*2400), "accuracy": round2(3 + rng.Float64()*25),
	}
	return a
}

// Refusal is the answers of a household that refused the interview.
func Refusal(rng *rand.Rand, h Household, day time.Time) map[string]any {
	return map[string]any{
		"household_id":    h.ID,
		"interview_date":  day.Format(time.DateOnly),
		"region":          h.Region,
		"urban":           yn(h.Urban),
		"respondent_name": pick(rng, firstNames) + " " + pick(rng, lastNames),
		"consent":         "no",
	}
}

// Mistake makes one typing mistake that the form's rules catch, returning
// the changed answers and the path the server will complain about; the
// original answers are not modified.
func Mistake(rng *rand.Rand, a map[string]any) (map[string]any, string) {
	b := copyAnswers(a)
	members := b["members"].([]any)
	switch rng.IntN(3) {
	case 0:
		i := rng.IntN(len(members))
		members[i].(map[string]any)["age"] = int64(150 + rng.IntN(800)) // a slipped digit
		return b, fmt.Sprintf("members[%d].age", i)
	case 1:
		b["food_exp"] = -b["food_exp"].(float64) - 1
		return b, "food_exp"
	default:
		b["n_working"] = int64(len(members) + 1 + rng.IntN(3))
		return b, "n_working"
	}
}

func copyAnswers(a map[string]any) map[string]any {
	out := make(map[string]any, len(a))
	for k, v := range a {
		switch x := v.(type) {
		case []any:
			c := make([]any, len(x))
			for i, e := range x {
				if m, ok := e.(map[string]any); ok {
					c[i] = copyAnswers(m)
				} else {
					c[i] = e
				}
			}
			out[k] = c
		case map[string]any:
			out[k] = copyAnswers(x)
		default:
			out[k] = v
		}
	}
	return out
}

// EACentre is the centre of enumeration area ea of region: a point within
// about 50 km of the region's centre, fixed by the EA's id (FNV-1a), so
// that every run places an EA at the same spot without drawing from the
// interview's random stream.
func EACentre(region, ea string) (lat, lon float64) {
	r := regionOf(region)
	h := fnv.New64a()
	h.Write([]byte(ea))
	v := h.Sum64()
	u1 := float64(v&0xffffffff) / (1 << 32)
	u2 := float64(v>>32) / (1 << 32)
	return r.lat + (u1-0.5)*0.9, r.lon + (u2-0.5)*0.9
}

type regionInfo struct {
	costScale, lat, lon float64
}

func regionOf(name string) regionInfo {
	for _, r := range Regions {
		if r.Name == name {
			scale := 1.0
			if name == "capital" {
				scale = 1.3
			}
			return regionInfo{scale, r.Lat, r.Lon}
		}
	}
	return regionInfo{1, 4.7, -74}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// poisson draws from a Poisson distribution with mean lambda (Knuth).
func poisson(rng *rand.Rand, lambda float64) int {
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}
