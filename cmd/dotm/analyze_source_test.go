package main

import (
	"math"
	"path/filepath"
	"reflect"
	"testing"
)

// TestReadParquetTypedPages reads every column of a synthetic survey file
// from the pages' typed buffers and again value by value, and wants the
// same table: numbers (with missing values), text codes and levels in the
// order of first use.
func TestReadParquetTypedPages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hh.parquet")
	if out, err := dotmRun(t, "synth", "households", "--n", "20000", "--seed", "9", "--out", path); err != nil {
		t.Fatalf("synth: %v\n%s", err, out)
	}
	cols := []string{"household_id", "stratum", "psu", "weight", "fpc", "migrant", "hh_size", "head_female", "dest_country",
		"remit_amount", "cons_pc", "bank_account", "women_decide", "interview_date", "urban"}
	fast, err := readParquet(path, cols)
	if err != nil {
		t.Fatal(err)
	}
	parquetTypedPages = false
	slow, err := readParquet(path, cols)
	parquetTypedPages = true
	if err != nil {
		t.Fatal(err)
	}
	missing := 0
	for _, name := range cols {
		a, _ := fast.Column(name)
		b, _ := slow.Column(name)
		if !reflect.DeepEqual(a.Codes, b.Codes) || !reflect.DeepEqual(a.Levels, b.Levels) || len(a.Num) != len(b.Num) {
			t.Fatalf("column %s differs", name)
		}
		for i := range a.Num {
			if math.IsNaN(b.Num[i]) {
				missing++
			}
			if a.Num[i] != b.Num[i] && !(math.IsNaN(a.Num[i]) && math.IsNaN(b.Num[i])) {
				t.Fatalf("column %s row %d: %v, want %v", name, i, a.Num[i], b.Num[i])
			}
		}
	}
	if missing == 0 {
		t.Fatal("the file has no missing number: the test does not cover nulls")
	}
}
