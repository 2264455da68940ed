package exports_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dotm-survey/dotm/dataset"
	"github.com/dotm-survey/dotm/exports"
	"github.com/dotm-survey/dotm/fieldsim"
	"github.com/dotm-survey/dotm/questionnaire"
)

// releaseChunk is how many households of a large synthetic round are made
// into tables at once: the answers of a chunk are dropped once its tables
// are appended, so the input costs what its columns cost.
const releaseChunk = 25_000

// releaseInput is a round of n households as the demo makes its release
// input, at any size: a simulated country with one enumeration area per
// 15 interviews, 15 households interviewed in each (6 current-migrant, 3
// return, 6 non-migrant), validated by the household form and made into the
// households, persons, migrants and return_migrants tables by the dataset
// package, chunk by chunk. progress, when not nil, is called with the
// number of households made so far.
func releaseInput(tb testing.TB, n int, seed uint64, progress func(int)) *exports.Dataset {
	tb.Helper()
	country := fieldsim.NewCountry(n/15+n/150+8, seed)
	fpc := map[string]float64{}
	for _, ea := range country.EAs {
		fpc[ea.Stratum]++
	}
	form := questionnaire.Household()
	end := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	// Areas are interviewed in chunks, in parallel; chunk c uses its own
	// generator, so the data do not depend on the number of workers.
	type chunk struct {
		first, last int // EAs [first, last)
		ds          *exports.Dataset
		hh          int
		err         error
	}
	perChunk := releaseChunk / 15
	var chunks []*chunk
	for e := 0; e < len(country.EAs); e += perChunk {
		chunks = append(chunks, &chunk{first: e, last: min(e+perChunk, len(country.EAs))})
	}
	make1 := func(c int) {
		ch := chunks[c]
		rng := rand.New(rand.NewPCG(seed, uint64(c)))
		var hh []dataset.Household
		for _, ea := range country.EAs[ch.first:ch.last] {
			quota := map[string]int{fieldsim.CurrentMigrant: 6, fieldsim.ReturnMigrant: 3, fieldsim.NonMigrant: 6}
			for _, l := range fieldsim.List(ea, rng) {
				if quota[l.Class] == 0 {
					continue
				}
				quota[l.Class]--
				raw := fieldsim.Interview(rng, fieldsim.Household{ID: l.ID, Region: ea.Region, Urban: ea.Urban, Class: l.Class}, end)
				answers, problems := form.Validate(raw, questionnaire.ValidateOptions{Now: end})
				if len(problems) > 0 {
					ch.err = fmt.Errorf("simulated interview %s is invalid: %+v", l.ID, problems[0])
					return
				}
				if answers["consent"] != "yes" {
					continue
				}
				hh = append(hh, dataset.Household{ID: l.ID, Stratum: ea.Stratum, PSU: ea.ID,
					Weight: float64(ea.Size) / 15 * (1 + rng.Float64()), FPC: fpc[ea.Stratum], Interviewed: end, Answers: answers})
			}
		}
		ch.hh = len(hh)
		ch.ds, ch.err = dataset.Build("synthetic", form, hh)
	}
	var (
		mu   sync.Mutex
		next int
		made int
		out  *exports.Dataset
		wg   sync.WaitGroup
		// failed is the first chunk's error
		failed error
	)
	// Chunks are made in parallel and appended in order until n
	// households are in.
	done := make([]bool, len(chunks))
	appended := 0
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				c := next
				next++
				stop := made >= n || c >= len(chunks)
				mu.Unlock()
				if stop {
					return
				}
				make1(c)
				mu.Lock()
				done[c] = true
				for appended < len(chunks) && done[appended] && made < n {
					ch := chunks[appended]
					if ch.err == nil {
						out, ch.err = appendDataset(out, ch.ds, n-made)
					}
					if ch.err != nil {
						failed = ch.err
						next = len(chunks)
						mu.Unlock()
						return
					}
					made += min(ch.hh, n-made)
					chunks[appended].ds = nil
					appended++
					if progress != nil {
						progress(made)
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if failed != nil {
		tb.Fatal(failed)
	}
	if made < n {
		tb.Fatalf("the simulated country gave %d households, want %d", made, n)
	}
	return out
}

// appendDataset appends the first maxHH households of src (and their rows
// of the other tables) to dst, which is nil or has the same tables and
// columns.
func appendDataset(dst, src *exports.Dataset, maxHH int) (*exports.Dataset, error) {
	keep := map[string]bool{}
	ids := src.Table(dataset.Households).Column("household_id")
	for i := 0; i < min(maxHH, ids.Len()); i++ {
		keep[ids.Strings[i]] = true
	}
	if dst == nil {
		dst = &exports.Dataset{Survey: src.Survey, Languages: src.Languages}
		for _, t := range src.Tables {
			nt := &exports.Table{Name: t.Name}
			for _, c := range t.Columns {
				nc := *c
				nc.Strings, nc.Ints, nc.Floats, nc.Bools, nc.Valid = nil, nil, nil, nil, nil
				nt.Columns = append(nt.Columns, &nc)
			}
			dst.Tables = append(dst.Tables, nt)
		}
	}
	if len(dst.Tables) != len(src.Tables) {
		return nil, fmt.Errorf("chunk has %d tables, want %d", len(src.Tables), len(dst.Tables))
	}
	for ti, t := range src.Tables {
		d := dst.Tables[ti]
		if d.Name != t.Name || len(d.Columns) != len(t.Columns) {
			return nil, fmt.Errorf("chunk's table %s has %d columns, want %s with %d", t.Name, len(t.Columns), d.Name, len(d.Columns))
		}
		hid := t.Column("household_id")
		rows := d.Rows()
		for ci, c := range t.Columns {
			dc := d.Columns[ci]
			if dc.Name != c.Name || dc.Type != c.Type {
				return nil, fmt.Errorf("table %s: chunk's column %d is %s (%v), want %s (%v)", t.Name, ci, c.Name, c.Type, dc.Name, dc.Type)
			}
			dc.Nullable = dc.Nullable || c.Nullable
			for i := 0; i < c.Len(); i++ {
				if !keep[hid.Strings[i]] {
					continue
				}
				switch c.Type {
				case exports.String:
					dc.Strings = append(dc.Strings, c.Strings[i])
				case exports.Int, exports.Date:
					dc.Ints = append(dc.Ints, c.Ints[i])
				case exports.Float:
					dc.Floats = append(dc.Floats, c.Floats[i])
				case exports.Bool:
					dc.Bools = append(dc.Bools, c.Bools[i])
				}
				switch {
				case c.Valid != nil && dc.Valid == nil:
					dc.Valid = make([]bool, rows, rows+c.Len())
					for j := range dc.Valid {
						dc.Valid[j] = true
					}
					dc.Valid = append(dc.Valid, c.Valid[i])
				case dc.Valid != nil:
					dc.Valid = append(dc.Valid, !c.IsNull(i))
				}
			}
		}
	}
	return dst, nil
}

// procStatus returns a field of /proc/self/status in bytes (VmRSS, VmHWM),
// or 0 where there is none.
func procStatus(field string) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// curveSizes are the release curve's sizes, at most DOTM_BENCH_RELEASE_MAX
// households when that is set.
func curveSizes(tb testing.TB) []int {
	sizes := []int{10_000, 30_000, 100_000, 1_000_000}
	if s := os.Getenv("DOTM_BENCH_RELEASE_MAX"); s != "" {
		maxN, err := strconv.Atoi(s)
		if err != nil {
			tb.Fatalf("DOTM_BENCH_RELEASE_MAX=%q: %v", s, err)
		}
		var keep []int
		for _, n := range sizes {
			if n <= maxN {
				keep = append(keep, n)
			}
		}
		sizes = keep
	}
	return sizes
}

// curveProfile is the demo's release profile for n households: the records
// allowed to stay below k (residual_k, 150 for the demo's 1,200
// households) grow with the number of households, up to 5% of them.
func curveProfile(tb testing.TB, n int) *exports.Profile {
	p, err := exports.ParseProfile([]byte(exports.HouseholdProfile))
	if err != nil {
		tb.Fatal(err)
	}
	p.ResidualK = max(p.ResidualK, n/20)
	return p
}

// BenchmarkReleaseCurve makes the demo's release (households, persons,
// migrants and return migrants; the demo's profile, disclosure control on
// the linked tables; Parquet, Stata, codebooks, DDI, reports, manifest) at
// 10,000, 30,000, 100,000 and 1,000,000 households, and reports households/s, the
// CPU time (user + system) and the process's peak RSS during the release
// (the input tables included). DOTM_BENCH_PROGRESS=1 prints progress on
// stderr.
func BenchmarkReleaseCurve(b *testing.B) {
	show := os.Getenv("DOTM_BENCH_PROGRESS") != ""
	for _, n := range curveSizes(b) {
		b.Run(fmt.Sprintf("households=%d", n), func(b *testing.B) {
			p := curveProfile(b, n)
			start := time.Now()
			shown := 0
			ds := releaseInput(b, n, 1, func(k int) {
				if show && k*10/n > shown {
					shown = k * 10 / n
					fmt.Fprintf(os.Stderr, "release curve: making %d households: %d%%\n", n, shown*10)
				}
			})
			if show {
				fmt.Fprintf(os.Stderr, "release curve: %d households made in %s; releasing\n", n, time.Since(start).Round(time.Millisecond))
			}
			debug.FreeOSMemory()
			inputRSS := procStatus("VmRSS")
			// Reset the peak RSS to the current RSS (Linux), so that the
			// peak is the release's.
			os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
			dir := b.TempDir()
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				out := fmt.Sprintf("%s/%d", dir, i)
				_, rep, err := exports.Create(ds, p, out, exports.Info{ID: "bench", Survey: "synthetic", Created: time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC)},
					exports.Options{IDKey: []byte("bench key"), Rand: rand.New(rand.NewPCG(uint64(i), 7))})
				if err != nil {
					b.Fatalf("%v (%+v)", err, rep)
				}
				if i == 0 {
					for _, tr := range rep.Tables {
						b.Logf("%s: %d rows, %d values suppressed, k violations %d -> %d (residual %d), global risk %.4g -> %.4g",
							tr.Table, tr.Rows, tr.SuppressedTotal, tr.Before.KViolations, tr.After.KViolations, tr.ResidualK, tr.Before.Global, tr.After.Global)
						if sp := tr.Suppression; sp != nil {
							b.Logf("%s: local suppression %d cells (lower bound %d, greedy %d), %d of %d blocks optimal, %d given the second pass, %d search nodes",
								tr.Table, sp.Cells, sp.LowerBound, sp.Greedy, sp.Exact, sp.Blocks, sp.Searched, sp.Nodes)
						}
					}
				}
				b.StopTimer()
				os.RemoveAll(out)
				b.StartTimer()
			}
			b.StopTimer()
			cpu := cpuTime() - cpu0
			peak := procStatus("VmHWM")
			rows := 0
			for _, t := range ds.Tables {
				rows += t.Rows()
			}
			hps := float64(n) * float64(b.N) / b.Elapsed().Seconds()
			b.ReportMetric(hps, "households/s")
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
			b.ReportMetric(float64(inputRSS)/(1<<20), "input-RSS-MiB")
			if show {
				fmt.Fprintf(os.Stderr, "release curve: %d households (%d rows): %.3g s wall, %.3g s CPU, %.0f households/s, peak RSS %.0f MiB (input %.0f MiB)\n",
					n, rows, b.Elapsed().Seconds()/float64(b.N), cpu.Seconds()/float64(b.N), hps, float64(peak)/(1<<20), float64(inputRSS)/(1<<20))
			}
		})
	}
}
