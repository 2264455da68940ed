package exports

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var (
	benchOnce  sync.Once
	benchTable *Table
)

// peakHeap samples runtime.MemStats.HeapInuse until stop is closed and
// returns the highest value seen.
func peakHeap(stop <-chan struct{}) *atomic.Uint64 {
	var peak atomic.Uint64
	go func() {
		var ms runtime.MemStats
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return &peak
}

// BenchmarkRelease1M makes a release of 1,000,000 households (33 columns
// with the canonical names): disclosure control with the test profile,
// then Parquet, codebook, report and manifest. It reports rows/s and the
// peak heap in use (sampled), beside the table itself.
func BenchmarkRelease1M(b *testing.B) {
	const n = 1_000_000
	benchOnce.Do(func() { benchTable = householdTable(n, 11) })
	p, err := ParseProfile([]byte(testProfile))
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	stop := make(chan struct{})
	peak := peakHeap(stop)
	dir := b.TempDir()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out := filepath.Join(dir, fmt.Sprint(i))
		_, rep, err := Create(&Dataset{Tables: []*Table{benchTable}}, p, out, testInfo, seeded(uint64(i)))
		if err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			tr := rep.Tables[0]
			b.Logf("suppressed %d values; global risk %.4g -> %.4g; k violations %d -> %d",
				tr.SuppressedTotal, tr.Before.Global, tr.After.Global, tr.Before.KViolations, tr.After.KViolations)
			st, _ := os.Stat(filepath.Join(out, "households.parquet"))
			b.Logf("households.parquet: %d bytes", st.Size())
		}
		os.RemoveAll(out)
	}
	b.StopTimer()
	close(stop)
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(base.HeapInuse)/(1<<20), "input-heap-MiB")
}

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
