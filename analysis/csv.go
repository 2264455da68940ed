package analysis

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/dotm-survey/dotm/internal/csvsafe"
	"github.com/dotm-survey/dotm/internal/suggest"
)

// ReadCSV reads a comma-separated file with a header row and returns the
// columns named in want (nil: every column). A column is numeric when every
// value parses as a number, "", "NA" or "NaN" (those three are missing);
// otherwise it is text, with "NA" missing, as R's read.csv decides.
// Quoted fields follow RFC 4180. Errors name the row and column.
func ReadCSV(r io.Reader, want []string) (*Table, error) {
	buf, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read csv: %w", err)
	}
	return ParseCSV(buf, want)
}

// cell is a field's position in the buffer.
type cell struct{ start, end uint32 }

// ParseCSV is [ReadCSV] over a buffer it keeps no reference to after it
// returns.
func ParseCSV(buf []byte, want []string) (*Table, error) {
	if len(buf) >= 1<<32-1 {
		return nil, fmt.Errorf("csv: the file is %d bytes; at most 4 GiB can be read into memory (use Parquet)", len(buf))
	}
	buf = bytes.TrimPrefix(buf, []byte("\xef\xbb\xbf"))
	nl := bytes.IndexByte(buf, '\n')
	var header []byte
	if nl < 0 {
		header, buf = buf, nil
	} else {
		header, buf = buf[:nl], buf[nl+1:]
	}
	hs, want, err := csvHeader(header, want)
	if err != nil {
		return nil, err
	}
	return parseBody(buf, hs, want, nil, 0, nil)
}

// csvHeader splits the header line and checks want against it (nil want:
// every column).
func csvHeader(header []byte, want []string) (hs, wanted []string, err error) {
	header = bytes.TrimSuffix(header, []byte("\r"))
	hs, err = splitLine(header, 1)
	if err != nil {
		return nil, nil, err
	}
	if err := csvsafe.CheckSeparator("", hs); err != nil {
		return nil, nil, err
	}
	pos := map[string]int{}
	for i, h := range hs {
		if _, dup := pos[h]; dup {
			return nil, nil, fmt.Errorf("csv: header names column %q twice", h)
		}
		pos[h] = i
	}
	if want == nil {
		want = hs
	}
	for _, name := range want {
		if _, ok := pos[name]; !ok {
			if hint := suggest.DidYouMean(name, hs); hint != "" {
				return nil, nil, fmt.Errorf("csv: no column %q in the header; %s", name, hint)
			}
			return nil, nil, fmt.Errorf("csv: no column %q in the header (its %d columns: %s)", name, len(hs), listNames(hs))
		}
	}
	return hs, want, nil
}

// listNames is names joined by commas, the first 15 of them.
func listNames(names []string) string {
	if len(names) > 15 {
		return strings.Join(names[:15], ", ") + ", …"
	}
	return strings.Join(names, ", ")
}

// parseBody parses the lines of buf (no header) into the columns want of
// header hs. Columns k with text[k] are text whatever their values; rowBase
// is the number of data rows before buf in the file, for error messages.
// A non-nil sp lends the block its scratch memory and the columns' final
// slices: numbers are written straight after dst[k]'s values when its
// capacity allows (see [csvAcc.add]), and the field positions reuse the
// previous block's memory.
func parseBody(buf []byte, hs, want []string, text []bool, rowBase int, sp *csvSpace) (*Table, error) {
	if len(buf) >= 1<<32-1 {
		return nil, fmt.Errorf("csv: a block of %d bytes; at most 4 GiB can be read into memory (use Parquet)", len(buf))
	}
	pos := make(map[string]int, len(hs))
	for i, h := range hs {
		pos[h] = i
	}
	// colOf[fieldIndex] = wanted column index or −1.
	colOf := make([]int, len(hs))
	for i := range colOf {
		colOf[i] = -1
	}
	for k, name := range want {
		colOf[pos[name]] = k
	}
	lastField := 0
	for i, c := range colOf {
		if c >= 0 {
			lastField = i
		}
	}
	skip := make([]int, lastField+1)
	for f := lastField; f >= 0; f-- {
		if colOf[f] < 0 {
			skip[f] = 1
			if f < lastField {
				skip[f] += skip[f+1]
			}
		}
	}
	// Chunks of whole lines; quoted newlines force one chunk.
	nchunk := runtime.GOMAXPROCS(0)
	if bytes.IndexByte(buf, '"') >= 0 || len(buf) < 1<<20 {
		nchunk = 1
	}
	bounds := []int{0}
	for c := 1; c < nchunk; c++ {
		at := len(buf) * c / nchunk
		j := bytes.IndexByte(buf[at:], '\n')
		if j < 0 {
			break
		}
		if at+j+1 > bounds[len(bounds)-1] {
			bounds = append(bounds, at+j+1)
		}
	}
	bounds = append(bounds, len(buf))
	nchunk = len(bounds) - 1
	rowsIn := make([]int, nchunk)
	for c := 0; c < nchunk; c++ {
		rowsIn[c] = countLines(buf[bounds[c]:bounds[c+1]])
	}
	n := 0
	firstRow := make([]int, nchunk)
	for c := range rowsIn {
		firstRow[c] = n
		n += rowsIn[c]
	}
	cells := make([][]cell, len(want))
	nums := make([][]float64, len(want))
	// A column known to be text is coded as it is scanned, into its
	// accumulator's codes: the whole file's when sp lends one.
	accs := make([]*csvAcc, len(want))
	bases := make([]int, len(want))
	codes := make([][]int32, len(want))
	for k := range want {
		if k < len(text) && text[k] {
			if sp != nil && k < len(sp.text) && sp.text[k] != nil {
				accs[k] = sp.text[k]
			} else {
				accs[k] = &csvAcc{}
			}
			a := accs[k]
			bases[k] = len(a.codes)
			a.codes = slices.Grow(a.codes, n)[:bases[k]+n]
			codes[k] = a.codes[bases[k]:]
			continue
		}
		if sp != nil && k < len(sp.cells) && cap(sp.cells[k]) >= n {
			cells[k] = sp.cells[k][:n]
		} else if sp != nil {
			cells[k] = make([]cell, n, n+n/4) // room for the next blocks' longer runs of short lines
		} else {
			cells[k] = make([]cell, n)
		}
		if sp != nil && k < len(sp.dst) && cap(sp.dst[k])-len(sp.dst[k]) >= n {
			d := sp.dst[k]
			nums[k] = d[len(d) : len(d)+n : len(d)+n]
		} else {
			nums[k] = make([]float64, n)
		}
	}
	if sp != nil {
		sp.cells = cells
	}
	notNum := make([][]bool, nchunk)
	scanned := make([]int, nchunk) // rows found: fewer than lines when quoted fields hold newlines
	levels := make([][][]string, nchunk)
	errs := make([]error, nchunk)
	var wg sync.WaitGroup
	for c := 0; c < nchunk; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			notNum[c] = make([]bool, len(want))
			copy(notNum[c], text)
			sc := &scanner{buf: buf, colOf: colOf, skip: skip, lastField: lastField, nf: len(hs), cells: cells, nums: nums, notNum: notNum[c], hs: hs, rowBase: rowBase,
				isText: text, codes: codes, dict: make([]map[string]int32, len(want)), levels: make([][]string, len(want)),
				prev: make([][]byte, len(want)), prevRow: make([]int, len(want))}
			for k := range sc.prevRow {
				sc.prevRow[k] = -2
			}
			errs[c] = sc.scan(bounds[c], bounds[c+1], firstRow[c], rowsIn[c])
			scanned[c] = sc.rows
			levels[c] = sc.levels
		}(c)
	}
	wg.Wait()
	undo := func() { // the accumulators as they were before this block
		for k, a := range accs {
			if a != nil {
				a.codes = a.codes[:bases[k]]
			}
		}
	}
	for c := range errs {
		if errs[c] != nil {
			undo()
			return nil, errs[c]
		}
	}
	// The fast path keeps no field positions of a numeric column: one that
	// turned out to be text in this block is read again as text.
	var again []bool
	for c := range notNum {
		for k := range want {
			if notNum[c][k] && !(k < len(text) && text[k]) {
				if again == nil {
					again = make([]bool, len(want))
					copy(again, text)
				}
				again[k] = true
			}
		}
	}
	if again != nil {
		undo()
		return parseBody(buf, hs, want, again, rowBase, sp)
	}
	if nchunk == 1 && scanned[0] < n { // (quotes make one chunk)
		n = scanned[0]
		for k := range want {
			if nums[k] != nil {
				nums[k] = nums[k][:n]
			}
			if accs[k] != nil {
				codes[k] = codes[k][:n]
				accs[k].codes = accs[k].codes[:bases[k]+n]
			}
		}
	}
	t := NewTable(n)
	cols := make([]*Column, len(want))
	var wg2 sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for k := range want {
		wg2.Add(1)
		sem <- struct{}{}
		go func(k int) {
			defer wg2.Done()
			if a := accs[k]; a != nil {
				var chunkLevels [][]string
				for c := range levels {
					chunkLevels = append(chunkLevels, levels[c][k])
				}
				a.merge(codes[k], firstRow, scanned, chunkLevels)
				cols[k] = &Column{Name: want[k], Codes: codes[k], Levels: a.levels}
			} else {
				cols[k] = &Column{Name: want[k], Num: nums[k]}
			}
			<-sem
		}(k)
	}
	wg2.Wait()
	for _, c := range cols {
		t.add(c)
	}
	return t, nil
}

func countLines(b []byte) int {
	n := bytes.Count(b, []byte{'\n'})
	if len(b) > 0 && b[len(b)-1] != '\n' {
		n++
	}
	// A trailing empty line ("\n\n" at the end) is not a row.
	return n
}

// scanner splits one chunk of lines: it records where each wanted field
// is and parses it as a number while the line is in cache, until a value
// of that column turns out not to be a number.
type scanner struct {
	buf       []byte
	colOf     []int
	skip      []int // skip[f]: fields from f not wanted, up to the next wanted one (0 when f is wanted)
	lastField int
	nf        int
	cells     [][]cell
	nums      [][]float64
	notNum    []bool
	hs        []string
	rowBase   int // data rows before buf, for messages
	rows      int // rows scanned

	// Columns known to be text (isText) are coded as they are scanned:
	// codes[k][row] indexes levels[k], the chunk's own levels of column k
	// in order of first use, found through dict[k]; "NA" is −1.
	isText []bool
	codes  [][]int32
	dict   []map[string]int32
	levels [][]string
	// prev[k] is column k's field of row prevRow[k] (text columns, and the
	// numbers the fast path hands to strconv): a row with the same text
	// takes that row's value.
	prev    [][]byte
	prevRow []int
	// The fast path parses a tile of rows into tile, row by row (row
	// tileRow+r's column k at r·len(nums)+k), and copies each numeric
	// column's part out at once: with many columns, writing every row into
	// as many arrays is slower than the copy.
	tile    []float64
	tileRow int
}

// tileRows is the height of the fast path's tile.
const tileRows = 64

// set stores v as numeric column k's value of row.
func (sc *scanner) set(k, row int, v float64) {
	if sc.tile != nil {
		sc.tile[(row-sc.tileRow)*len(sc.nums)+k] = v
		return
	}
	sc.nums[k][row] = v
}

// get is numeric column k's value of row, once set.
func (sc *scanner) get(k, row int) float64 {
	if sc.tile != nil && row >= sc.tileRow {
		return sc.tile[(row-sc.tileRow)*len(sc.nums)+k]
	}
	return sc.nums[k][row]
}

// flush copies the tile's rows before row into the numeric columns.
func (sc *scanner) flush(row int) {
	nk := len(sc.nums)
	for k, dst := range sc.nums {
		if dst == nil || sc.notNum[k] {
			continue // text, or turned text: the block is read again
		}
		dst = dst[sc.tileRow:row]
		for r := range dst {
			dst[r] = sc.tile[r*nk+k]
		}
	}
	sc.tileRow = row
}

// code sets text column k of row to the code of b.
func (sc *scanner) code(k, row int, b []byte) {
	switch {
	case sc.prevRow[k] == row-1 && bytes.Equal(b, sc.prev[k]):
		sc.codes[k][row] = sc.codes[k][row-1]
	case string(b) == "NA":
		sc.codes[k][row] = -1
	default:
		d := sc.dict[k]
		if d == nil {
			d = map[string]int32{}
			sc.dict[k] = d
		}
		c, ok := d[string(b)]
		if !ok {
			c = int32(len(sc.levels[k]))
			d[string(b)] = c
			sc.levels[k] = append(sc.levels[k], string(b))
		}
		sc.codes[k][row] = c
	}
	sc.prev[k], sc.prevRow[k] = b, row
}

// longNumber parses numeric field k of row (buf[start:end]) the general
// way, or takes the previous row's value when its text is the same
// (weights repeat within a PSU).
func (sc *scanner) longNumber(k, row, start, end int) {
	b := sc.buf[start:end]
	if sc.prevRow[k] == row-1 && bytes.Equal(b, sc.prev[k]) {
		sc.set(k, row, sc.get(k, row-1))
	} else {
		sc.numberAt(k, row, start, end)
	}
	sc.prev[k], sc.prevRow[k] = b, row
}

// scan handles rows [first, first+nrows) found in buf[from:to].
func (sc *scanner) scan(from, to, first, nrows int) error {
	buf, colOf, lastField, nf, cells, hs, rb := sc.buf, sc.colOf, sc.lastField, sc.nf, sc.cells, sc.hs, sc.rowBase
	row := first
	i := from
	if chunk := buf[from:to]; csvPlain && bytes.IndexByte(chunk, '"') < 0 && bytes.IndexByte(chunk, '\r') < 0 {
		i, row = sc.scanPlain(from, from+bytes.LastIndexByte(chunk, '\n')+1, first, first+nrows)
	}
	since := row // the rows this loop reads (their field positions are known)
	for i < to && row < first+nrows {
		field := 0
		for {
			var start, end int
			escaped := false // a quoted field with doubled quotes
			if i < to && buf[i] == '"' {
				j := i + 1
				hasEsc := false
				for {
					q := bytes.IndexByte(buf[j:to], '"')
					if q < 0 {
						return fmt.Errorf("csv: row %d, column %s: unterminated quoted field", rb+row+1, hs[min(field, len(hs)-1)])
					}
					j += q
					if j+1 < to && buf[j+1] == '"' {
						hasEsc = true
						j += 2
						continue
					}
					break
				}
				start, end = i+1, j
				escaped = hasEsc
				i = j + 1
			} else {
				start = i
				for i < to && buf[i] != ',' && buf[i] != '\n' {
					i++
				}
				end = i
				if end > start && buf[end-1] == '\r' && (i >= to || buf[i] == '\n') {
					end--
				}
			}
			if field < len(colOf) && colOf[field] >= 0 {
				k := colOf[field]
				switch {
				case sc.isText != nil && k < len(sc.isText) && sc.isText[k]:
					b := buf[start:end]
					if escaped {
						b = bytes.ReplaceAll(b, []byte(`""`), []byte(`"`))
					}
					sc.code(k, row, b)
				case !sc.notNum[k]:
					cells[k][row] = cell{uint32(start), uint32(end)}
					sc.number(k, row, since, start, end)
				}
			}
			if i < to && buf[i] == '\r' {
				i++
			}
			if i >= to || buf[i] == '\n' {
				i++
				break
			}
			if buf[i] != ',' {
				return fmt.Errorf("csv: row %d: unexpected character after a quoted field", rb+row+1)
			}
			i++
			field++
			if field > lastField {
				// Skip the rest of the line, unless a quoted field there
				// may hold a newline: then go on field by field.
				j := bytes.IndexByte(buf[i:to], '\n')
				if j < 0 {
					j = to - i
				}
				if bytes.IndexByte(buf[i:i+j], '"') < 0 {
					i = min(i+j+1, to)
					break
				}
			}
		}
		if field < lastField {
			return fmt.Errorf("csv: row %d has %d fields; the header has %d", rb+row+1, field+1, nf)
		}
		row++
	}
	sc.rows = row - first
	return nil
}

// csvPlain turns scan's fast path on (tests compare both paths).
var csvPlain = true

// fieldEnd marks the bytes that end a field of an unquoted line.
var fieldEnd = [256]bool{',': true, '\n': true}

// scanPlain is scan's fast path over the whole lines in buf[from:to] of a
// chunk with no quote and no carriage return: it splits each line once,
// parsing a numeric column's plain decimals as it goes (the same
// arithmetic as [parseNumber]) and handing anything else to [scanner.number].
// It stops at the first line it cannot take (too few fields) and returns
// where that line starts, so that scan reports it.
func (sc *scanner) scanPlain(from, to, first, stop int) (int, int) {
	buf, colOf, skip, lastField, notNum := sc.buf, sc.colOf, sc.skip, sc.lastField, sc.notNum
	nk := len(sc.nums)
	sc.tile, sc.tileRow = make([]float64, tileRows*nk), first

	row, i := first, from
	defer func() {
		sc.flush(row)
		sc.tile = nil
	}()
	var tile []float64 // this row's part of sc.tile
	for i < to && row < stop {
		if row-sc.tileRow == tileRows {
			sc.flush(row)
		}
		tile = sc.tile[(row-sc.tileRow)*nk:][:nk]
		line := i
		for f := 0; ; f++ {
			k := colOf[f]
			if k < 0 && f+skip[f] <= lastField { // not wanted, nor the fields up to a wanted one: skip them at once
				j, ok := skipFields(buf, i, skip[f])
				if !ok {
					return line, row // too few fields: scan says so
				}
				i, f = j, f+skip[f]
				k = colOf[f]
			}
			start := i
			if k >= 0 && !notNum[k] {
				j := i
				neg := false
				c := buf[j]
				if c == '-' || c == '+' {
					neg = c == '-'
					j++
				}
				var mant uint64
				digits, frac := 0, 0
				seenDot, long := false, false
				for {
					c = buf[j]
					if d := c - '0'; d < 10 {
						j++
						if mant == 0 && d == 0 && !seenDot {
							digits++
							continue
						}
						mant = mant*10 + uint64(d)
						digits++
						if seenDot {
							frac++
						}
						if digits > 15 {
							long = true
							break
						}
						continue
					}
					if c == '.' && !seenDot {
						seenDot = true
						j++
						continue
					}
					break
				}
				if !long && digits > 0 && (c == ',' || c == '\n') {
					v := float64(mant) / pow10[frac]
					if neg {
						v = -v
					}
					tile[k] = v
					i = j
				} else {
					for !fieldEnd[buf[i]] {
						i++
					}
					sc.longNumber(k, row, start, i)
				}
			} else {
				for !fieldEnd[buf[i]] {
					i++
				}
				if k >= 0 && k < len(sc.isText) && sc.isText[k] {
					sc.code(k, row, buf[start:i])
				}
			}
			if buf[i] == '\n' {
				if f < lastField {
					return line, row // too few fields: scan says so
				}
				i++
				break
			}
			i++
			if f == lastField {
				i += bytes.IndexByte(buf[i:to], '\n') + 1
				break
			}
		}
		row++
	}
	return i, row
}

// skipFields returns the position just past the m-th comma from i, eight
// bytes at a time; false when a newline comes first (the line has too few
// fields).
func skipFields(buf []byte, i, m int) (int, bool) {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	zero := func(x uint64) uint64 { // the high bit of each zero byte of x
		return ^(((x &^ highs) + ^uint64(highs)) | x | ^uint64(highs))
	}
	for i+8 <= len(buf) {
		w := binary.LittleEndian.Uint64(buf[i:])
		commas, newlines := zero(w^(','*ones)), zero(w^('\n'*ones))
		if newlines != 0 {
			commas &= 1<<bits.TrailingZeros64(newlines) - 1
		}
		if n := bits.OnesCount64(commas); n >= m {
			for ; m > 1; m-- {
				commas &= commas - 1
			}
			return i + bits.TrailingZeros64(commas)/8 + 1, true
		} else if newlines != 0 {
			return 0, false
		} else {
			m -= n
		}
		i += 8
	}
	for ; i < len(buf); i++ {
		switch buf[i] {
		case ',':
			if m--; m == 0 {
				return i + 1, true
			}
		case '\n':
			return 0, false
		}
	}
	return 0, false
}

// numberAt parses field k of row, or marks column k as text.
func (sc *scanner) numberAt(k, row, start, end int) {
	b := sc.buf[start:end]
	if len(b) == 0 || string(b) == "NA" || string(b) == "NaN" {
		sc.set(k, row, math.NaN())
		return
	}
	v, ok := parseNumber(b)
	if !ok {
		sc.notNum[k] = true
		return
	}
	sc.set(k, row, v)
}

// number parses field k of row, reusing the previous row's value when the
// text is the same (design columns repeat within a PSU).
func (sc *scanner) number(k, row, first, start, end int) {
	b := sc.buf[start:end]
	if row > first {
		p := sc.cells[k][row-1]
		if bytes.Equal(b, sc.buf[p.start:p.end]) {
			sc.nums[k][row] = sc.nums[k][row-1]
			return
		}
	}
	sc.numberAt(k, row, start, end)
}

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseNumber parses a decimal number. Plain decimals with at most 15
// significant digits take an exact fast path (both the integer mantissa and
// the power of ten are exact doubles, so one correctly rounded division
// gives the correctly rounded result); anything else goes to strconv.
func parseNumber(b []byte) (float64, bool) {
	i := 0
	neg := false
	if b[0] == '-' || b[0] == '+' {
		neg = b[0] == '-'
		i++
	}
	var mant uint64
	digits, frac := 0, 0
	seenDot := false
	for ; i < len(b); i++ {
		c := b[i]
		if c >= '0' && c <= '9' {
			if mant == 0 && c == '0' && !seenDot {
				digits++
				continue
			}
			mant = mant*10 + uint64(c-'0')
			digits++
			if seenDot {
				frac++
			}
			if digits > 15 {
				return slowParse(b)
			}
			continue
		}
		if c == '.' && !seenDot {
			seenDot = true
			continue
		}
		return slowParse(b)
	}
	if digits == 0 {
		return slowParse(b)
	}
	v := float64(mant) / pow10[frac]
	if neg {
		v = -v
	}
	return v, true
}

func slowParse(b []byte) (float64, bool) {
	v, err := strconv.ParseFloat(unsafe.String(&b[0], len(b)), 64)
	if err != nil {
		return 0, false
	}
	return v, true
}

// splitLine splits the header line into field names.
func splitLine(line []byte, row int) ([]string, error) {
	r := csv.NewReader(bytes.NewReader(line))
	r.FieldsPerRecord = -1
	rec, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("csv: row %d (header): %w", row, err)
	}
	for i, h := range rec {
		if h == "" {
			return nil, fmt.Errorf("csv: header field %d is empty", i+1)
		}
	}
	return rec, nil
}

// csvBlock is the size of the blocks ReadCSVAt parses one after the other
// (a variable so that tests can make blocks of a few lines).
var csvBlock = 4 << 20

// ReadCSVAt is [ReadCSV] over a file of size bytes that it reads block by
// block (4 MiB of whole lines at a time, each parsed in parallel), so that
// it holds the columns it returns and about one block, never the whole
// file. A column is numeric when it is numeric in every block; a column
// that turns out to be text in a later block has its earlier blocks read
// again as text.
func ReadCSVAt(r io.ReaderAt, size int64, want []string) (*Table, error) {
	// The header: the first line.
	var header []byte
	var off int64
	for n := int64(1 << 16); ; n *= 2 {
		b := make([]byte, min(n, size))
		if _, err := r.ReadAt(b, 0); err != nil && err != io.EOF {
			return nil, fmt.Errorf("read csv: %w", err)
		}
		if nl := bytes.IndexByte(b, '\n'); nl >= 0 {
			header, off = b[:nl], int64(nl+1)
			break
		}
		if int64(len(b)) == size {
			header, off = b, size
			break
		}
	}
	bom := []byte("\xef\xbb\xbf")
	header = bytes.TrimPrefix(header, bom)
	hs, want, err := csvHeader(header, want)
	if err != nil {
		return nil, err
	}
	cols := make([]csvAcc, len(want))
	text := make([]bool, len(want))
	space := csvSpace{dst: make([][]float64, len(want))}
	var blocks [][2]int64 // offset and length of each block read
	rows := 0
	// Two buffers: the next block is read into one while the other is
	// parsed.
	blk := min(int64(csvBlock), max(size-off, 0))
	bufs := [2][]byte{make([]byte, blk), make([]byte, blk)}
	cur := 0
	type readResult struct {
		off, n int64
		err    error
		done   chan struct{}
	}
	var ahead *readResult
	readAhead := func(buf []byte, at int64) *readResult {
		rr := &readResult{off: at, n: min(int64(len(buf)), size-at), done: make(chan struct{})}
		go func() {
			defer close(rr.done)
			if _, err := r.ReadAt(buf[:rr.n], at); err != nil && err != io.EOF {
				rr.err = err
			}
		}()
		return rr
	}
	for off < size {
		buf := bufs[cur]
		n := min(int64(len(buf)), size-off)
		b := buf[:n]
		if ahead != nil && ahead.off == off && ahead.n == n {
			<-ahead.done
			if ahead.err != nil {
				return nil, fmt.Errorf("read csv: %w", ahead.err)
			}
		} else if _, err := r.ReadAt(b, off); err != nil && err != io.EOF {
			return nil, fmt.Errorf("read csv: %w", err)
		}
		ahead = nil
		if off+n < size {
			cut := lineCut(b)
			if cut <= 0 { // one line longer than a block
				bufs = [2][]byte{make([]byte, 2*len(buf)), make([]byte, 2*len(buf))}
				continue
			}
			b = b[:cut]
		}
		if next := off + int64(len(b)); next < size {
			ahead = readAhead(bufs[1-cur], next)
		}
		space.text = make([]*csvAcc, len(want))
		inPlace := make([]bool, len(want))
		for k := range cols {
			space.dst[k] = cols[k].num
			if text[k] {
				space.text[k], inPlace[k] = &cols[k], true
			}
		}
		t, err := parseBody(b, hs, want, text, rows, &space)
		if err != nil {
			if ahead != nil {
				<-ahead.done
			}
			return nil, err
		}
		if rows == 0 && t.Len() > 0 && off+int64(len(b)) < size {
			// Room for the whole file's rows, estimated from the first block
			// with a margin: growing a column past it would copy it into
			// fresh memory, while room never written to is never touched.
			est := int(float64(t.Len())*float64(size-off)/float64(len(b))*1.3) + 16
			for k := range cols {
				if t.cols[want[k]].IsText() {
					cols[k].codes = bigMake[int32](0, est)
				} else {
					cols[k].num = bigMake[float64](0, est)
				}
			}
		}
		for k, name := range want {
			c := t.cols[name]
			if c.IsText() && !text[k] && len(blocks) > 0 {
				// Numeric until this block: read the earlier blocks again as text.
				text[k] = true
				cols[k] = csvAcc{}
				before := 0
				for _, blk := range blocks {
					bb := make([]byte, blk[1])
					if _, err := r.ReadAt(bb, blk[0]); err != nil && err != io.EOF {
						return nil, fmt.Errorf("read csv: %w", err)
					}
					only := make([]bool, len(want))
					only[k] = true
					tt, err := parseBody(bb, hs, want[k:k+1], only[k:k+1], before, nil)
					if err != nil {
						return nil, err
					}
					before += tt.Len()
					cols[k].add(tt.cols[name])
				}
			}
			if c.IsText() {
				text[k] = true
			}
			if !inPlace[k] {
				cols[k].add(c)
			}
		}
		blocks = append(blocks, [2]int64{off, int64(len(b))})
		rows += t.Len()
		off += int64(len(b))
		cur = 1 - cur
	}
	t := NewTable(rows)
	for k, name := range want {
		c := &cols[k]
		if text[k] {
			if c.codes == nil {
				c.codes = []int32{}
			}
			t.add(&Column{Name: name, Codes: c.codes, Levels: c.levels})
		} else {
			if c.num == nil {
				c.num = []float64{}
			}
			t.add(&Column{Name: name, Num: c.num})
		}
	}
	return t, nil
}

// lineCut is the length of the whole lines at the start of b (0 when
// there is none): up to the last newline that ends a row, with the
// scanner's rules for quotes (a quote opens a quoted field only at the
// field's start, and "" inside one is a quote).
func lineCut(b []byte) int {
	if bytes.IndexByte(b, '"') < 0 {
		return bytes.LastIndexByte(b, '\n') + 1
	}
	last, i, fieldStart := 0, 0, true
	for i < len(b) {
		c := b[i]
		if fieldStart && c == '"' {
			j := i + 1
			for {
				q := bytes.IndexByte(b[j:], '"')
				if q < 0 || j+q+1 >= len(b) {
					return last // the field (or whether its last quote is doubled) goes on past b
				}
				j += q
				if b[j+1] == '"' {
					j += 2
					continue
				}
				break
			}
			i, fieldStart = j+1, false
			continue
		}
		switch c {
		case ',':
			fieldStart = true
		case '\n':
			last, fieldStart = i+1, true
		default:
			fieldStart = false
		}
		i++
	}
	return last
}

// csvSpace is the memory ReadCSVAt lends parseBody from block to block:
// the columns' final slices to parse numbers into, and field positions.
type csvSpace struct {
	dst   [][]float64
	cells [][]cell
	text  []*csvAcc // the whole file's text columns, coded in place
}

// csvAcc gathers one column over the blocks: numbers, or codes into the
// levels in order of first use.
type csvAcc struct {
	num    []float64
	codes  []int32
	levels []string
	lookup map[string]int32
}

// merge turns the chunk-local codes of a block's text column into codes
// of the accumulator's levels: chunk c's rows start at first[c], there
// are rows[c] of them, and their codes index levels[c]. Levels are the
// text as dotm's CSV writers escape it, undone (only a leading quote can
// change it), so two spellings share one code; they keep the order of
// first use.
func (a *csvAcc) merge(codes []int32, first, rows []int, levels [][]string) {
	for c, lv := range levels {
		remap := make([]int32, len(lv))
		same := true
		for i, l := range lv {
			code := a.level(csvsafe.Unescape(l))
			remap[i] = code
			same = same && code == int32(i)
		}
		if same {
			continue
		}
		for i, code := range codes[first[c] : first[c]+rows[c]] {
			if code >= 0 {
				codes[first[c]+i] = remap[code]
			}
		}
	}
}

// level is the code of level l, added at the end if new.
func (a *csvAcc) level(l string) int32 {
	if a.lookup == nil {
		a.lookup = map[string]int32{}
	}
	code, ok := a.lookup[l]
	if !ok {
		code = int32(len(a.levels))
		a.lookup[l] = code
		a.levels = append(a.levels, l)
	}
	return code
}

func (a *csvAcc) add(c *Column) {
	if !c.IsText() {
		n, m := len(a.num), len(c.Num)
		if m > 0 && cap(a.num)-n >= m && &a.num[:n+1][n] == &c.Num[0] {
			a.num = a.num[:n+m] // parsed in place (parseBody's dst)
			return
		}
		a.num = append(a.num, c.Num...)
		return
	}
	remap := make([]int32, len(c.Levels))
	for i, l := range c.Levels {
		remap[i] = a.level(l)
	}
	for _, code := range c.Codes {
		if code >= 0 {
			code = remap[code]
		}
		a.codes = append(a.codes, code)
	}
}
