package questionnaire

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// MediaNeed is a file the form reads that it does not carry itself: the
// file of a select_one_from_file or select_multiple_from_file, the CSV of
// pulldata('x', …) (x.csv), or a csv-external / xml-external instance (name
// .csv / name .xml). The server stores these files with the form version
// and lists them in its OpenRosa manifest.
type MediaNeed struct {
	Name string // file name, as the XForm names it ("towns.csv")
	// Columns are the CSV columns the form reads: name and label of a
	// select's file (or its value= and label= parameters), the columns and
	// key columns of pulldata() calls written with literal names.
	Columns []string
	// Rows are the survey rows that need the file.
	Rows []int
}

// mediaColRE matches a media column's header: image, big-image, audio or
// video, with media:: before it and ::language after it optional.
var mediaColRE = regexp.MustCompile(`^(?:media::)?(image|big-image|audio|video)(?:::(.*))?$`)

// pulldataArgsRE finds pulldata('file', 'column', 'keycolumn', …) with
// literal names.
var pulldataArgsRE = regexp.MustCompile(`pulldata\(\s*['"]([^'"]+)['"]\s*(?:,\s*['"]([^'"]*)['"]\s*(?:,\s*['"]([^'"]*)['"])?)?`)

// MediaNeeds lists the files the form reads (see MediaNeed), sorted by name.
func (f *Form) MediaNeeds() []MediaNeed {
	byName := map[string]*MediaNeed{}
	need := func(name string, row int, cols ...string) {
		n := byName[name]
		if n == nil {
			n = &MediaNeed{Name: name}
			byName[name] = n
		}
		if !slices.Contains(n.Rows, row) {
			n.Rows = append(n.Rows, row)
		}
		for _, c := range cols {
			if c != "" && !slices.Contains(n.Columns, c) {
				n.Columns = append(n.Columns, c)
			}
		}
	}
	for i := range f.Survey {
		q := &f.Survey[i]
		fields := strings.Fields(strings.ToLower(q.Type))
		if len(fields) > 0 {
			switch fields[0] {
			case "select_one_from_file", "select_multiple_from_file":
				if t := strings.Fields(q.Type); len(t) > 1 {
					file := t[1]
					if strings.EqualFold(path.Ext(file), ".csv") {
						value, label := "name", "label"
						ps := parseParams(q.Extra["parameters"])
						if v := ps["value"]; v != "" {
							value = v
						}
						if v := ps["label"]; v != "" {
							label = v
						}
						need(file, q.Row, value, label)
					} else {
						need(file, q.Row)
					}
				}
			case "csv-external":
				need(strings.TrimSpace(q.Name)+".csv", q.Row)
			case "xml-external":
				need(strings.TrimSpace(q.Name)+".xml", q.Row)
			}
		}
		for _, src := range []string{q.Calculation, q.Relevant, q.Constraint, q.ChoiceFilter, q.Default, q.Required, q.RepeatCount, q.ReadOnly} {
			for _, m := range pulldataArgsRE.FindAllStringSubmatch(src, -1) {
				need(m[1]+".csv", q.Row, m[2], m[3])
			}
		}
	}
	out := make([]MediaNeed, 0, len(byName))
	for _, n := range byName {
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// parseParams reads a parameters cell ("value=code label=town").
func parseParams(s string) map[string]string {
	out := map[string]string{}
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ';' || r == ',' }) {
		if k, v, ok := strings.Cut(p, "="); ok {
			out[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	}
	return out
}

// MediaError is a problem with one media file.
type MediaError struct {
	File   string
	Column string // the missing CSV column, if that is the problem
	Err    error
}

func (e *MediaError) Error() string {
	if e.Column != "" {
		return fmt.Sprintf("media file %s: column %q: %v", e.File, e.Column, e.Err)
	}
	return fmt.Sprintf("media file %s: %v", e.File, e.Err)
}

func (e *MediaError) Unwrap() error { return e.Err }

// MaxMediaFiles and MaxMediaBytes bound the media of one form version.
const (
	MaxMediaFiles = 64
	MaxMediaBytes = 12 << 20
)

// CheckMedia checks the media files uploaded with the form against what
// the form reads: each is a file the form names (a MediaNeed, or an image,
// audio or video a label's media column names), CSV files parse and have
// the columns the form reads, XML files are well formed and have item
// elements (as ODK's secondary instances: root/item). It returns the names
// of needed files that were not uploaded: ODK Central accepts such a form
// and shows the attachments as missing; so does dotm, with a warning,
// since Collect cannot open the questions that read them.
func (f *Form) CheckMedia(files []Attachment) (missing []string, err error) {
	if len(files) > MaxMediaFiles {
		return nil, fmt.Errorf("%d media files: at most %d", len(files), MaxMediaFiles)
	}
	needs := map[string]MediaNeed{}
	for _, n := range f.MediaNeeds() {
		needs[n.Name] = n
	}
	labelMedia := f.labelMediaFiles()
	var errs []error
	seen := map[string]bool{}
	total := 0
	for _, a := range files {
		total += len(a.Data)
		if seen[a.Name] {
			errs = append(errs, &MediaError{File: a.Name, Err: errors.New("uploaded twice")})
			continue
		}
		seen[a.Name] = true
		if a.Name == "itemsets.csv" && f.c != nil && f.usesExternalChoices() {
			errs = append(errs, &MediaError{File: a.Name, Err: errors.New("the form writes itemsets.csv itself from its external_choices sheet; do not upload it")})
			continue
		}
		n, ok := needs[a.Name]
		if !ok {
			if !labelMedia[a.Name] {
				errs = append(errs, &MediaError{File: a.Name, Err: errors.New("the form does not read this file (no select_one_from_file, pulldata(), csv-external/xml-external or media column names it)")})
			}
			continue
		}
		switch strings.ToLower(path.Ext(a.Name)) {
		case ".csv":
			errs = append(errs, checkCSV(a, n.Columns)...)
		case ".xml":
			if err := checkXML(a.Data); err != nil {
				errs = append(errs, &MediaError{File: a.Name, Err: err})
			}
		}
	}
	if total > MaxMediaBytes {
		errs = append(errs, fmt.Errorf("media files total %d bytes: at most %d", total, MaxMediaBytes))
	}
	for _, n := range f.MediaNeeds() {
		if !seen[n.Name] {
			missing = append(missing, n.Name)
		}
	}
	return missing, errors.Join(errs...)
}

// labelMediaFiles lists the files the media:: columns of the survey and
// choices sheets name.
func (f *Form) labelMediaFiles() map[string]bool {
	out := map[string]bool{}
	add := func(extra map[string]string) {
		for k, v := range extra {
			if mediaColRE.MatchString(k) && strings.TrimSpace(v) != "" {
				out[strings.TrimSpace(v)] = true
			}
		}
	}
	for i := range f.Survey {
		add(f.Survey[i].Extra)
	}
	for i := range f.Choices {
		add(f.Choices[i].Extra)
	}
	return out
}

// readMediaCSV reads a media CSV as ODK does: a header row, comma
// separated, UTF-8 (a byte-order mark is dropped).
func readMediaCSV(data []byte) ([][]string, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, errors.New("empty: want a header row")
	}
	for i := range recs[0] {
		recs[0][i] = strings.TrimSpace(recs[0][i])
	}
	return recs, nil
}

func checkCSV(a Attachment, cols []string) []error {
	recs, err := readMediaCSV(a.Data)
	if err != nil {
		return []error{&MediaError{File: a.Name, Err: err}}
	}
	var errs []error
	for _, c := range cols {
		if !slices.Contains(recs[0], c) {
			errs = append(errs, &MediaError{File: a.Name, Column: c, Err: fmt.Errorf("missing from the header (%s), and the form reads it", strings.Join(recs[0], ","))})
		}
	}
	return errs
}

func checkXML(data []byte) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	depth, items := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 && t.Name.Local == "item" {
				items++
			}
		case xml.EndElement:
			depth--
		}
	}
	if items == 0 {
		return errors.New("no item elements under the root (ODK reads root/item)")
	}
	return nil
}

// AttachMedia gives the compiled form the media files stored with its
// version, so that validation reads them as the device does: the answers
// of a select_one_from_file / select_multiple_from_file must be items of
// its file (and pass its choice_filter), and pulldata('x', col, keycol,
// value) reads x.csv (the first row whose keycol is value, ” when none,
// as ODK's engine). A file that does not parse is left out (CheckMedia
// refused it at upload). Call it once, before the form is used by several
// goroutines; files without a need are ignored.
func (f *Form) AttachMedia(files []Attachment) {
	if f.c == nil {
		return
	}
	for _, a := range files {
		id := strings.TrimSuffix(a.Name, path.Ext(a.Name))
		var rows []*ChoiceRow
		switch strings.ToLower(path.Ext(a.Name)) {
		case ".csv":
			recs, err := readMediaCSV(a.Data)
			if err != nil {
				continue
			}
			if f.c.media == nil {
				f.c.media = map[string][][]string{}
			}
			f.c.media[id] = recs
			rows = csvChoices(recs)
		case ".xml":
			var err error
			if rows, err = xmlChoices(a.Data); err != nil {
				continue
			}
		default:
			continue
		}
		if f.c.mediaRows == nil {
			f.c.mediaRows = map[string][]*ChoiceRow{}
		}
		f.c.mediaRows[id] = rows
		for _, it := range f.c.all {
			if it.base != "select_one_from_file" && it.base != "select_multiple_from_file" {
				continue
			}
			if t := strings.Fields(it.q.Type); len(t) > 1 && t[1] == a.Name {
				it.choices = rows
				if ps := params(it); ps["value"] != "" && strings.EqualFold(path.Ext(a.Name), ".csv") {
					it.choices = csvChoicesBy(f.c.media[id], ps["value"])
				}
			}
		}
	}
}

// csvChoices reads the rows of a media CSV as choices: the column name is
// the choice's name, label its label, every column a column a
// choice_filter may test.
func csvChoices(recs [][]string) []*ChoiceRow { return csvChoicesBy(recs, "name") }

func csvChoicesBy(recs [][]string, nameCol string) []*ChoiceRow {
	if len(recs) == 0 {
		return nil
	}
	head := recs[0]
	out := make([]*ChoiceRow, 0, len(recs)-1)
	for i, r := range recs[1:] {
		ch := &ChoiceRow{Extra: map[string]string{}, Row: i + 2}
		for j, h := range head {
			if j >= len(r) {
				break
			}
			ch.Extra[strings.ToLower(h)] = r[j]
			switch h {
			case nameCol:
				ch.Name = strings.TrimSpace(r[j])
			case "label":
				ch.Label = Text{"": r[j]}
			}
		}
		out = append(out, ch)
	}
	return out
}

// xmlChoices reads root/item elements of a secondary instance: each child
// element of an item is a column.
func xmlChoices(data []byte) ([]*ChoiceRow, error) {
	var doc struct {
		Items []struct {
			Fields []struct {
				XMLName xml.Name
				Value   string `xml:",chardata"`
			} `xml:",any"`
		} `xml:"item"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	out := make([]*ChoiceRow, 0, len(doc.Items))
	for i, it := range doc.Items {
		ch := &ChoiceRow{Extra: map[string]string{}, Row: i + 1}
		for _, fl := range it.Fields {
			ch.Extra[strings.ToLower(fl.XMLName.Local)] = fl.Value
			switch fl.XMLName.Local {
			case "name":
				ch.Name = strings.TrimSpace(fl.Value)
			case "label":
				ch.Label = Text{"": fl.Value}
			}
		}
		out = append(out, ch)
	}
	return out, nil
}

// externalChoices gives the select_one_external / select_multiple_external
// items of c the rows of the form's external_choices sheet (columns
// list_name, name, label and the columns their choice_filter tests), so
// that their answers are checked like an ordinary select's.
func externalChoices(f *Form, c *compiled) {
	var lists map[string][]*ChoiceRow
	for _, s := range f.Sheets {
		if !strings.EqualFold(strings.TrimSpace(s.Name), "external_choices") || len(s.Rows) == 0 {
			continue
		}
		head := make([]string, len(s.Rows[0]))
		for j, h := range s.Rows[0] {
			head[j] = strings.ToLower(strings.TrimSpace(h))
		}
		lists = map[string][]*ChoiceRow{}
		for i, r := range s.Rows[1:] {
			ch := &ChoiceRow{Extra: map[string]string{}, Row: i + 2}
			for j, h := range head {
				if j >= len(r) || h == "" {
					continue
				}
				switch {
				case h == "list_name":
					ch.ListName = strings.TrimSpace(r[j])
				case h == "name":
					ch.Name = strings.TrimSpace(r[j])
				case h == "label" || strings.HasPrefix(h, "label::"):
					if ch.Label == nil {
						ch.Label = Text{}
					}
					ch.Label[strings.TrimPrefix(strings.TrimPrefix(h, "label"), "::")] = r[j]
				default:
					ch.Extra[h] = r[j]
				}
			}
			if ch.ListName != "" && ch.Name != "" {
				lists[ch.ListName] = append(lists[ch.ListName], ch)
			}
		}
		break
	}
	if lists == nil {
		return
	}
	for _, it := range c.all {
		if it.base == "select_one_external" || it.base == "select_multiple_external" {
			if rows := lists[it.list]; rows != nil {
				it.choices = rows
			}
		}
	}
}

// pulldata is ODK's pulldata(file, column, keycolumn, value): column of the
// first row of file.csv whose keycolumn is value; ” when the file, a
// column or a row is missing.
func (c *compiled) pulldata(file, col, keyCol, value string) string {
	recs := c.media[file]
	if len(recs) == 0 {
		return ""
	}
	ci, ki := slices.Index(recs[0], col), slices.Index(recs[0], keyCol)
	if ci < 0 || ki < 0 {
		return ""
	}
	for _, r := range recs[1:] {
		if ki < len(r) && r[ki] == value {
			if ci < len(r) {
				return r[ci]
			}
			return ""
		}
	}
	return ""
}
