package analysis

import "testing"

// TestDomainDescribe: an estimate that fails in one domain names it, with
// one by variable (values nil, the level is the label) as with several.
func TestDomainDescribe(t *testing.T) {
	for _, tc := range []struct {
		dm   domain
		by   []string
		want string
	}{
		{domain{label: "current"}, []string{"migrant"}, "migrant = current"},
		{domain{label: "current.north", values: []string{"current", "north"}}, []string{"migrant", "region"}, "migrant = current, region = north"},
	} {
		if got := tc.dm.describe(tc.by); got != tc.want {
			t.Errorf("describe(%v) = %q, want %q", tc.by, got, tc.want)
		}
	}
}
