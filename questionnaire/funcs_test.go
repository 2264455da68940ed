package questionnaire

import (
	"strings"
	"testing"
)

// TestFunctionsTable checks that every entry of the function table can be
// called: its arity is possible and a call with the fewest arguments it
// takes parses to a node that evaluates.
func TestFunctionsTable(t *testing.T) {
	env := &mapEnv{refs: map[string]nodeset{"r": nodes(true, "1", "2")}, cur: nodes(false, "")}
	for name, f := range functions {
		if f.eval == nil || f.minArgs < 0 || f.maxArgs != -1 && f.maxArgs < f.minArgs {
			t.Errorf("%s: bad entry %+v", name, f)
			continue
		}
		args := make([]string, f.minArgs)
		for i := range args {
			args[i] = "${r}"
		}
		src := name + "(" + strings.Join(args, ", ") + ")"
		e, err := ParseExpr(src)
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		e.eval(env)
	}
}
