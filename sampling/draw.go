package sampling

// FirstStage is a drawn first stage: the frame's strata, the number of PSUs
// allocated to each, and every frame unit's draw.
type FirstStage struct {
	Strata []Stratum
	Sizes  map[string]int // PSUs allocated, by stratum
	Sample *PSUSample     // every unit of the frame, Selected or not
}

// AllocationError is a failed allocation of PSUs to strata (n too small for
// the strata, or larger than the frame): the request's mistake, not the
// frame's.
type AllocationError struct{ Err error }

func (e *AllocationError) Error() string { return e.Err.Error() }
func (e *AllocationError) Unwrap() error { return e.Err }

// DrawFirstStage allocates PSUs to the strata of f (n in all with alloc, or
// fixed sizes when alloc is a table) and selects them by PPS systematic
// sampling with certainty units: the one sequence behind `dotm sample psus`
// and POST /surveys/{id}/sample/psus. Allocation failures are an
// *AllocationError; frame problems come from SelectPSUs as InputErrors.
func DrawFirstStage(f *Frame, n int, alloc Allocation, seed uint64, opt SelectOptions) (FirstStage, error) {
	strata := f.Strata()
	sizes, err := Allocate(strata, n, alloc)
	if err != nil {
		return FirstStage{}, &AllocationError{Err: err}
	}
	draws, err := SelectPSUs(f, sizes, seed, opt)
	if err != nil {
		return FirstStage{}, err
	}
	return FirstStage{Strata: strata, Sizes: sizes, Sample: &PSUSample{Draws: draws, ExtraColumns: f.ExtraColumns}}, nil
}
