package dotm

import (
	"errors"
	"testing"
)

// TestErrorSaysTheCauseOnce: a message that already quotes its cause does
// not repeat it; one that does not adds it.
func TestErrorSaysTheCauseOnce(t *testing.T) {
	cause := errors.New(`column "x" is not in table households`)
	for _, tt := range []struct {
		err  *Error
		want string
	}{
		{&Error{Code: EUNPROCESSABL, Message: "survey s: " + cause.Error(), Err: cause}, `unprocessable: survey s: column "x" is not in table households`},
		{&Error{Code: EINTERNAL, Message: "load survey s", Err: cause}, `internal: load survey s: column "x" is not in table households`},
		{Errorf(ENOTFOUND, "survey %s does not exist", "s"), "not_found: survey s does not exist"},
	} {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
		if tt.err.Err != nil && !errors.Is(tt.err, cause) {
			t.Errorf("%q does not unwrap to its cause", tt.err)
		}
	}
}
