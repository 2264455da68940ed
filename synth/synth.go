package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// Households holds one synthetic sample, one slice per canonical variable.
type Households struct {
	HouseholdID     []string
	Stratum         []string
	PSU             []string
	Weight          []float64
	FPC             []float64
	Region          []string
	Urban           []int
	Migrant         []string
	HHSize          []int
	HeadSex         []string
	HeadFemale      []int
	HeadAge         []int
	NMigrants       []int
	DestCountry     []string
	RemitReceived   []int
	RemitAmount     []float64
	ConsPC          []float64 // NaN: refused
	FoodExp         []float64
	EducExp         []float64
	HealthExp       []float64
	HousingExp      []float64
	BankAccount     []int
	Savings         []int
	MobileMoney     []int
	HealthInsurance []int
	Children6to17   []int
	ChildrenEnroll  []int
	WomenDecide     []int
	InterviewDate   []string // YYYY-MM-DD
}

// Len is the number of households.
func (h *Households) Len() int { return len(h.HouseholdID) }

// Migration classes.
const (
	CurrentMigrant = "current_migrant"
	ReturnMigrant  = "return_migrant"
	NonMigrant     = "non_migrant"
)

var (
	regions      = []string{"capital", "north", "south", "east", "west"}
	regionIncome = []float64{1.35, 0.85, 0.95, 0.8, 1.0}
	regionMig    = []float64{0.10, 0.22, 0.15, 0.25, 0.18} // share of current-migrant households
	destinations = []string{"USA", "Spain", "Italy", "UK", "Russia", "UAE", "Germany", "Canada"}
	destWeights  = []float64{0.25, 0.15, 0.12, 0.1, 0.12, 0.1, 0.08, 0.08}
)

// quota per PSU by class: current, return, non-migrant (migrants oversampled).
var quota = [3]int{7, 5, 8}

// Generate draws about n households (exactly n) with the given seed.
func Generate(n int, seed uint64) (*Households, error) {
	if n < 20 {
		return nil, fmt.Errorf("synth: n = %d; at least 20 households are needed (one PSU)", n)
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed_d07a))
	perPSU := quota[0] + quota[1] + quota[2]
	nPSU := (n + perPSU - 1) / perPSU
	if nPSU < 20 {
		nPSU = 20
	}
	h := &Households{}
	grow(h, n)
	// Allocate PSUs to strata in proportion to stratum sizes (urban 40%).
	type stratum struct {
		region, urban int
		share         float64
	}
	var strata []stratum
	for r := range regions {
		for u := 0; u < 2; u++ {
			share := 0.2 * (0.6 - 0.2*float64(u))
			if r == 0 { // the capital is mostly urban
				share = 0.2 * (0.2 + 0.6*float64(u))
			}
			strata = append(strata, stratum{r, u, share})
		}
	}
	var tot float64
	for _, s := range strata {
		tot += s.share
	}
	alloc := make([]int, len(strata))
	left := nPSU
	for i, s := range strata {
		alloc[i] = max(2, int(math.Round(float64(nPSU)*s.share/tot)))
		left -= alloc[i]
	}
	alloc[len(alloc)-1] = max(2, alloc[len(alloc)-1]+left)
	A := 0
	for _, a := range alloc {
		A += a
	}
	// Households per PSU: n spread evenly over the A selected PSUs.
	q, extra := n/A, n%A
	psuSerial := 0
	row := 0
	start := 0 // day offset for interview dates
	for si, s := range strata {
		nh := alloc[si]
		// Frame: 4–6 times more EAs than selected, sizes 60–400 households.
		Nh := nh * (4 + rng.IntN(3))
		sizes := make([]float64, Nh)
		var sum float64
		for i := range sizes {
			sizes[i] = float64(60 + rng.IntN(341))
			sum += sizes[i]
		}
		sel := systematicPPS(rng, sizes, sum, nh)
		name := regions[s.region] + "_" + [2]string{"rural", "urban"}[s.urban]
		for _, i := range sel {
			take := q
			if psuSerial < extra {
				take++
			}
			want := [3]int{int(math.Round(float64(take) * float64(quota[0]) / float64(perPSU))), int(math.Round(float64(take) * float64(quota[1]) / float64(perPSU))), 0}
			want[2] = take - want[0] - want[1]
			psuSerial++
			psu := fmt.Sprintf("P%06d", psuSerial)
			Mi := sizes[i]
			pi1 := math.Min(1, float64(nh)*Mi/sum)
			// Listing: households by class in this EA.
			mig := regionMig[s.region] * (0.6 + 0.8*rng.Float64()) * (1.1 - 0.2*float64(s.urban))
			ret := 0.08 * (0.5 + rng.Float64())
			Mc := [3]int{max(want[0], int(math.Round(Mi*mig))), max(want[1], int(math.Round(Mi*ret))), 0}
			Mc[2] = int(Mi) - Mc[0] - Mc[1]
			psuEffect := rng.NormFloat64() * 0.25
			bankEffect := rng.NormFloat64() * 0.6
			for c := 0; c < 3; c++ {
				m := want[c]
				for k := 0; k < m; k++ {
					pi2 := float64(m) / float64(Mc[c])
					household(h, rng, row, s.region, s.urban, c, psuEffect, bankEffect)
					h.HouseholdID[row] = fmt.Sprintf("H%08d", row+1)
					h.Stratum[row] = name
					h.PSU[row] = psu
					h.Weight[row] = 1 / (pi1 * pi2)
					h.FPC[row] = float64(Nh)
					h.InterviewDate[row] = date(start + rng.IntN(120))
					row++
				}
			}
		}
	}
	if row != n {
		return nil, fmt.Errorf("synth: internal: placed %d of %d households", row, n)
	}
	return h, nil
}

// systematicPPS selects n units with probability proportional to size.
func systematicPPS(rng *rand.Rand, sizes []float64, total float64, n int) []int {
	step := total / float64(n)
	u := rng.Float64() * step
	var out []int
	var cum float64
	for i, s := range sizes {
		cum += s
		for u < cum && len(out) < n {
			out = append(out, i)
			u += step
		}
	}
	sort.Ints(out)
	return out
}

func grow(h *Households, n int) {
	h.HouseholdID = make([]string, n)
	h.Stratum = make([]string, n)
	h.PSU = make([]string, n)
	h.Weight = make([]float64, n)
	h.FPC = make([]float64, n)
	h.Region = make([]string, n)
	h.Urban = make([]int, n)
	h.Migrant = make([]string, n)
	h.HHSize = make([]int, n)
	h.HeadSex = make([]string, n)
	h.HeadFemale = make([]int, n)
	h.HeadAge = make([]int, n)
	h.NMigrants = make([]int, n)
	h.DestCountry = make([]string, n)
	h.RemitReceived = make([]int, n)
	h.RemitAmount = make([]float64, n)
	h.ConsPC = make([]float64, n)
	h.FoodExp = make([]float64, n)
	h.EducExp = make([]float64, n)
	h.HealthExp = make([]float64, n)
	h.HousingExp = make([]float64, n)
	h.BankAccount = make([]int, n)
	h.Savings = make([]int, n)
	h.MobileMoney = make([]int, n)
	h.HealthInsurance = make([]int, n)
	h.Children6to17 = make([]int, n)
	h.ChildrenEnroll = make([]int, n)
	h.WomenDecide = make([]int, n)
	h.InterviewDate = make([]string, n)
}

func bern(rng *rand.Rand, p float64) int {
	if rng.Float64() < p {
		return 1
	}
	return 0
}

func logistic(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

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

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// household fills row i for migration class c (0 current, 1 return, 2 non).
func household(h *Households, rng *rand.Rand, i, region, urban, c int, psuEffect, bankEffect float64) {
	h.Region[i] = regions[region]
	h.Urban[i] = urban
	h.Migrant[i] = [3]string{CurrentMigrant, ReturnMigrant, NonMigrant}[c]
	size := 1 + poisson(rng, []float64{3.4, 3.0, 2.8}[c])
	h.HHSize[i] = size
	female := bern(rng, []float64{0.45, 0.18, 0.22}[c])
	h.HeadFemale[i] = female
	h.HeadSex[i] = [2]string{"male", "female"}[female]
	h.HeadAge[i] = 22 + rng.IntN(60)
	if c == 0 {
		h.NMigrants[i] = 1 + poisson(rng, 0.4)
		u, acc := rng.Float64(), 0.0
		for k, w := range destWeights {
			acc += w
			if u < acc || k == len(destWeights)-1 {
				h.DestCountry[i] = destinations[k]
				break
			}
		}
	}
	recv := bern(rng, []float64{0.72, 0.18, 0.05}[c])
	h.RemitReceived[i] = recv
	if recv == 1 {
		mean := []float64{2400, 900, 500}[c] * regionIncome[region]
		h.RemitAmount[i] = round2(mean * math.Exp(rng.NormFloat64()*0.7-0.245))
	}
	base := 180 * regionIncome[region] * (1 + 0.35*float64(urban))
	prem := []float64{0.16, 0.08, 0}[c]
	cons := base * math.Exp(prem+psuEffect+rng.NormFloat64()*0.45-0.1) * (1 + h.RemitAmount[i]/12/(base*float64(size))*0.3)
	total := cons * float64(size)
	h.ConsPC[i] = round2(cons)
	if rng.Float64() < 0.005 {
		h.ConsPC[i] = math.NaN()
	}
	h.FoodExp[i] = round2(total * (0.48 - 0.08*float64(urban) + rng.NormFloat64()*0.05))
	kids := min(size-1, poisson(rng, 0.35*float64(size)))
	h.Children6to17[i] = kids
	enrolP := logistic(1.6 + []float64{0.6, 0.3, 0}[c] + 0.5*float64(urban) + 0.3*float64(recv))
	enrolled := 0
	for k := 0; k < kids; k++ {
		enrolled += bern(rng, enrolP)
	}
	h.ChildrenEnroll[i] = enrolled
	h.EducExp[i] = round2(float64(enrolled) * (8 + 6*float64(urban)) * (1 + prem) * math.Exp(rng.NormFloat64()*0.3))
	h.HealthExp[i] = round2(total * 0.05 * math.Exp(rng.NormFloat64()*0.6+[]float64{0.15, 0.1, 0}[c]))
	h.HousingExp[i] = round2(total * (0.12 + 0.08*float64(urban)) * math.Exp(rng.NormFloat64()*0.2))
	h.BankAccount[i] = bern(rng, logistic(-0.9+[]float64{0.9, 0.5, 0}[c]+0.8*float64(urban)+bankEffect))
	h.Savings[i] = bern(rng, logistic(-1.2+[]float64{0.7, 0.6, 0}[c]+0.4*float64(urban)))
	h.MobileMoney[i] = bern(rng, logistic(-0.6+[]float64{1.0, 0.3, 0}[c]+0.3*float64(urban)))
	h.HealthInsurance[i] = bern(rng, logistic(-1.0+[]float64{0.4, 0.3, 0}[c]+0.6*float64(urban)))
	h.WomenDecide[i] = bern(rng, logistic(0.1+1.2*float64(female)+[]float64{0.6, 0.1, 0}[c]+0.2*float64(urban)))
}

// date returns 2026-03-01 plus d days as YYYY-MM-DD.
func date(d int) string {
	days := []int{31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
	m, day := 3, 1+d
	for k := 0; day > days[k]; k++ {
		day -= days[k]
		m++
	}
	return fmt.Sprintf("2026-%02d-%02d", m, day)
}
