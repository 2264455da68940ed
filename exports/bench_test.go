package exports

import (
	"testing"
)

// BenchmarkFrequencies times the k-anonymity frequency count alone on
// 100,000 records with some suppressed values.
func BenchmarkFrequencies(b *testing.B) {
	t := householdTable(100_000, 12)
	qis := []string{"region", "urban", "hh_size", "head_sex", "head_age", "dest_country"}
	k, err := newKeys(t, qis, t.Column("weight"))
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < k.n; i += 50 {
		k.cols[4][i] = -1
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k.frequencies(nil, nil)
	}
}

// BenchmarkSuppressHeavy times disclosure control alone on 200,000
// households with raw ages as a quasi-identifier, k = 5: tens of thousands
// of records need local suppression (the costly case of the frequency
// counts, with many patterns of nulls).
func BenchmarkSuppressHeavy(b *testing.B) {
	t := householdTable(200_000, 13)
	p, err := ParseProfile([]byte("k: 5\nquasi_identifiers: [region, urban, hh_size, head_sex, head_age, dest_country]\n"))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, rep, err := Anonymize(&Dataset{Tables: []*Table{t}}, p, seeded(uint64(i)))
		if err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			tr := rep.Tables[0]
			b.Logf("k violations %d -> %d; %d values suppressed %v", tr.Before.KViolations, tr.After.KViolations, tr.SuppressedTotal, tr.Suppressed)
		}
	}
}
