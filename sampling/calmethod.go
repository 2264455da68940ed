package sampling

import (
	"errors"
	"fmt"
)

// The calibration methods of CalibrateWith, as profiles, the API's weight
// spec and `dotm weights calibrate --method` name them.
const (
	MethodPostStratify = "poststratify" // one categorical variable
	MethodRake         = "rake"         // iterative proportional fitting (survey::rake)
	MethodLinear       = "linear"       // GREG (survey::calibrate, calfun linear)
	MethodRaking       = "raking"       // survey::calibrate, calfun raking
)

// CalibrationRun is how a calibration ended, whatever its method.
type CalibrationRun struct {
	Method     string
	Weights    []float64
	G          []float64 // w_new/w for linear and raking; nil otherwise
	Iterations int       // 1 for post-stratification
	Converged  bool
	MaxMisfit  float64 // rake: largest relative margin difference; linear/raking: Calibrate's misfit
}

// ErrUnknownMethod is returned by CalibrateWith for a method it does not know.
var ErrUnknownMethod = errors.New("unknown calibration method (want poststratify, rake, linear or raking)")

// ErrOneVariable is returned by CalibrateWith when poststratify is given
// several variables.
var ErrOneVariable = errors.New("poststratify takes one variable (use rake for several)")

// CalibrateWith calibrates w to the margins vars by method: the one switch
// over methods behind the API's weights and `dotm weights calibrate`.
// maxIter and tol of 0 take each method's default (rake: 100 cycles,
// 1e-10; linear and raking: Calibrate's); lower and upper bound g for
// linear and raking (both 0: none). A rake that does not converge returns
// its run with Converged false and no error: whether to keep it is the
// caller's choice. A linear or raking calibration that does not converge
// returns its run and an error wrapping ErrNotConverged.
func CalibrateWith(method string, w []float64, vars []MarginVariable, maxIter int, tol, lower, upper float64) (CalibrationRun, error) {
	run := CalibrationRun{Method: method}
	switch method {
	case MethodPostStratify:
		if len(vars) != 1 {
			return run, fmt.Errorf("%w, got %d", ErrOneVariable, len(vars))
		}
		out, err := PostStratify(w, vars[0])
		if err != nil {
			return run, err
		}
		run.Weights, run.Iterations, run.Converged = out, 1, true
	case MethodRake:
		if maxIter == 0 {
			maxIter = 100
		}
		if tol == 0 {
			tol = 1e-10
		}
		r, err := Rake(w, vars, maxIter, tol)
		if err != nil {
			return run, err
		}
		run.Weights, run.Iterations, run.Converged, run.MaxMisfit = r.Weights, r.Iterations, r.Converged, r.MaxRelDiff
	case MethodLinear, MethodRaking:
		opt := CalibrateOptions{MaxIter: maxIter, Epsilon: tol, Lower: lower, Upper: upper}
		if method == MethodRaking {
			opt.Fun = Raking
		}
		r, err := Calibrate(w, vars, opt)
		if r != nil {
			run.Weights, run.G, run.Iterations, run.Converged, run.MaxMisfit = r.Weights, r.G, r.Iterations, r.Converged, r.MaxMisfit
		}
		if err != nil {
			return run, err
		}
	default:
		return run, fmt.Errorf("%q: %w", method, ErrUnknownMethod)
	}
	return run, nil
}
