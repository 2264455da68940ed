package exports

import (
	"fmt"
	"io"
	"reflect"
	"unsafe"

	"github.com/parquet-go/parquet-go"
)

// orderedGroup is a Parquet group node whose fields keep the table's column
// order (parquet.Group sorts them by name).
type orderedGroup struct {
	parquet.Group
	fields []parquet.Field
}

func (g orderedGroup) Fields() []parquet.Field { return g.fields }

type orderedField struct {
	parquet.Node
	name string
}

func (f orderedField) Name() string                           { return f.name }
func (f orderedField) Value(base reflect.Value) reflect.Value { return reflect.Value{} }

// dictionaryLimit: text columns with at most this many distinct values per
// table are dictionary-encoded.
const dictionaryLimit = 1 << 14

// nodeOf returns the Parquet node of a column: UTF8 strings (dictionary
// encoded when they repeat), DATE dates, INT64 integers, DOUBLE floats,
// BOOLEAN booleans; optional when the column is nullable.
func nodeOf(c *Column) parquet.Node {
	var n parquet.Node
	switch c.Type {
	case String:
		n = parquet.String()
		if distinctAtMost(c.Strings, dictionaryLimit) {
			n = parquet.Encoded(n, &parquet.RLEDictionary)
		}
	case Int:
		n = parquet.Int(64)
	case Float:
		n = parquet.Leaf(parquet.DoubleType)
	case Bool:
		n = parquet.Leaf(parquet.BooleanType)
	case Date:
		n = parquet.Date()
	}
	if c.Nullable || c.Valid != nil {
		return parquet.Optional(n)
	}
	return parquet.Required(n)
}

func distinctAtMost(s []string, limit int) bool {
	seen := make(map[string]struct{})
	for _, v := range s {
		seen[v] = struct{}{}
		if len(seen) > limit {
			return false
		}
	}
	return true
}

// Schema returns the Parquet schema of t, columns in table order.
func Schema(t *Table) *parquet.Schema {
	g := orderedGroup{Group: parquet.Group{}}
	for _, c := range t.Columns {
		n := nodeOf(c)
		g.Group[c.Name] = n
		g.fields = append(g.fields, orderedField{Node: n, name: c.Name})
	}
	return parquet.NewSchema(t.Name, g)
}

// WriteParquet writes t as one Parquet file to w: Snappy-compressed, at
// most rowGroupRows rows per row group (≤ 0: DefaultRowGroupRows), with the
// given key/value metadata in the footer.
func WriteParquet(w io.Writer, t *Table, rowGroupRows int, meta map[string]string) error {
	if err := t.Check(); err != nil {
		return fmt.Errorf("exports: %w", err)
	}
	if rowGroupRows <= 0 {
		rowGroupRows = DefaultRowGroupRows
	}
	schema := Schema(t)
	opts := []parquet.WriterOption{schema, parquet.Compression(&parquet.Snappy), parquet.MaxRowsPerRowGroup(int64(rowGroupRows)),
		parquet.CreatedBy("dotm", "", "")}
	for _, k := range sortedKeys(meta) {
		opts = append(opts, parquet.KeyValueMetadata(k, meta[k]))
	}
	pw := parquet.NewWriter(w, opts...)
	n := t.Rows()
	buf := make([]parquet.Value, 0, min(rowGroupRows, n))
	for start := 0; start < n; start += rowGroupRows {
		end := min(start+rowGroupRows, n)
		cws := pw.ColumnWriters()
		for j, c := range t.Columns {
			optional := c.Nullable || c.Valid != nil
			buf = buf[:0]
			for i := start; i < end; i++ {
				buf = append(buf, parquetValue(c, i, optional, j))
			}
			if _, err := cws[j].WriteRowValues(buf); err != nil {
				return fmt.Errorf("exports: table %s: column %s: %w", t.Name, c.Name, err)
			}
		}
		if err := pw.Flush(); err != nil {
			return fmt.Errorf("exports: table %s: %w", t.Name, err)
		}
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("exports: table %s: %w", t.Name, err)
	}
	return nil
}

func parquetValue(c *Column, i int, optional bool, col int) parquet.Value {
	if c.IsNull(i) {
		return parquet.NullValue().Level(0, 0, col)
	}
	var v parquet.Value
	switch c.Type {
	case String:
		// The writer copies the bytes into its page buffer, so the
		// string's memory can be lent without a copy.
		s := c.Strings[i]
		v = parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(s), len(s)))
	case Int:
		v = parquet.Int64Value(c.Ints[i])
	case Date:
		v = parquet.Int32Value(int32(c.Ints[i]))
	case Float:
		v = parquet.DoubleValue(c.Floats[i])
	case Bool:
		v = parquet.BooleanValue(c.Bools[i])
	}
	def := 0
	if optional {
		def = 1
	}
	return v.Level(0, def, col)
}
