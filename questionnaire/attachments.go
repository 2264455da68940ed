package questionnaire

import (
	"bytes"
	"strings"
)

// Attachment is a file a form's XForm reads, which the server sends with
// the form version (listed in its OpenRosa manifest).
type Attachment struct {
	Name        string // file name, as the XForm names it (jr://file-csv/…)
	ContentType string
	Data        []byte
}

// Attachments lists the files the form carries itself: itemsets.csv, the
// external_choices sheet written as CSV, which select_one_external
// questions query (as pyxform writes it beside the XForm: every value
// quoted, CRLF line ends; the cells of each row are aligned on the
// header). Files a form reads but does not carry (select_one_from_file,
// pulldata() and csv-external CSVs) are not among them.
func (f *Form) Attachments() []Attachment {
	if f.c == nil || !f.usesExternalChoices() {
		return nil
	}
	for _, s := range f.Sheets {
		if !strings.EqualFold(strings.TrimSpace(s.Name), "external_choices") || len(s.Rows) == 0 {
			continue
		}
		header := s.Rows[0]
		width := len(header)
		for width > 0 && strings.TrimSpace(header[width-1]) == "" {
			width--
		}
		var b bytes.Buffer
		b.Grow(64 * len(s.Rows))
		for i, row := range s.Rows {
			out := make([]string, width)
			empty := true
			for j := 0; j < width && j < len(row); j++ {
				v := row[j]
				if i == 0 {
					v = strings.TrimSpace(v)
				}
				out[j] = v
				empty = empty && strings.TrimSpace(v) == ""
			}
			if empty {
				continue
			}
			writeQuoted(&b, out)
		}
		return []Attachment{{Name: "itemsets.csv", ContentType: "text/csv", Data: b.Bytes()}}
	}
	return nil
}

// writeQuoted writes one CSV record with every field quoted, as Python's
// csv.QUOTE_ALL does.
func writeQuoted(b *bytes.Buffer, fields []string) {
	for i, v := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(strings.ReplaceAll(v, `"`, `""`))
		b.WriteByte('"')
	}
	b.WriteString("\r\n")
}

// usesExternalChoices reports whether a question is a select_one_external
// or select_multiple_external, whose choices are in itemsets.csv.
func (f *Form) usesExternalChoices() bool {
	for _, it := range f.c.all {
		t := strings.ToLower(strings.TrimSpace(it.q.Type))
		if strings.HasPrefix(t, "select_one_external") || strings.HasPrefix(t, "select_multiple_external") {
			return true
		}
	}
	return false
}
