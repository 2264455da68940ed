package sampling_test

import (
	"fmt"

	"github.com/dotm-survey/dotm/sampling"
)

func ExampleInclusionProbabilities() {
	// Five PSUs, two to select: the largest is taken with certainty and the
	// second PSU is shared among the other four in proportion to size.
	pi := sampling.InclusionProbabilities([]float64{100, 200, 100, 2000, 100}, 2)
	fmt.Printf("%.4g\n", pi)
	// Output: [0.2 0.4 0.2 1 0.2]
}

func ExampleSelectHouseholds() {
	// A listing from anywhere (CSV, the API, a database), one PSU here.
	var listing []sampling.ListedHousehold
	for i := 1; i <= 10; i++ {
		class := "non_migrant"
		if i%3 == 0 {
			class = "current_migrant"
		}
		listing = append(listing, sampling.ListedHousehold{PSU: "EA01", ID: fmt.Sprint("h", i), Class: class, Order: i})
	}
	quota := sampling.Quota{"current_migrant": 6, "non_migrant": 2}
	draws, err := sampling.SelectHouseholds(listing, quota, sampling.Systematic, 2026)
	if err != nil {
		panic(err)
	}
	n := 0
	for _, d := range draws {
		if d.Selected {
			n++
			fmt.Printf("%s %s pi2=%.3g\n", d.ID, d.Class, d.Pi2)
		}
	}
	fmt.Println(n, "selected")
	// Output:
	// h3 current_migrant pi2=1
	// h4 non_migrant pi2=0.286
	// h6 current_migrant pi2=1
	// h9 current_migrant pi2=1
	// h10 non_migrant pi2=0.286
	// 5 selected
}
