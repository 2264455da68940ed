package exports_test

import (
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/dotm-survey/dotm/exports"
)

// linkable is the share of households of release b whose continuous values
// match those of exactly one household of release a.
func linkable(a, b map[string][]string, cols []string) float64 {
	key := func(t map[string][]string, i int) string {
		var parts []string
		for _, c := range cols {
			parts = append(parts, t[c][i])
		}
		return strings.Join(parts, "|")
	}
	count := map[string]int{}
	for i := range a[cols[0]] {
		count[key(a, i)]++
	}
	linked := 0
	for i := range b[cols[0]] {
		if count[key(b, i)] == 1 {
			linked++
		}
	}
	return float64(linked) / float64(len(b[cols[0]]))
}

// TestReleasesCannotBeLinked: two releases of one survey, made with their
// own keys and random sources, share no exact amounts: the share of
// households of one that match exactly one household of the other on their
// continuous values is ~0 with the default perturbation, and near 1 with
// perturb: off (the positive control).
func TestReleasesCannotBeLinked(t *testing.T) {
	ds := roundDataset(t, 3)
	for _, c := range []struct {
		name, extra string
		check       func(float64) bool
	}{
		{"perturbed (default)", "", func(x float64) bool { return x < 0.01 }},
		{"perturb: off", "perturb: off\n", func(x float64) bool { return x > 0.9 }},
	} {
		p, err := exports.ParseProfile([]byte(exports.HouseholdProfile + c.extra))
		if err != nil {
			t.Fatal(err)
		}
		var rels []map[string][]string
		for r := uint64(1); r <= 2; r++ {
			dir := filepath.Join(t.TempDir(), "release")
			_, rep, err := exports.Create(ds, p, dir, exports.Info{ID: "r", Survey: "s"}, exports.Options{IDKey: []byte{byte(r)}, Rand: rand.New(rand.NewPCG(r, 99))})
			if err != nil {
				t.Fatalf("%s: %v (%+v)", c.name, err, rep)
			}
			if c.extra == "" && len(rep.Tables[0].Perturbed) == 0 {
				t.Fatalf("%s: the report lists no perturbed column", c.name)
			}
			rels = append(rels, readRelease(t, dir, []string{"households"})["households"])
		}
		// The continuous columns: those of the original households table
		// that are decimals, other than weights.
		var cols []string
		for _, col := range ds.Table("households").Columns {
			if col.Type == exports.Float && !strings.HasPrefix(col.Name, "weight") && col.Name != "fpc" && rels[0][col.Name] != nil {
				cols = append(cols, col.Name)
			}
		}
		sort.Strings(cols)
		if len(cols) < 3 {
			t.Fatalf("only %d continuous columns: %v", len(cols), cols)
		}
		share := linkable(rels[0], rels[1], cols)
		t.Logf("%s: %.1f%% of households link across releases on %d continuous columns", c.name, 100*share, len(cols))
		if !c.check(share) {
			t.Errorf("%s: %.1f%% of households link across two releases", c.name, 100*share)
		}
	}
}
