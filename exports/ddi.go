package exports

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// DDIXML is the release's DDI-Codebook 2.5 description (ddi-codebook.xml).
const DDIXML = "ddi-codebook.xml"

// ddiNamespace and ddiSchema identify DDI-Codebook 2.5.
const (
	ddiNamespace = "ddi:codebook:2_5"
	ddiSchema    = "https://ddialliance.org/Specification/DDI-Codebook/2.5/XMLSchema/codebook.xsd"
)

// WriteDDI writes a DDI-Codebook 2.5 XML description of the released
// dataset ds (after disclosure control) as microdata catalogues ingest it
// (IHSN's NADA, the World Bank microdata library, CESSDA): the document
// (docDscr), the study (stdyDscr: citation with title, producer and
// production date; geographic coverage from the region variable; units of
// analysis; the sampling procedure and the weights, from the design
// columns; the conditions of use from the disclosure report), one fileDscr
// per table (its Parquet and Stata files, rows and variables) and one var
// per column in dataDscr (name, label, question, location in its file,
// summary statistics, categories with their values, labels and
// frequencies, format). Statistics are unweighted counts of the released
// values.
func WriteDDI(w io.Writer, ds *Dataset, rep *Report, info Info) error {
	x := &xmlWriter{}
	x.raw(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	lang := "en"
	if len(ds.Languages) > 0 {
		lang = ds.Languages[0]
	}
	id := "dotm-" + ncName(info.ID)
	x.open("codeBook", "xmlns", ddiNamespace, "xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance",
		"xsi:schemaLocation", ddiNamespace+" "+ddiSchema, "version", "2.5", "ID", id, "xml:lang", lang)
	created := info.Created.UTC()
	title := info.Survey + ": anonymized research release"
	producer := "dotm"
	if info.Version != "" {
		producer += " " + info.Version
	}

	x.open("docDscr")
	x.open("citation")
	x.open("titlStmt")
	x.elem("titl", "DDI-Codebook description of "+title)
	x.elem("IDNo", id+"-ddi")
	x.close("titlStmt")
	x.open("prodStmt")
	x.elem("producer", producer)
	x.elem("prodDate", created.Format(time.DateOnly), "date", created.Format(time.DateOnly))
	x.elem("software", "dotm", "version", info.Version)
	x.close("prodStmt")
	x.close("citation")
	x.close("docDscr")

	x.open("stdyDscr")
	x.open("citation")
	x.open("titlStmt")
	x.elem("titl", title)
	x.elem("IDNo", id, "agency", "dotm")
	x.close("titlStmt")
	x.open("prodStmt")
	x.elem("producer", producer)
	x.elem("prodDate", created.Format(time.DateOnly), "date", created.Format(time.DateOnly))
	x.elem("software", "dotm", "version", info.Version)
	x.close("prodStmt")
	x.open("verStmt")
	x.elem("version", info.ID, "date", created.Format(time.DateOnly), "type", "release")
	x.close("verStmt")
	x.close("citation")

	x.open("stdyInfo")
	x.elem("abstract", "Household survey of migration and remittances (survey "+info.Survey+"), released as the tables "+
		tableNames(ds)+", linked by the pseudonymous household_id.")
	x.open("sumDscr")
	if start, end, ok := interviewPeriod(ds); ok {
		x.elem("collDate", start, "date", start, "event", "start")
		x.elem("collDate", end, "date", end, "event", "end")
	}
	if g := geographicCoverage(ds); g != "" {
		x.elem("geogCover", g)
	}
	for _, t := range ds.Tables {
		x.elem("anlyUnit", unitOf(t.Name), "unit", t.Name)
	}
	x.elem("universe", "Households of the survey's sampling frame and, in the other tables, their members, current migrants and return migrants.")
	x.elem("dataKind", "Sample survey data [ssd]")
	x.close("sumDscr")
	x.close("stdyInfo")

	x.open("method")
	x.open("dataColl")
	x.elem("sampProc", samplingProcedure(ds))
	x.elem("collMode", "Computer-assisted personal interview [capi]")
	x.elem("weight", weighting(ds))
	x.close("dataColl")
	x.close("method")

	x.open("dataAccs")
	x.open("useStmt")
	x.elem("confDec", disclosureStatement(rep), "required", "yes")
	x.elem("conditions", "Research use only. Do not try to identify households or persons, nor link this release to other data to do so.")
	x.close("useStmt")
	x.close("dataAccs")
	x.close("stdyDscr")

	for i, t := range ds.Tables {
		x.open("fileDscr", "ID", fileID(i), "URI", t.Name+".parquet")
		x.open("fileTxt")
		x.elem("fileName", t.Name+".parquet")
		x.elem("fileCont", fmt.Sprintf("Table %s: one row per %s. The same data as Stata 118: %s.dta.", t.Name, strings.TrimSuffix(unitOf(t.Name), "s"), t.Name))
		x.open("dimensns")
		x.elem("caseQnty", strconv.Itoa(t.Rows()))
		x.elem("varQnty", strconv.Itoa(len(t.Columns)))
		x.close("dimensns")
		x.elem("fileType", "Apache Parquet")
		x.close("fileTxt")
		x.close("fileDscr")
	}

	x.open("dataDscr")
	for i, t := range ds.Tables {
		weightID := ""
		for j, c := range t.Columns {
			if c.Name == designColumns.weight {
				weightID = varID(i, j)
			}
		}
		for j, c := range t.Columns {
			ddiVar(x, c, fileID(i), varID(i, j), weightID, ds.Languages)
		}
	}
	x.close("dataDscr")
	x.close("codeBook")
	_, err := io.WriteString(w, x.b.String())
	return err
}

func fileID(i int) string   { return "F" + strconv.Itoa(i+1) }
func varID(i, j int) string { return fmt.Sprintf("V%d_%d", i+1, j+1) }

// ddiVar writes one var element.
func ddiVar(x *xmlWriter, c *Column, file, id, weightID string, langs []string) {
	attrs := []string{"ID", id, "name", c.Name, "files", file}
	switch {
	case c.Name == designColumns.weight:
		attrs = append(attrs, "wgt", "wgt")
	case weightID != "":
		attrs = append(attrs, "wgt-var", weightID)
	}
	if c.Type == Float {
		attrs = append(attrs, "intrvl", "contin")
	} else {
		attrs = append(attrs, "intrvl", "discrete")
	}
	x.open("var", attrs...)
	x.elem("location", "", "fileid", file)
	x.elem("labl", variableLabel(c, langs))
	if q := questionText(c, langs); q != "" {
		x.open("qstn")
		x.elem("qstnLit", q)
		x.close("qstn")
	}
	n, nulls := c.Len(), c.NullCount()
	x.elem("sumStat", strconv.Itoa(n-nulls), "type", "vald")
	x.elem("sumStat", strconv.Itoa(nulls), "type", "invd")
	if (c.Type == Int || c.Type == Float) && len(c.Meta.Choices) == 0 && n > nulls {
		lo, hi, mean, sd := describe(c)
		x.elem("sumStat", FormatNumber(lo), "type", "min")
		x.elem("sumStat", FormatNumber(hi), "type", "max")
		x.elem("sumStat", FormatNumber(mean), "type", "mean")
		x.elem("sumStat", FormatNumber(sd), "type", "stdev")
	}
	var notes []string
	if c.Meta.Source != "" {
		notes = append(notes, "Source: "+c.Meta.Source+".")
	}
	for _, tr := range c.Meta.Transforms {
		notes = append(notes, "Disclosure control or coding: "+tr+".")
	}
	if len(notes) > 0 {
		x.elem("txt", strings.Join(notes, " "))
	}
	if len(c.Meta.Choices) > 0 {
		freq := map[string]int{}
		for i := 0; i < n; i++ {
			if c.IsNull(i) {
				continue
			}
			if c.Meta.Multiple {
				for _, v := range strings.Fields(c.Format(i)) {
					freq[v]++
				}
			} else {
				freq[c.Format(i)]++
			}
		}
		for _, ch := range c.Meta.Choices {
			x.open("catgry")
			x.elem("catValu", ch.Name)
			x.elem("labl", choiceLabel(ch, langs))
			x.elem("catStat", strconv.Itoa(freq[ch.Name]), "type", "freq")
			x.close("catgry")
		}
	}
	switch c.Type {
	case String:
		x.elem("varFormat", "", "type", "character")
	case Date:
		x.elem("varFormat", "", "type", "numeric", "category", "date", "formatname", "YYYY-MM-DD", "schema", "ISO")
	default:
		x.elem("varFormat", "", "type", "numeric")
	}
	x.close("var")
}

// questionText is the question in the first language that has it.
func questionText(c *Column, langs []string) string {
	for _, lang := range langs {
		if q := c.Meta.Question[lang]; q != "" {
			return q
		}
	}
	for _, lang := range sortedKeys(c.Meta.Question) {
		return c.Meta.Question[lang]
	}
	return ""
}

// describe gives the minimum, maximum, mean and standard deviation (n − 1)
// of the non-null values of a numeric column.
func describe(c *Column) (lo, hi, mean, sd float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	var xs []float64
	for i := 0; i < c.Len(); i++ {
		if v := c.Float(i); !math.IsNaN(v) {
			xs = append(xs, v)
			lo, hi = min(lo, v), max(hi, v)
			mean += v
		}
	}
	mean /= float64(len(xs))
	for _, v := range xs {
		sd += (v - mean) * (v - mean)
	}
	if len(xs) > 1 {
		sd = math.Sqrt(sd / float64(len(xs)-1))
	} else {
		sd = 0
	}
	return lo, hi, mean, sd
}

func tableNames(ds *Dataset) string {
	var names []string
	for _, t := range ds.Tables {
		names = append(names, t.Name)
	}
	return strings.Join(names, ", ")
}

// unitOf names a table's unit of analysis.
func unitOf(table string) string {
	switch table {
	case "households":
		return "households"
	case "persons":
		return "persons (household members)"
	case "migrants":
		return "migrants (former members living abroad)"
	case "return_migrants":
		return "return migrants"
	}
	return table + " records"
}

// interviewPeriod gives the first and last released interview dates
// (month precision after disclosure control).
func interviewPeriod(ds *Dataset) (start, end string, ok bool) {
	for _, t := range ds.Tables {
		c := t.Column("interview_date")
		if c == nil || c.Type != Date {
			continue
		}
		lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
		for i, d := range c.Ints {
			if !c.IsNull(i) {
				lo, hi = min(lo, d), max(hi, d)
			}
		}
		if lo > hi {
			return "", "", false
		}
		day := func(d int64) string { return time.Unix(d*86400, 0).UTC().Format(time.DateOnly) }
		return day(lo), day(hi), true
	}
	return "", "", false
}

// geographicCoverage lists the regions the households table covers.
func geographicCoverage(ds *Dataset) string {
	t := ds.Table("households")
	if t == nil {
		return ""
	}
	c := t.Column("region")
	if c == nil {
		return ""
	}
	seen := map[string]bool{}
	for i := 0; i < c.Len(); i++ {
		if !c.IsNull(i) {
			seen[c.Format(i)] = true
		}
	}
	var names []string
	for _, ch := range c.Meta.Choices {
		if seen[ch.Name] {
			names = append(names, choiceLabel(ch, ds.Languages))
			delete(seen, ch.Name)
		}
	}
	names = append(names, sortedKeys(seen)...)
	if len(names) == 0 {
		return ""
	}
	return "National, in " + strconv.Itoa(len(names)) + " regions: " + strings.Join(names, ", ") + "."
}

// samplingProcedure describes the design from the released design columns.
func samplingProcedure(ds *Dataset) string {
	d := NewDesignCode(ds)
	if d == nil {
		return "The release carries no sampling weights."
	}
	t := ds.Table(d.Table)
	count := func(name string) int {
		c := t.Column(name)
		if c == nil {
			return 0
		}
		seen := map[string]bool{}
		for i := 0; i < c.Len(); i++ {
			seen[c.Format(i)] = true
		}
		return len(seen)
	}
	var b strings.Builder
	switch {
	case d.Strata != "" && d.PSU != "":
		fmt.Fprintf(&b, "Stratified two-stage cluster sample: %d strata; %d primary sampling units (enumeration areas) selected within them, then households within each selected unit; %d %s in this release.",
			count(d.Strata), count(d.PSU), t.Rows(), d.Table)
	case d.PSU != "":
		fmt.Fprintf(&b, "Two-stage cluster sample: %d primary sampling units, then households within them; %d %s in this release.", count(d.PSU), t.Rows(), d.Table)
	default:
		fmt.Fprintf(&b, "%d %s in this release; the release carries no PSU codes.", t.Rows(), d.Table)
	}
	b.WriteString(" Stratum and PSU codes are pseudonymous: they identify the design, not places.")
	if d.FPC != "" {
		fmt.Fprintf(&b, " %s gives the number of PSUs in the stratum's frame (finite population correction).", d.FPC)
	}
	return b.String()
}

// weighting describes the weights and how to declare the design.
func weighting(ds *Dataset) string {
	d := NewDesignCode(ds)
	if d == nil {
		return "No weights."
	}
	t := ds.Table(d.Table)
	w := t.Column(d.Weight)
	total := 0.0
	for i := 0; i < w.Len(); i++ {
		if v := w.Float(i); !math.IsNaN(v) {
			total += v
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Every table carries the final household weight (column %s: design weight adjusted for nonresponse", d.Weight)
	if t.Column("weight_calibrated") != nil {
		b.WriteString(" and calibrated to census totals")
	}
	fmt.Fprintf(&b, "); its sum over the %s table, %s, estimates the number of households.", d.Table, FormatNumber(math.Round(total)))
	fmt.Fprintf(&b, " Declare the design before estimating. R: %s Stata: %s",
		strings.Join(strings.Fields(lastLine(d.R)), " "), strings.Join(strings.Fields(lastLine(d.Stata)), " "))
	return b.String()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// disclosureStatement sums up the disclosure control of the release.
func disclosureStatement(rep *Report) string {
	if rep == nil {
		return "The files were anonymized before release: direct identifiers removed, identifiers pseudonymized."
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Anonymized before release: direct identifiers removed, household identifiers and design codes pseudonymized, %d-anonymity on the quasi-identifiers %s with local suppression",
		rep.K, strings.Join(rep.QuasiIdentifiers, ", "))
	suppressed := 0
	for _, t := range rep.Tables {
		suppressed += t.SuppressedTotal
	}
	fmt.Fprintf(&b, " (%d values set to missing), recoding, top-coding and perturbation of amounts as each variable's notes say. The disclosure report (disclosure-report.md) gives the risk before and after.", suppressed)
	return b.String()
}

// ncName makes s a valid XML NCName (letters, digits, '-', '_', '.').
func ncName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// xmlWriter writes indented XML elements.
type xmlWriter struct {
	b     strings.Builder
	depth int
}

func (x *xmlWriter) raw(s string) { x.b.WriteString(s) }

func (x *xmlWriter) start(name string, attrs []string, end string) {
	x.b.WriteString(strings.Repeat("  ", x.depth))
	x.b.WriteString("<" + name)
	for i := 0; i+1 < len(attrs); i += 2 {
		if attrs[i+1] == "" {
			continue
		}
		x.b.WriteString(" " + attrs[i] + `="`)
		xml.EscapeText(&x.b, []byte(attrs[i+1])) //nolint:errcheck // a strings.Builder does not fail
		x.b.WriteString(`"`)
	}
	x.b.WriteString(end)
}

func (x *xmlWriter) open(name string, attrs ...string) {
	x.start(name, attrs, ">\n")
	x.depth++
}

func (x *xmlWriter) close(name string) {
	x.depth--
	x.b.WriteString(strings.Repeat("  ", x.depth) + "</" + name + ">\n")
}

// elem writes <name attrs>text</name>, or <name attrs/> when text is "".
func (x *xmlWriter) elem(name, text string, attrs ...string) {
	if text == "" {
		x.start(name, attrs, "/>\n")
		return
	}
	x.start(name, attrs, ">")
	xml.EscapeText(&x.b, []byte(text)) //nolint:errcheck
	x.b.WriteString("</" + name + ">\n")
}
