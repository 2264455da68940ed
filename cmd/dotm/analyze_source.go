package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/dotm-survey/dotm/analysis"
)

// fileSource is an analysis.Source over a .csv or .parquet file.
type fileSource struct{ path string }

func (s fileSource) Load(ctx context.Context, columns []string) (*analysis.Table, error) {
	switch strings.ToLower(filepath.Ext(s.path)) {
	case ".csv":
		b, err := os.ReadFile(s.path)
		if err != nil {
			return nil, err
		}
		t, err := analysis.ParseCSV(b, columns)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.path, err)
		}
		return t, nil
	case ".parquet":
		t, err := readParquet(s.path, columns)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.path, err)
		}
		return t, nil
	}
	return nil, fmt.Errorf("data %s: only .csv and .parquet files can be read", s.path)
}

// readParquet reads the named columns (flat schemas only): numbers become
// numeric columns (null = missing), strings and byte arrays text columns.
func readParquet(path string, columns []string) (*analysis.Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return nil, err
	}
	n := int(pf.NumRows())
	leaf := map[string]int{}
	kinds := map[string]parquet.Kind{}
	for i, p := range pf.Schema().Columns() {
		if len(p) != 1 {
			continue
		}
		leaf[p[0]] = i
		node, _ := pf.Schema().Lookup(p...)
		kinds[p[0]] = node.Node.Type().Kind()
	}
	t := analysis.NewTable(n)
	for _, name := range columns {
		idx, ok := leaf[name]
		if !ok {
			return nil, fmt.Errorf("unknown column %q", name)
		}
		kind := kinds[name]
		text := kind == parquet.ByteArray || kind == parquet.FixedLenByteArray
		var num []float64
		var codes []int32
		var levels []string
		lookup := map[string]int32{}
		if text {
			codes = make([]int32, 0, n)
		} else {
			num = make([]float64, 0, n)
		}
		buf := make([]parquet.Value, 4096)
		for _, rg := range pf.RowGroups() {
			pages := rg.ColumnChunks()[idx].Pages()
			for {
				pg, err := pages.ReadPage()
				if err == io.EOF {
					break
				}
				if err != nil {
					pages.Close()
					return nil, fmt.Errorf("column %s: %w", name, err)
				}
				vr := pg.Values()
				for {
					k, err := vr.ReadValues(buf)
					for _, v := range buf[:k] {
						if text {
							if v.IsNull() {
								codes = append(codes, -1)
								continue
							}
							s := string(v.ByteArray())
							c, ok := lookup[s]
							if !ok {
								c = int32(len(levels))
								lookup[s] = c
								levels = append(levels, s)
							}
							codes = append(codes, c)
							continue
						}
						num = append(num, parquetNumber(v))
					}
					if err == io.EOF {
						break
					}
					if err != nil {
						pages.Close()
						return nil, fmt.Errorf("column %s: %w", name, err)
					}
				}
				parquet.Release(pg)
			}
			pages.Close()
		}
		if text {
			if len(codes) != n {
				return nil, fmt.Errorf("column %s: read %d values for %d rows", name, len(codes), n)
			}
			t.AddText(name, codes, levels)
		} else {
			if len(num) != n {
				return nil, fmt.Errorf("column %s: read %d values for %d rows", name, len(num), n)
			}
			t.AddNumeric(name, num)
		}
	}
	return t, nil
}

func parquetNumber(v parquet.Value) float64 {
	if v.IsNull() {
		return math.NaN()
	}
	switch v.Kind() {
	case parquet.Boolean:
		if v.Boolean() {
			return 1
		}
		return 0
	case parquet.Int32:
		return float64(v.Int32())
	case parquet.Int64:
		return float64(v.Int64())
	case parquet.Float:
		return float64(v.Float())
	case parquet.Double:
		return v.Double()
	}
	return math.NaN()
}
