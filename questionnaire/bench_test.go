package questionnaire

import (
	"fmt"
	"sync"
	"testing"
)

func BenchmarkValidateHousehold(b *testing.B) {
	f := Household()
	s := HouseholdExample()
	b.ReportAllocs()
	for b.Loop() {
		if _, probs := f.Validate(s.Answers, ValidateOptions{Now: s.EndedAt}); probs != nil {
			b.Fatal(probs)
		}
	}
}

func BenchmarkParseExpr(b *testing.B) {
	src := "not(. = 'head_female' and ${head_sex} = 'male') and not(. = 'head_male' and ${head_sex} = 'female')"
	for b.Loop() {
		if _, err := ParseExpr(src); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeHousehold(b *testing.B) {
	data := HouseholdYAML()
	for b.Loop() {
		if _, err := Decode(data, "yaml"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestValidateConcurrent runs Validate on one form from several goroutines
// (the collector shares compiled forms between requests); -race checks it.
func TestValidateConcurrent(t *testing.T) {
	f := Household()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s := HouseholdExample()
			if i%2 == 1 {
				s.Answers["members"].([]any)[0].(map[string]any)["age"] = 200
			}
			_, probs := f.Validate(s.Answers, ValidateOptions{Now: s.EndedAt, Lang: "es"})
			if (i%2 == 1) != (len(probs) > 0) {
				errs <- fmt.Errorf("goroutine %d: %v", i, probs)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
