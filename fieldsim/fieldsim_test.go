package fieldsim

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/dotm-survey/dotm/questionnaire"
)

// TestInterviewsAreValid: every simulated interview passes the household
// form's own rules, for every class, region and urban/rural; refusals too;
// and every Mistake is caught at the path it names.
func TestInterviewsAreValid(t *testing.T) {
	form := questionnaire.Household()
	rng := rand.New(rand.NewPCG(1, 2))
	day := time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC)
	opts := questionnaire.ValidateOptions{Now: day.Add(12 * time.Hour)}
	n := 0
	for _, r := range Regions {
		for _, urban := range []bool{true, false} {
			for _, class := range []string{CurrentMigrant, ReturnMigrant, NonMigrant} {
				for i := 0; i < 15; i++ {
					h := Household{ID: "h-" + r.Name, Region: r.Name, Urban: urban, Class: class}
					a := Interview(rng, h, day)
					norm, problems := form.Validate(a, opts)
					if len(problems) > 0 {
						t.Fatalf("%s %v %s: %+v", r.Name, urban, class, problems)
					}
					if got := norm["migrant"]; class != ReturnMigrant && got != class {
						t.Fatalf("class %s interviewed as %v", class, got)
					}
					bad, path := Mistake(rng, a)
					_, problems = form.Validate(bad, opts)
					found := false
					for _, p := range problems {
						if p.Path == path && p.Code == questionnaire.CodeConstraint {
							found = true
						}
					}
					if !found {
						t.Fatalf("mistake at %s not caught: %+v", path, problems)
					}
					if _, problems := form.Validate(a, opts); len(problems) > 0 {
						t.Fatalf("Mistake changed the original answers: %+v", problems)
					}
					n++
				}
			}
		}
		if _, problems := form.Validate(Refusal(rng, Household{ID: "r1", Region: r.Name}, day), opts); len(problems) > 0 {
			t.Fatalf("refusal: %+v", problems)
		}
	}
	t.Logf("%d interviews valid", n)
}

func TestCountryFrame(t *testing.T) {
	c := NewCountry(600, 7)
	if n := len(c.EAs); n < 570 || n > 630 {
		t.Fatalf("%d EAs, want about 600", n)
	}
	strata := map[string]int{}
	for _, ea := range c.EAs {
		strata[ea.Stratum]++
		if ea.Size <= 0 || ea.CurMig < 0 || ea.CurMig+ea.RetMig >= 1 {
			t.Fatalf("bad EA %+v", ea)
		}
	}
	if len(strata) != 10 {
		t.Fatalf("%d strata, want 10: %v", len(strata), strata)
	}
	total := 0.0
	for _, m := range c.Margins() {
		if m.Variable == "region" {
			total += m.Total
		}
	}
	if int(total) != c.Households() {
		t.Fatalf("region margins sum to %v, census has %d", total, c.Households())
	}
	lines := strings.Count(string(c.FrameCSV()), "\n")
	if lines != len(c.EAs)+1 {
		t.Fatalf("frame CSV has %d lines", lines)
	}
	// Deterministic.
	if d := NewCountry(600, 7); d.EAs[17] != c.EAs[17] {
		t.Fatal("same seed, different country")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	l := List(c.EAs[0], rng)
	if len(l) == 0 {
		t.Fatal("empty listing")
	}
}
