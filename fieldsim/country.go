package fieldsim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
)

// Regions of the simulated country, and how urban each is.
var Regions = []struct {
	Name       string
	UrbanShare float64
	Weight     float64 // share of the country's households
	CurMig     float64 // share of households with a member abroad
	RetMig     float64 // share with a return migrant (and none abroad)
	Lat, Lon   float64 // centre, for GPS points
}{
	{"capital", 0.92, 0.30, 0.08, 0.05, 4.71, -74.07},
	{"north", 0.40, 0.20, 0.16, 0.07, 7.10, -73.10},
	{"south", 0.30, 0.18, 0.10, 0.05, 2.40, -76.60},
	{"east", 0.25, 0.12, 0.06, 0.04, 4.10, -71.50},
	{"west", 0.45, 0.20, 0.20, 0.08, 6.25, -75.56},
}

// EA is one enumeration area of the census frame.
type EA struct {
	ID      string
	Stratum string // region-urban or region-rural
	Region  string
	Urban   bool
	Size    int     // households at the last census
	CurMig  float64 // its share of current-migrant households
	RetMig  float64 // its share of return-migrant households
}

// Country is a simulated census frame.
type Country struct {
	EAs []EA
}

// NewCountry makes a frame of about nEA enumeration areas.
func NewCountry(nEA int, seed uint64) *Country {
	rng := rand.New(rand.NewPCG(seed, 0xc0ffee))
	c := &Country{}
	for _, r := range Regions {
		for _, urban := range []bool{true, false} {
			share := r.UrbanShare
			kind := "urban"
			if !urban {
				share, kind = 1-share, "rural"
			}
			n := int(math.Round(float64(nEA) * r.Weight * share))
			if n < 2 {
				n = 2
			}
			for i := 0; i < n; i++ {
				size := int(math.Round(math.Exp(rng.NormFloat64()*0.35 + math.Log(150))))
				if !urban {
					size = int(float64(size) * 0.7)
				}
				size = max(size, 25)
				// Migration clusters: some areas send many more than others.
				spread := math.Exp(rng.NormFloat64() * 0.5)
				cur := math.Min(0.6, r.CurMig*spread*ruralBoost(urban))
				ret := math.Min(0.3, r.RetMig*math.Exp(rng.NormFloat64()*0.4))
				c.EAs = append(c.EAs, EA{
					ID:      fmt.Sprintf("%s-%c-%03d", r.Name, kind[0], i+1),
					Stratum: r.Name + "-" + kind, Region: r.Name, Urban: urban, Size: size, CurMig: cur, RetMig: ret,
				})
			}
		}
	}
	return c
}

func ruralBoost(urban bool) float64 {
	if urban {
		return 0.9
	}
	return 1.25
}

// FrameCSV is the frame as the sampling step reads it: psu_id, stratum,
// size, region, urban.
func (c *Country) FrameCSV() []byte {
	var b strings.Builder
	b.WriteString("psu_id,stratum,size,region,urban\n")
	for _, ea := range c.EAs {
		fmt.Fprintf(&b, "%s,%s,%d,%s,%s\n", ea.ID, ea.Stratum, ea.Size, ea.Region, yesNo(ea.Urban))
	}
	return []byte(b.String())
}

// Margin is a census total of households.
type Margin struct {
	Variable, Category string
	Total              float64
}

// MarginsCSV writes margins as the CSV `dotm weights calibrate --margins`
// reads: variable,category,total.
func MarginsCSV(ms []Margin) []byte {
	var b strings.Builder
	b.WriteString("variable,category,total\n")
	for _, m := range ms {
		fmt.Fprintf(&b, "%s,%s,%s\n", m.Variable, m.Category, strconv.FormatFloat(m.Total, 'g', -1, 64))
	}
	return []byte(b.String())
}

// Margins are the census household totals by region and by urban (1 for
// urban, 0 for rural, as the households table codes it), for calibration.
func (c *Country) Margins() []Margin {
	region := map[string]float64{}
	urban := map[string]float64{}
	for _, ea := range c.EAs {
		region[ea.Region] += float64(ea.Size)
		urban[map[bool]string{true: "1", false: "0"}[ea.Urban]] += float64(ea.Size)
	}
	var out []Margin
	for _, k := range sortedKeys(region) {
		out = append(out, Margin{"region", k, region[k]})
	}
	for _, k := range sortedKeys(urban) {
		out = append(out, Margin{"urban", k, urban[k]})
	}
	return out
}

// Households is the census count of households.
func (c *Country) Households() int {
	n := 0
	for _, ea := range c.EAs {
		n += ea.Size
	}
	return n
}

// EA finds an enumeration area by id.
func (c *Country) EA(id string) (EA, bool) {
	for _, ea := range c.EAs {
		if ea.ID == id {
			return ea, true
		}
	}
	return EA{}, false
}

// Listed is one household found when listing an area, with its screening
// class.
type Listed struct {
	ID    string
	Class string // current_migrant, return_migrant, non_migrant
}

// Screening classes.
const (
	CurrentMigrant = "current_migrant"
	ReturnMigrant  = "return_migrant"
	NonMigrant     = "non_migrant"
)

// List walks an area: the households found now (the census count, grown or
// shrunk a little), each screened.
func List(ea EA, rng *rand.Rand) []Listed {
	n := int(math.Round(float64(ea.Size) * (0.9 + 0.3*rng.Float64())))
	out := make([]Listed, n)
	for i := range out {
		class := NonMigrant
		switch u := rng.Float64(); {
		case u < ea.CurMig:
			class = CurrentMigrant
		case u < ea.CurMig+ea.RetMig:
			class = ReturnMigrant
		}
		out[i] = Listed{ID: ea.ID + "-" + strconv.Itoa(i+1), Class: class}
	}
	return out
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func sortedKeys(m map[string]float64) []string {
	k := make([]string, 0, len(m))
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}
