package loadtest

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/dotm-survey/dotm"
)

// householdJSON is a copy of questionnaire/testdata/household_valid.json, a
// complete valid interview with the built-in household form; a test keeps
// the two identical.
//
//go:embed household.json
var householdJSON []byte

// Envelope is one submission as a tablet posts it: the API's own
// envelope type.
type Envelope = dotm.Envelope

// Generator makes valid household submissions that differ in instance id
// and in their answers. It is not safe for concurrent use: give each
// simulated enumerator its own.
type Generator struct {
	rng        *rand.Rand
	enumerator int
	n          int
}

// NewGenerator returns the generator of enumerator number enumerator, whose
// sequence of submissions is fixed by seed.
func NewGenerator(seed uint64, enumerator int) *Generator {
	return &Generator{rng: rand.New(rand.NewPCG(seed, uint64(enumerator)+1)), enumerator: enumerator}
}

// FormID and FormVersion name the form the generated submissions answer
// (the built-in household questionnaire).
func FormID() string      { return template().FormID }
func FormVersion() string { return template().FormVersion }

func template() Envelope {
	var env Envelope
	if err := json.Unmarshal(householdJSON, &env); err != nil {
		panic(fmt.Sprintf("loadtest: embedded household.json: %v", err))
	}
	return env
}

var (
	givenNames = []string{"Ana", "Luis", "Kofi", "Ama", "Nguyen", "Lan", "Tevita", "Mele", "Giorgi", "Nino", "Marlon", "Keisha", "Elena", "Petar"}
	familyName = []string{"Morales", "Mensah", "Tran", "Fifita", "Beridze", "Campbell", "Petrovski", "Osei", "Pham", "Rojas"}
)

// Next returns the next submission: a fresh random (version 4) instance id,
// a household id unique to this enumerator and count, and varied names,
// phone numbers and amounts, all within the form's constraints.
func (g *Generator) Next() Envelope {
	env := template()
	g.n++
	env.InstanceID = g.uuid()
	a := env.Answers
	a["household_id"] = fmt.Sprintf("LT%03d-%06d", g.enumerator%1000, g.n)
	a["deviceid"] = fmt.Sprintf("tablet-%03d", g.enumerator%1000)
	a["respondent_name"] = givenNames[g.rng.IntN(len(givenNames))] + " " + familyName[g.rng.IntN(len(familyName))]
	a["phone"] = fmt.Sprintf("+57 3%02d %03d %04d", g.rng.IntN(100), g.rng.IntN(1000), g.rng.IntN(10000))
	for _, k := range []string{"food_exp", "educ_exp", "health_exp", "housing_exp", "other_exp"} {
		a[k] = float64(g.rng.IntN(2_000_000))
	}
	amount := float64(100 + g.rng.IntN(50_000))
	a["remit_amount"] = amount
	if ms, ok := a["migrants"].([]any); ok && len(ms) > 0 {
		if m, ok := ms[0].(map[string]any); ok {
			if _, ok := m["mig_remit_amount"]; ok {
				m["mig_remit_amount"] = amount
			}
		}
	}
	return env
}

// uuid returns a random version 4 UUID from the generator's source.
func (g *Generator) uuid() string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := g.rng.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
