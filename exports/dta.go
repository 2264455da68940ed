package exports

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Stata .dta files, format 118 (Stata 14 and later; read by Stata 14–19,
// R's haven and readstata13, pandas.read_stata, SPSS): one file per table.
//
// The layout follows Stata's "dta file format 118" description: an XML-like
// envelope of tagged sections (header, map of section offsets, variable
// types, names, sort list, formats, value-label names, variable labels,
// characteristics, data, strLs, value labels), little-endian ("LSF").
//
// Columns become:
//   - integers: byte, int or long, the smallest that holds the column's
//     range (Stata reserves the top of each range for missing values), else
//     double;
//   - floats: double;
//   - dates: long with format %td (days since 1960-01-01);
//   - booleans: byte 0/1;
//   - text with value labels (a categorical answer): a numeric code with a
//     value label, as statistical offices' Stata files have them: the
//     choice names themselves when they are all integers, else 1, 2, … in
//     the order of the choices; a value without a label gets the next code,
//     labelled with itself;
//   - other text: str1 … str2045, or strL beyond 2045 bytes.
//
// Nulls are Stata's system missing value ".". Every variable has its label
// (80 characters at most, as Stata allows), every coded one a value label
// of the same name.
const (
	dtaStrLType = 32768
	dtaDouble   = 65526
	dtaLong     = 65528
	dtaInt      = 65529
	dtaByte     = 65530
	dtaMaxStr   = 2045
)

// Stata's system missing value "." of each numeric type.
const (
	dtaByteMissing = 101
	dtaIntMissing  = 32741
	dtaLongMissing = 2147483621
)

var dtaDoubleMissing = math.Float64frombits(0x7fe0000000000000)

// stataEpoch is 1960-01-01 in days since 1970-01-01.
const stataEpoch = -3653

// dtaVar is one variable of a .dta file.
type dtaVar struct {
	col    *Column
	name   string
	typ    uint16
	format string
	label  string
	// codes maps a text value to its numeric code (categorical text).
	codes map[string]int32
	// labels are the value labels (value → text), when any.
	labels map[int32]string
	// str: the bytes each row's text takes (str# or strL).
	width int
}

var stataName = regexp.MustCompile(`[^A-Za-z0-9_]`)

// stataReserved are names Stata does not accept for variables.
var stataReserved = map[string]bool{"_all": true, "_b": true, "byte": true, "_coef": true, "_cons": true, "double": true,
	"float": true, "if": true, "in": true, "int": true, "long": true, "_n": true, "_N": true, "_pi": true, "_pred": true,
	"_rc": true, "_skip": true, "str": true, "strL": true, "using": true, "with": true}

// stataNames turns column names into valid, distinct Stata names: letters,
// digits and _, not starting with a digit, not a reserved word (those get a
// leading _), 32 characters at most.
func stataNames(cols []*Column) []string {
	out := make([]string, len(cols))
	taken := map[string]bool{}
	for i, c := range cols {
		n := stataName.ReplaceAllString(c.Name, "_")
		if n == "" || n[0] >= '0' && n[0] <= '9' || stataReserved[n] {
			n = "_" + n
		}
		if len(n) > 32 {
			n = n[:32]
		}
		base := n
		for k := 2; taken[strings.ToLower(n)]; k++ {
			suffix := "_" + strconv.Itoa(k)
			n = base[:min(len(base), 32-len(suffix))] + suffix
		}
		taken[strings.ToLower(n)] = true
		out[i] = n
	}
	return out
}

// truncateUTF8 cuts s to at most n characters and max bytes, on a
// character boundary.
func truncateUTF8(s string, n, maxBytes int) string {
	if utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n])
	}
	for len(s) > maxBytes {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// planDTA chooses the Stata type, format and labels of every column.
func planDTA(t *Table, langs []string) []*dtaVar {
	names := stataNames(t.Columns)
	vars := make([]*dtaVar, len(t.Columns))
	for i, c := range t.Columns {
		v := &dtaVar{col: c, name: names[i], label: truncateUTF8(variableLabel(c, langs), 80, 320)}
		switch {
		case c.Type == String && len(c.Meta.Choices) > 0 && !c.Meta.Multiple:
			v.codes, v.labels = map[string]int32{}, map[int32]string{}
			numeric := true
			for _, ch := range c.Meta.Choices {
				if _, err := strconv.ParseInt(ch.Name, 10, 32); err != nil {
					numeric = false
				}
			}
			next := int32(1)
			for _, ch := range c.Meta.Choices {
				code := next
				if numeric {
					x, _ := strconv.ParseInt(ch.Name, 10, 32)
					code = int32(x)
				}
				if _, dup := v.codes[ch.Name]; dup {
					continue
				}
				v.codes[ch.Name] = code
				v.labels[code] = choiceLabel(ch, langs)
				next = max(next, code) + 1
			}
			for r, s := range c.Strings {
				if c.IsNull(r) {
					continue
				}
				if _, ok := v.codes[s]; !ok {
					v.codes[s] = next
					v.labels[next] = s
					if s == "" {
						v.labels[next] = "(empty)"
					}
					next++
				}
			}
			lo, hi := int64(math.MaxInt32), int64(math.MinInt32)
			for _, code := range v.codes {
				lo, hi = min(lo, int64(code)), max(hi, int64(code))
			}
			v.typ, v.format = intType(lo, hi)
		case c.Type == String:
			for r, s := range c.Strings {
				if !c.IsNull(r) {
					v.width = max(v.width, len(s))
				}
			}
			v.width = max(v.width, 1)
			if v.width > dtaMaxStr {
				v.typ, v.format = dtaStrLType, "%9s"
			} else {
				v.typ, v.format = uint16(v.width), "%-"+strconv.Itoa(min(v.width, 40))+"s"
			}
		case c.Type == Int:
			lo, hi := int64(0), int64(0)
			for r, x := range c.Ints {
				if !c.IsNull(r) {
					lo, hi = min(lo, x), max(hi, x)
				}
			}
			v.typ, v.format = intType(lo, hi)
			if len(c.Meta.Choices) > 0 {
				v.labels = map[int32]string{}
				for _, ch := range c.Meta.Choices {
					if x, err := strconv.ParseInt(ch.Name, 10, 32); err == nil {
						v.labels[int32(x)] = choiceLabel(ch, langs)
					}
				}
			}
		case c.Type == Date:
			v.typ, v.format = dtaLong, "%td"
		case c.Type == Bool:
			v.typ, v.format = dtaByte, "%8.0g"
		default:
			v.typ, v.format = dtaDouble, "%10.0g"
		}
		vars[i] = v
	}
	return vars
}

// intType is the smallest Stata integer type for [lo, hi], else double.
func intType(lo, hi int64) (uint16, string) {
	switch {
	case lo >= -127 && hi <= 100:
		return dtaByte, "%8.0g"
	case lo >= -32767 && hi <= 32740:
		return dtaInt, "%8.0g"
	case lo >= -2147483647 && hi <= 2147483620:
		return dtaLong, "%12.0g"
	}
	return dtaDouble, "%10.0g"
}

// WriteDTA writes t as a Stata 118 .dta file to w, labelled "label" (80
// characters at most are kept) and stamped with created.
func WriteDTA(w io.Writer, t *Table, langs []string, label string, created time.Time) error {
	if err := t.Check(); err != nil {
		return fmt.Errorf("exports: %w", err)
	}
	if len(t.Columns) > 32767 {
		return fmt.Errorf("exports: table %s: %d columns; a .dta file holds at most 32767", t.Name, len(t.Columns))
	}
	vars := planDTA(t, langs)
	n := t.Rows()
	var b bytes.Buffer
	le := binary.LittleEndian
	u16 := func(x uint16) { b.Write(le.AppendUint16(nil, x)) }
	u32 := func(x uint32) { b.Write(le.AppendUint32(nil, x)) }
	u64 := func(x uint64) { b.Write(le.AppendUint64(nil, x)) }
	fixed := func(s string, size int) {
		buf := make([]byte, size)
		copy(buf, s)
		b.Write(buf)
	}
	var offsets [14]uint64
	b.WriteString("<stata_dta><header><release>118</release><byteorder>LSF</byteorder><K>")
	u16(uint16(len(vars)))
	b.WriteString("</K><N>")
	u64(uint64(n))
	b.WriteString("</N><label>")
	label = truncateUTF8(label, 80, 320)
	u16(uint16(len(label)))
	b.WriteString(label)
	b.WriteString("</label><timestamp>")
	ts := created.UTC().Format("02 Jan 2006 15:04")
	b.WriteByte(byte(len(ts)))
	b.WriteString(ts)
	b.WriteString("</timestamp></header>")
	offsets[1] = uint64(b.Len())
	b.WriteString("<map>")
	mapAt := b.Len()
	b.Write(make([]byte, 8*14))
	b.WriteString("</map>")
	offsets[2] = uint64(b.Len())
	b.WriteString("<variable_types>")
	for _, v := range vars {
		u16(v.typ)
	}
	b.WriteString("</variable_types>")
	offsets[3] = uint64(b.Len())
	b.WriteString("<varnames>")
	for _, v := range vars {
		fixed(v.name, 129)
	}
	b.WriteString("</varnames>")
	offsets[4] = uint64(b.Len())
	b.WriteString("<sortlist>")
	b.Write(make([]byte, 2*(len(vars)+1)))
	b.WriteString("</sortlist>")
	offsets[5] = uint64(b.Len())
	b.WriteString("<formats>")
	for _, v := range vars {
		fixed(v.format, 57)
	}
	b.WriteString("</formats>")
	offsets[6] = uint64(b.Len())
	b.WriteString("<value_label_names>")
	for _, v := range vars {
		if len(v.labels) > 0 {
			fixed(v.name, 129)
		} else {
			fixed("", 129)
		}
	}
	b.WriteString("</value_label_names>")
	offsets[7] = uint64(b.Len())
	b.WriteString("<variable_labels>")
	for _, v := range vars {
		fixed(v.label, 321)
	}
	b.WriteString("</variable_labels>")
	offsets[8] = uint64(b.Len())
	b.WriteString("<characteristics></characteristics>")
	offsets[9] = uint64(b.Len())
	b.WriteString("<data>")
	type strl struct {
		v, o uint64
		s    string
	}
	var strls []strl
	for r := 0; r < n; r++ {
		for j, v := range vars {
			c := v.col
			null := c.IsNull(r)
			switch {
			case v.codes != nil:
				code := int64(0)
				if !null {
					code = int64(v.codes[c.Strings[r]])
				}
				writeDTAInt(&b, v.typ, code, null)
			case v.typ == dtaStrLType:
				if null || c.Strings[r] == "" {
					u64(0) // (v, o) = (0, 0): the empty string
					continue
				}
				s := strl{v: uint64(j + 1), o: uint64(r + 1), s: c.Strings[r]}
				strls = append(strls, s)
				u64(s.v | s.o<<16) // format 118: v in 2 bytes, o in 6
			case v.typ <= dtaMaxStr:
				s := ""
				if !null {
					s = c.Strings[r]
				}
				fixed(s, int(v.typ))
			case c.Type == Int:
				writeDTAInt(&b, v.typ, c.Ints[r], null)
			case c.Type == Date:
				writeDTAInt(&b, v.typ, c.Ints[r]-stataEpoch, null)
			case c.Type == Bool:
				x := int64(0)
				if !null && c.Bools[r] {
					x = 1
				}
				writeDTAInt(&b, v.typ, x, null)
			default:
				x := dtaDoubleMissing
				if !null {
					x = c.Floats[r]
					if math.IsNaN(x) || math.IsInf(x, 0) {
						x = dtaDoubleMissing
					}
				}
				u64(math.Float64bits(x))
			}
		}
	}
	b.WriteString("</data>")
	offsets[10] = uint64(b.Len())
	b.WriteString("<strls>")
	for _, s := range strls {
		b.WriteString("GSO")
		u32(uint32(s.v))
		u64(s.o)
		b.WriteByte(130) // ASCII/UTF-8 text, stored with its terminating NUL
		u32(uint32(len(s.s) + 1))
		b.WriteString(s.s)
		b.WriteByte(0)
	}
	b.WriteString("</strls>")
	offsets[11] = uint64(b.Len())
	b.WriteString("<value_labels>")
	for _, v := range vars {
		if len(v.labels) == 0 {
			continue
		}
		values := make([]int32, 0, len(v.labels))
		for x := range v.labels {
			values = append(values, x)
		}
		sort.Slice(values, func(i, j int) bool { return values[i] < values[j] })
		var txt []byte
		off := make([]uint32, len(values))
		for i, x := range values {
			off[i] = uint32(len(txt))
			txt = append(txt, truncateUTF8(v.labels[x], 32000, 32000)...)
			txt = append(txt, 0)
		}
		b.WriteString("<lbl>")
		u32(uint32(8 + 8*len(values) + len(txt)))
		fixed(v.name, 129)
		b.Write([]byte{0, 0, 0})
		u32(uint32(len(values)))
		u32(uint32(len(txt)))
		for _, o := range off {
			u32(o)
		}
		for _, x := range values {
			u32(uint32(x))
		}
		b.Write(txt)
		b.WriteString("</lbl>")
	}
	b.WriteString("</value_labels>")
	offsets[12] = uint64(b.Len())
	b.WriteString("</stata_dta>")
	offsets[13] = uint64(b.Len())
	out := b.Bytes()
	for i, o := range offsets {
		le.PutUint64(out[mapAt+8*i:], o)
	}
	_, err := w.Write(out)
	return err
}

// writeDTAInt writes x (or missing) as a Stata byte, int, long or double.
func writeDTAInt(b *bytes.Buffer, typ uint16, x int64, null bool) {
	le := binary.LittleEndian
	switch typ {
	case dtaByte:
		if null {
			x = dtaByteMissing
		}
		b.WriteByte(byte(int8(x)))
	case dtaInt:
		if null {
			x = dtaIntMissing
		}
		b.Write(le.AppendUint16(nil, uint16(int16(x))))
	case dtaLong:
		if null {
			x = dtaLongMissing
		}
		b.Write(le.AppendUint32(nil, uint32(int32(x))))
	default:
		f := float64(x)
		if null {
			f = dtaDoubleMissing
		}
		b.Write(le.AppendUint64(nil, math.Float64bits(f)))
	}
}
