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
	"github.com/parquet-go/parquet-go/encoding"

	"github.com/dotm-survey/dotm/analysis"
	"github.com/dotm-survey/dotm/internal/suggest"
)

// fileSource is an analysis.Source over a .csv or .parquet file.
type fileSource struct{ path string }

func (s fileSource) Load(ctx context.Context, columns []string) (*analysis.Table, error) {
	switch strings.ToLower(filepath.Ext(s.path)) {
	case ".csv":
		f, err := os.Open(s.path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return nil, err
		}
		t, err := analysis.ReadCSVAt(f, st.Size(), columns)
		if se := fileSeparator(s.path, err); se != nil {
			return nil, se
		}
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
			var names []string
			for _, p := range pf.Schema().Columns() {
				names = append(names, strings.Join(p, "."))
			}
			if hint := suggest.DidYouMean(name, names); hint != "" {
				return nil, fmt.Errorf("no column %q in the file; %s", name, hint)
			}
			return nil, fmt.Errorf("no column %q in the file", name)
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
		var dict dictValues // the chunk's dictionary, decoded once
		for {
			pg, err := pages.ReadPage()
			if err == io.EOF {
				break
			}
			if err != nil {
				pages.Close()
				return c, err
			}
			if parquetTypedPages && c.appendPage(pg, text, lookup, &dict) {
				parquet.Release(pg)
				continue
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
						c.codes = append(c.codes, c.level(lookup, v.ByteArray()))
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

// parquetTypedPages turns appendPage on; tests turn it off to compare.
var parquetTypedPages = true

// dictValues is a column chunk's dictionary as numbers or as codes of
// the column's levels.
type dictValues struct {
	d     parquet.Dictionary
	num   []float64
	codes []int32
}

// appendPage appends the values of a page of a flat column from its typed
// buffers (plain or dictionary-encoded doubles, floats, int32, int64, byte
// arrays, with nulls), without making a parquet.Value of each. It reports
// false, appending nothing, for any other layout; the caller then reads the
// page value by value.
func (c *parquetColumn) appendPage(pg parquet.Page, text bool, lookup map[string]int32, dict *dictValues) bool {
	if len(pg.RepetitionLevels()) > 0 {
		return false
	}
	nv, nn := int(pg.NumValues()), int(pg.NumNulls())
	defs := pg.DefinitionLevels()
	if nn > 0 && len(defs) != nv {
		return false
	}
	present := nv - nn
	data := pg.Data()
	var num func(i int) float64
	var code func(i int) int32
	if d := pg.Dictionary(); d != nil {
		if data.Kind() != encoding.Int32 {
			return false
		}
		idx := data.Int32()
		if len(idx) != present {
			return false
		}
		if dict.d == nil {
			dict.d = d
			if text {
				dict.codes = make([]int32, d.Len())
				for i := range dict.codes {
					dict.codes[i] = -2 // not seen yet: levels keep the order of first use
				}
			} else {
				dict.num = make([]float64, d.Len())
				for i := range dict.num {
					dict.num[i] = parquetNumber(d.Index(int32(i)))
				}
			}
		}
		for _, i := range idx {
			if i < 0 || int(i) >= max(len(dict.num), len(dict.codes)) {
				return false
			}
		}
		num = func(i int) float64 { return dict.num[idx[i]] }
		code = func(i int) int32 {
			j := idx[i]
			if dict.codes[j] == -2 {
				dict.codes[j] = c.level(lookup, dict.d.Index(j).ByteArray())
			}
			return dict.codes[j]
		}
	} else if text {
		if data.Kind() != encoding.ByteArray {
			return false
		}
		b, offs := data.ByteArray()
		if len(offs) != present+1 {
			return false
		}
		code = func(i int) int32 { return c.level(lookup, b[offs[i]:offs[i+1]]) }
	} else {
		switch data.Kind() {
		case encoding.Double:
			v := data.Double()
			if len(v) != present {
				return false
			}
			num = func(i int) float64 { return v[i] }
		case encoding.Float:
			v := data.Float()
			if len(v) != present {
				return false
			}
			num = func(i int) float64 { return float64(v[i]) }
		case encoding.Int32:
			v := data.Int32()
			if len(v) != present {
				return false
			}
			num = func(i int) float64 { return float64(v[i]) }
		case encoding.Int64:
			v := data.Int64()
			if len(v) != present {
				return false
			}
			num = func(i int) float64 { return float64(v[i]) }
		default:
			return false
		}
	}
	if nn > 0 {
		for _, l := range defs {
			if l > 1 {
				return false // nested: not a flat column
			}
		}
	}
	k := 0
	for j := range nv {
		null := nn > 0 && defs[j] == 0
		switch {
		case text && null:
			c.codes = append(c.codes, -1)
		case text:
			c.codes = append(c.codes, code(k))
			k++
		case null:
			c.num = append(c.num, math.NaN())
		default:
			c.num = append(c.num, num(k))
			k++
		}
	}
	return true
}

// level is the code of text value b, a new level if it is new.
func (c *parquetColumn) level(lookup map[string]int32, b []byte) int32 {
	code, ok := lookup[string(b)]
	if !ok {
		s := string(b)
		code = int32(len(c.levels))
		lookup[s] = code
		c.levels = append(c.levels, s)
	}
	return code
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
