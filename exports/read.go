package exports

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/dotm-survey/dotm/internal/csvsafe"
)

// ReadCSV reads a table from CSV with a header row. Each column's type is
// inferred from its non-empty cells: integer if all parse as integers, float
// if all parse as numbers, boolean if all are true/false, date if all are
// YYYY-MM-DD, else text. Empty cells are nulls (and make the column
// nullable). Errors name the line and column.
func ReadCSV(r io.Reader, name string) (*Table, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = false
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("csv %s: no header row", name)
	}
	if err != nil {
		return nil, fmt.Errorf("csv %s: %w", name, err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	if err := csvsafe.CheckSeparator(name, header); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for i, h := range header {
		h = csvsafe.Unescape(strings.TrimSpace(h))
		header[i] = h
		if h == "" {
			return nil, fmt.Errorf("csv %s: column %d has an empty name", name, i+1)
		}
		if seen[h] {
			return nil, fmt.Errorf("csv %s: column %s appears twice", name, h)
		}
		seen[h] = true
	}
	cells := make([][]string, len(header))
	line := 1
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("csv %s: %w", name, err)
		}
		line++
		for j, s := range rec {
			if !utf8.ValidString(s) {
				return nil, fmt.Errorf("csv %s: line %d: column %s: not valid UTF-8", name, line, header[j])
			}
			cells[j] = append(cells[j], csvsafe.Unescape(s)) // as dotm's CSV writers escape it
		}
	}
	t := &Table{Name: "households"}
	for j, h := range header {
		c, err := inferColumn(h, cells[j])
		if err != nil {
			return nil, fmt.Errorf("csv %s: %w", name, err)
		}
		t.Columns = append(t.Columns, c)
	}
	return t, nil
}

func parseDate(s string) (int64, bool) {
	if len(s) != 10 {
		return 0, false
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, false
	}
	return d.Unix() / 86400, true
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

func inferColumn(name string, cells []string) (*Column, error) {
	c := &Column{Name: name}
	n := len(cells)
	isInt, isFloat, isBool, isDate, any := true, true, true, true, false
	for _, s := range cells {
		if s == "" {
			c.Nullable = true
			continue
		}
		any = true
		if isInt {
			if _, err := strconv.ParseInt(s, 10, 64); err != nil {
				isInt = false
			}
		}
		if isFloat {
			if f, err := strconv.ParseFloat(s, 64); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				isFloat = false
			}
		}
		if isBool {
			_, isBool = parseBool(s)
		}
		if isDate {
			_, isDate = parseDate(s)
		}
	}
	switch {
	case !any:
		c.Type = String
	case isInt:
		c.Type = Int
	case isFloat:
		c.Type = Float
	case isBool:
		c.Type = Bool
	case isDate:
		c.Type = Date
	default:
		c.Type = String
	}
	if c.Nullable {
		c.Valid = make([]bool, n)
	}
	switch c.Type {
	case String:
		c.Strings = make([]string, n)
	case Int, Date:
		c.Ints = make([]int64, n)
	case Float:
		c.Floats = make([]float64, n)
	case Bool:
		c.Bools = make([]bool, n)
	}
	for i, s := range cells {
		if s == "" {
			continue
		}
		if c.Valid != nil {
			c.Valid[i] = true
		}
		switch c.Type {
		case String:
			c.Strings[i] = s
		case Int:
			c.Ints[i], _ = strconv.ParseInt(s, 10, 64)
		case Float:
			c.Floats[i], _ = strconv.ParseFloat(s, 64)
		case Bool:
			c.Bools[i], _ = parseBool(s)
		case Date:
			c.Ints[i], _ = parseDate(s)
		}
	}
	return c, nil
}

// ReadParquet reads a flat Parquet file into a table: UTF8/ENUM byte arrays
// become text, DATE dates, other 32/64-bit integers integers, FLOAT/DOUBLE
// floats, BOOLEAN booleans. Nested, repeated or other column types are
// errors naming the column.
func ReadParquet(r io.ReaderAt, size int64, name string) (*Table, error) {
	f, err := parquet.OpenFile(r, size)
	if err != nil {
		return nil, fmt.Errorf("parquet %s: %w", name, err)
	}
	t := &Table{Name: "households"}
	fields := f.Schema().Fields()
	for _, fl := range fields {
		if !fl.Leaf() || fl.Repeated() {
			return nil, fmt.Errorf("parquet %s: column %s: nested or repeated columns are not supported", name, fl.Name())
		}
		c := &Column{Name: fl.Name(), Nullable: fl.Optional()}
		var lv format.LogicalTypeValue
		if lt := fl.Type().LogicalType(); lt != nil {
			lv = lt.Value
		}
		switch kind := fl.Type().Kind(); {
		case kind == parquet.ByteArray && (lv == nil || isType[*format.StringType](lv) || isType[*format.EnumType](lv)):
			c.Type = String
		case kind == parquet.Int32 && isType[*format.DateType](lv):
			c.Type = Date
		case (kind == parquet.Int32 || kind == parquet.Int64) && (lv == nil || isType[*format.IntType](lv)):
			c.Type = Int
		case kind == parquet.Float || kind == parquet.Double:
			c.Type = Float
		case kind == parquet.Boolean:
			c.Type = Bool
		default:
			return nil, fmt.Errorf("parquet %s: column %s: type %s is not supported", name, fl.Name(), fl.Type())
		}
		t.Columns = append(t.Columns, c)
	}
	rows := f.NumRows()
	for _, c := range t.Columns {
		if c.Nullable {
			c.Valid = make([]bool, 0, rows)
		}
	}
	buf := make([]parquet.Row, 1024)
	for _, rg := range f.RowGroups() {
		rr := rg.Rows()
		for {
			n, err := rr.ReadRows(buf)
			for _, row := range buf[:n] {
				for _, v := range row {
					appendValue(t.Columns[v.Column()], v)
				}
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rr.Close()
				return nil, fmt.Errorf("parquet %s: %w", name, err)
			}
		}
		rr.Close()
	}
	if err := t.Check(); err != nil {
		return nil, fmt.Errorf("parquet %s: %w", name, err)
	}
	return t, nil
}

func appendValue(c *Column, v parquet.Value) {
	null := v.IsNull()
	if c.Valid != nil {
		c.Valid = append(c.Valid, !null)
	}
	switch c.Type {
	case String:
		s := ""
		if !null {
			s = string(v.ByteArray())
		}
		c.Strings = append(c.Strings, s)
	case Int, Date:
		var x int64
		if !null {
			x = v.Int64()
			if v.Kind() == parquet.Int32 {
				x = int64(v.Int32())
			}
		}
		c.Ints = append(c.Ints, x)
	case Float:
		var x float64
		if !null {
			x = v.Double()
			if v.Kind() == parquet.Float {
				x = float64(v.Float())
			}
		}
		c.Floats = append(c.Floats, x)
	case Bool:
		c.Bools = append(c.Bools, !null && v.Boolean())
	}
}

func isType[T any](v format.LogicalTypeValue) bool {
	_, ok := v.(T)
	return ok
}
