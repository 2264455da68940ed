package suggest

import "testing"

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "", 3},
		{"estimats", "estimates", 1},
		{"maen", "mean", 1}, // a swap is one edit
		{"kitten", "sitting", 3},
		{"bank_acount", "bank_account", 1},
		{"ñandu", "nandu", 1}, // runes, not bytes
	} {
		if got := distance(c.a, c.b); got != c.want {
			t.Errorf("distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := distance(c.b, c.a); got != c.want {
			t.Errorf("distance(%q, %q) = %d, want %d", c.b, c.a, got, c.want)
		}
	}
}

func TestDidYouMean(t *testing.T) {
	cols := []string{"household_id", "bank_account", "bank_accounts", "bank_acct", "savings", "Migrant"}
	for _, c := range []struct {
		name  string
		known []string
		want  string
	}{
		{"estimats", []string{"data", "survey", "design", "estimates"}, `did you mean "estimates"?`},
		{"bank_acount", cols, `did you mean "bank_account", "bank_accounts" or "bank_acct"?`},
		{"migrant", cols, `did you mean "Migrant"?`},
		{"x", []string{"p", "id", "by"}, `did you mean "p"?`},
		{"zzz", cols, ""},
		{"savings", cols, ""}, // the name itself is not a suggestion
	} {
		if got := DidYouMean(c.name, c.known); got != c.want {
			t.Errorf("DidYouMean(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestNearestOrderAndCount(t *testing.T) {
	got := Nearest("abcd", []string{"abce", "abc", "xbcd", "abcdef", "abcd"}, 2)
	if len(got) != 2 || got[0] != "abce" || got[1] != "abc" {
		t.Errorf("Nearest = %q, want [abce abc] (distance 1, in the order given)", got)
	}
}
