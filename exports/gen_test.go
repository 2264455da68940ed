package exports

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// Markers planted in the direct identifiers of generated data; no release
// file may contain them.
const (
	markerName  = "ZQXNAMEMARKER"
	markerPhone = "ZQXPHONEMARKER"
)

var (
	genRegions   = []string{"north", "south", "east", "west", "central", "coast", "highlands", "delta"}
	genCountries = []string{"united_states", "spain", "united_kingdom", "canada", "italy", "germany", "france",
		"australia", "new_zealand", "japan", "argentina", "chile", "brazil", "netherlands", "portugal",
		"ireland", "sweden", "norway", "iceland", "malta"}
)

// householdTable makes a deterministic, realistic household table with the
// canonical variable names, direct identifiers carrying markers, and
// household GPS coordinates.
func householdTable(n int, seed uint64) *Table {
	rng := rand.New(rand.NewPCG(seed, 42))
	cols := map[string]*Column{}
	order := []string{"household_id", "stratum", "psu", "weight", "fpc", "region", "urban", "migrant", "hh_size",
		"head_sex", "head_female", "head_age", "n_migrants", "dest_country", "remit_received", "remit_amount", "cons_pc",
		"food_exp", "educ_exp", "health_exp", "housing_exp", "bank_account", "savings", "mobile_money", "health_insurance",
		"children_6_17", "children_enrolled", "women_decide", "interview_date", "respondent_name", "phone", "gps_lat", "gps_lon"}
	types := map[string]Type{"household_id": String, "stratum": String, "psu": String, "weight": Float, "fpc": Float,
		"region": String, "migrant": String, "head_sex": String, "dest_country": String, "remit_amount": Float, "cons_pc": Float,
		"food_exp": Float, "educ_exp": Float, "health_exp": Float, "housing_exp": Float, "interview_date": Date,
		"respondent_name": String, "phone": String, "gps_lat": Float, "gps_lon": Float}
	t := &Table{Name: "households"}
	for _, name := range order {
		typ, ok := types[name]
		if !ok {
			typ = Int
		}
		c := &Column{Name: name, Type: typ}
		cols[name] = c
		t.Columns = append(t.Columns, c)
	}
	cols["dest_country"].Valid = make([]bool, 0, n)
	cols["dest_country"].Nullable = true
	add := func(name string, v any) {
		c := cols[name]
		switch x := v.(type) {
		case string:
			c.Strings = append(c.Strings, x)
		case int:
			c.Ints = append(c.Ints, int64(x))
		case int64:
			c.Ints = append(c.Ints, x)
		case float64:
			c.Floats = append(c.Floats, x)
		}
	}
	psusPerStratum := 1 + n/(2*len(genRegions)*12)
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Unix() / 86400
	for i := 0; i < n; i++ {
		region := rng.IntN(len(genRegions))
		urban := 0
		if rng.Float64() < 0.45 {
			urban = 1
		}
		stratum := fmt.Sprintf("%s-%d", genRegions[region], urban)
		psu := rng.IntN(psusPerStratum)
		add("household_id", fmt.Sprintf("HH-%07d", i+1))
		add("stratum", stratum)
		add("psu", fmt.Sprintf("%s-EA%03d", stratum, psu))
		w := 150 + 50*float64(region) + rng.Float64()*100
		add("weight", w)
		add("fpc", float64(20*psusPerStratum))
		add("region", genRegions[region])
		add("urban", urban)
		u := rng.Float64()
		migrant := "non_migrant"
		nmig := 0
		switch {
		case u < 0.35:
			migrant, nmig = "current_migrant", 1+rng.IntN(3)
		case u < 0.5:
			migrant = "return_migrant"
		}
		add("migrant", migrant)
		size := 1 + int(math.Min(15, rng.ExpFloat64()*3.5))
		add("hh_size", size)
		female := 0
		sex := "male"
		if rng.Float64() < 0.3 {
			female, sex = 1, "female"
		}
		add("head_sex", sex)
		add("head_female", female)
		add("head_age", 18+rng.IntN(73))
		add("n_migrants", nmig)
		dc := cols["dest_country"]
		if nmig > 0 {
			// Skewed: a few common destinations, a long tail.
			j := int(math.Min(float64(len(genCountries)-1), rng.ExpFloat64()*3))
			add("dest_country", genCountries[j])
			dc.Valid = append(dc.Valid, true)
		} else {
			add("dest_country", "")
			dc.Valid = append(dc.Valid, false)
		}
		recv := 0
		amount := 0.0
		if nmig > 0 && rng.Float64() < 0.7 {
			recv = 1
			amount = math.Round(math.Exp(7+rng.NormFloat64()) * 100 / 100)
		}
		add("remit_received", recv)
		add("remit_amount", amount)
		cons := math.Exp(5 + 0.6*rng.NormFloat64())
		add("cons_pc", cons)
		add("food_exp", cons*float64(size)*0.5)
		add("educ_exp", cons*float64(size)*0.1)
		add("health_exp", cons*float64(size)*0.05)
		add("housing_exp", cons*float64(size)*0.2)
		for _, v := range []string{"bank_account", "savings", "mobile_money", "health_insurance", "women_decide"} {
			add(v, rng.IntN(2))
		}
		kids := rng.IntN(min(size, 4) + 1)
		add("children_6_17", kids)
		add("children_enrolled", rng.IntN(kids+1))
		add("interview_date", start+int64(rng.IntN(90)))
		add("respondent_name", fmt.Sprintf("%s %d", markerName, i))
		add("phone", fmt.Sprintf("+99-%s-%06d", markerPhone, i))
		add("gps_lat", 5+float64(region)+rng.Float64()*0.1)
		add("gps_lon", -1+rng.Float64()*0.1)
	}
	return t
}

// tableCSV writes t as CSV (nulls as empty cells).
func tableCSV(t *Table) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	head := make([]string, len(t.Columns))
	for j, c := range t.Columns {
		head[j] = c.Name
	}
	w.Write(head)
	rec := make([]string, len(t.Columns))
	for i := 0; i < t.Rows(); i++ {
		for j, c := range t.Columns {
			if c.Type == Float && !c.IsNull(i) {
				rec[j] = strconv.FormatFloat(c.Floats[i], 'g', -1, 64)
			} else {
				rec[j] = c.Format(i)
			}
		}
		w.Write(rec)
	}
	w.Flush()
	return b.Bytes()
}

const testProfile = `
k: 3
quasi_identifiers: [region, urban, hh_size, head_sex, head_age, dest_country]
recode: {head_age: [0, 25, 35, 45, 55, 65, 120], hh_size: {top: 10}}
top_code: {remit_amount: 0.99, cons_pc: 0.995}
group_rare: {dest_country: 10}
geo: drop
max_risk: 0.05
direct: [respondent_name, phone]
sensitive: [remit_amount]
`
