package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

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
// Only those columns' pages are read, one column per goroutine, as many at
// once as there are processors.
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
	for _, name := range columns {
		if _, ok := leaf[name]; !ok {
			return nil, fmt.Errorf("unknown column %q", name)
		}
	}
	cols := make([]parquetColumn, len(columns))
	errs := make([]error, len(columns))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for k, name := range columns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			cols[k], errs[k] = readParquetColumn(pf, leaf[name], kinds[name], n)
			if errs[k] != nil {
				errs[k] = fmt.Errorf("column %s: %w", name, errs[k])
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	t := analysis.NewTable(n)
	for k, name := range columns {
		if c := cols[k]; c.codes != nil {
			t.AddText(name, c.codes, c.levels)
		} else {
			t.AddNumeric(name, c.num)
		}
	}
	return t, nil
}

// parquetColumn is one column read: numbers, or codes into levels.
type parquetColumn struct {
	num    []float64
	codes  []int32
	levels []string
}

// readParquetColumn reads leaf column idx of every row group.
func readParquetColumn(pf *parquet.File, idx int, kind parquet.Kind, n int) (parquetColumn, error) {
	text := kind == parquet.ByteArray || kind == parquet.FixedLenByteArray
	var c parquetColumn
	lookup := map[string]int32{}
	if text {
		c.codes = make([]int32, 0, n)
	} else {
		c.num = make([]float64, 0, n)
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
				return c, err
			}
			vr := pg.Values()
			for {
				k, err := vr.ReadValues(buf)
				for _, v := range buf[:k] {
					if text {
						if v.IsNull() {
							c.codes = append(c.codes, -1)
							continue
						}
						code, ok := lookup[string(v.ByteArray())]
						if !ok {
							s := string(v.ByteArray())
							code = int32(len(c.levels))
							lookup[s] = code
							c.levels = append(c.levels, s)
						}
						c.codes = append(c.codes, code)
						continue
					}
					c.num = append(c.num, parquetNumber(v))
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					pages.Close()
					return c, err
				}
			}
			parquet.Release(pg)
		}
		pages.Close()
	}
	if got := len(c.codes) + len(c.num); got != n {
		return c, fmt.Errorf("read %d values for %d rows", got, n)
	}
	return c, nil
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
