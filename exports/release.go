package exports

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Info identifies a release in its files.
type Info struct {
	ID      string    // release id (e.g. a UUID)
	Survey  string    // survey id, or the input file's name
	Created time.Time // when the release was made
	Version string    // dotm version that made it
}

// Manifest lists the files of a release with their SHA-256 (manifest.json).
type Manifest struct {
	ReleaseID   string         `json:"release_id"`
	Survey      string         `json:"survey"`
	Created     string         `json:"created"`
	DotmVersion string         `json:"dotm_version"`
	Files       []ManifestFile `json:"files"`
	// Overrides repeats the disclosure floors the profile set aside.
	Overrides []string `json:"overrides,omitempty"`
}

// ManifestFile is one file of a release. Rows is set for tables.
type ManifestFile struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
	Rows   *int64 `json:"rows,omitempty"`
}

// Release file names besides one NAME.parquet per table.
const (
	CodebookJSON     = "codebook.json"
	CodebookMarkdown = "codebook.md"
	ReportJSON       = "disclosure-report.json"
	ManifestJSON     = "manifest.json"
)

// Create anonymizes ds with the profile and writes the release into dir
// (see [Anonymize] and [Write]). A refused release returns the report and a
// *RefusedError and writes nothing.
func Create(ds *Dataset, p *Profile, dir string, info Info, opts Options) (*Manifest, *Report, error) {
	if err := checkDestination(dir); err != nil {
		return nil, nil, err
	}
	anon, rep, err := Anonymize(ds, p, opts)
	if err != nil {
		return nil, rep, err
	}
	m, err := Write(dir, anon, rep, p.RowGroupRows, info)
	return m, rep, err
}

// checkDestination refuses a destination that exists and is not an empty
// directory: a release is immutable once written.
func checkDestination(dir string) error {
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("exports: release folder: %w", err)
	case len(ents) > 0:
		return fmt.Errorf("exports: release folder %s exists and is not empty (a release is never overwritten)", dir)
	}
	return nil
}

var tableName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Write writes an anonymized dataset as a release folder: one Parquet file
// and one Stata .dta file (see [WriteDTA]) per table, codebook.json,
// codebook.md, a DDI-Codebook 2.5 description (see [WriteDDI]),
// disclosure-report.json and .md, and manifest.json. Everything is written into a temporary folder next to dir,
// synced, and renamed to dir at the end, so that dir either holds a whole
// release or does not exist. dir must not exist or be an empty folder.
func Write(dir string, ds *Dataset, rep *Report, rowGroupRows int, info Info) (*Manifest, error) {
	if err := checkDestination(dir); err != nil {
		return nil, err
	}
	ds, err := withIndicators(ds)
	if err != nil {
		return nil, err
	}
	dir = filepath.Clean(dir)
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return nil, fmt.Errorf("exports: %w", err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	man := &Manifest{ReleaseID: info.ID, Survey: info.Survey, Created: info.Created.UTC().Format(time.RFC3339), DotmVersion: info.Version}
	if rep != nil {
		man.Overrides = rep.Overrides
	}
	// Every file is written on its own: they are written on every core
	// and listed in the manifest in this order.
	type job struct {
		name  string
		rows  *int64
		write func(io.Writer) error
	}
	var jobs []job
	for _, t := range ds.Tables {
		if !tableName.MatchString(t.Name) {
			return nil, fmt.Errorf("exports: table name %q: want lower-case letters, digits and _", t.Name)
		}
		meta := map[string]string{
			"dotm.release_id": info.ID, "dotm.survey": info.Survey,
			"dotm.created": man.Created, "dotm.version": info.Version,
			"dotm.table":   t.Name,
			ArrowSchemaKey: arrowSchema(t, func(c *Column) map[string]string { return fieldMetadata(c, ds.Languages) }),
		}
		rows := int64(t.Rows())
		label := fmt.Sprintf("%s, table %s (release %s)", info.Survey, t.Name, info.ID)
		jobs = append(jobs,
			job{t.Name + ".parquet", &rows, func(w io.Writer) error { return WriteParquet(w, t, rowGroupRows, meta) }},
			job{t.Name + ".dta", &rows, func(w io.Writer) error { return WriteDTA(w, t, ds.Languages, label, info.Created) }})
	}
	cb := NewCodebook(ds, rep, info)
	// The JSON codebook lists the dropped columns in the report's order;
	// the Markdown codebook sorts them by name, in the report's own
	// slices, which the files after it show: the JSON is made first and
	// the lists sorted once, before the files are written at once.
	var cbJSON bytes.Buffer
	if err := encodeJSON(&cbJSON, cb); err != nil {
		return nil, fmt.Errorf("exports: write %s: %w", CodebookJSON, err)
	}
	cb.sortDropped()
	jobs = append(jobs,
		job{CodebookJSON, nil, func(w io.Writer) error { _, err := w.Write(cbJSON.Bytes()); return err }},
		job{CodebookMarkdown, nil, cb.WriteMarkdown},
		job{DDIXML, nil, func(w io.Writer) error { return WriteDDI(w, ds, rep, info) }},
		job{ReportJSON, nil, func(w io.Writer) error {
			return encodeJSON(w, struct {
				ReleaseID string `json:"release_id"`
				*Report
			}{info.ID, rep})
		}},
		job{ReportMarkdown, nil, func(w io.Writer) error { return rep.WriteMarkdown(w, info.ID) }},
		job{ReportHTML, nil, func(w io.Writer) error { return rep.WriteHTML(w, info.ID) }})
	files := make([]ManifestFile, len(jobs))
	errs := make([]error, len(jobs))
	parallel(len(jobs), func(i int) {
		files[i], errs[i] = writeFile(tmp, jobs[i].name, jobs[i].write)
		files[i].Rows = jobs[i].rows
	})
	for i := range jobs {
		if errs[i] != nil {
			return nil, errs[i]
		}
		man.Files = append(man.Files, files[i])
	}
	if _, err := writeFile(tmp, ManifestJSON, func(w io.Writer) error { return encodeJSON(w, man) }); err != nil {
		return nil, err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("exports: %w", err)
	}
	if err := syncDir(tmp); err != nil {
		return nil, err
	}
	// An empty destination folder is replaced (os.Rename refuses to
	// rename onto a directory); Remove fails if it is no longer empty.
	if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("exports: release folder: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, fmt.Errorf("exports: publish release folder: %w", err)
	}
	done = true
	if err := syncDir(filepath.Dir(dir)); err != nil {
		return nil, err
	}
	return man, nil
}

func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeFile writes dir/name with write, syncs it and returns its size and
// SHA-256.
func writeFile(dir, name string, write func(io.Writer) error) (ManifestFile, error) {
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return ManifestFile{}, fmt.Errorf("exports: %w", err)
	}
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(f, h)}
	bw := bufio.NewWriterSize(cw, 1<<20)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return ManifestFile{}, fmt.Errorf("exports: write %s: %w", name, err)
	}
	return ManifestFile{Name: name, SHA256: hex.EncodeToString(h.Sum(nil)), Bytes: cw.n}, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("exports: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("exports: sync %s: %w", dir, err)
	}
	return nil
}

// Codebook describes every variable of a release (codebook.json; also
// rendered as codebook.md).
type Codebook struct {
	ReleaseID string          `json:"release_id"`
	Survey    string          `json:"survey"`
	Created   string          `json:"created"`
	Languages []string        `json:"languages,omitempty"`
	Tables    []CodebookTable `json:"tables"`
	Design    *DesignCode     `json:"design,omitempty"`
}

// CodebookTable is one table of a codebook.
type CodebookTable struct {
	Name      string     `json:"name"`
	File      string     `json:"file"`
	StataFile string     `json:"stata_file"`
	Rows      int        `json:"rows"`
	Variables []Variable `json:"variables"`
	Dropped   []Dropped  `json:"dropped,omitempty"`
}

// Variable is one column of a codebook.
type Variable struct {
	Name        string            `json:"name"`
	Label       string            `json:"label,omitempty"`
	Type        string            `json:"type"`
	Nullable    bool              `json:"nullable"`
	Nulls       int               `json:"nulls"`
	Description string            `json:"description,omitempty"`
	Question    map[string]string `json:"question,omitempty"`
	ValueLabels []Choice          `json:"value_labels,omitempty"`
	// Multiple marks a select_multiple answer: its value lists the choices
	// given, separated by spaces (and a 0/1 column per choice follows it).
	Multiple        bool     `json:"select_multiple,omitempty"`
	Sensitivity     string   `json:"sensitivity"`
	Source          string   `json:"source,omitempty"`
	Transformations []string `json:"transformations,omitempty"`
}

// designDescriptions describe the canonical design and key variables.
var designDescriptions = map[string]string{
	"household_id": "pseudonymous household identifier, valid within this release only",
	"stratum":      "sampling stratum (pseudonymous code)",
	"psu":          "primary sampling unit (pseudonymous code)",
	"weight":       "final household weight (sum estimates the number of households)",
	"fpc":          "number of PSUs in the stratum's frame (finite population correction)",
}

// maxListedValues: a text column without value labels lists its distinct
// values in the codebook when there are at most this many.
const maxListedValues = 30

// NewCodebook describes the columns of an anonymized dataset.
func NewCodebook(ds *Dataset, rep *Report, info Info) *Codebook {
	cb := &Codebook{ReleaseID: info.ID, Survey: info.Survey, Created: info.Created.UTC().Format(time.RFC3339), Languages: ds.Languages}
	for _, t := range ds.Tables {
		ct := CodebookTable{Name: t.Name, File: t.Name + ".parquet", StataFile: t.Name + ".dta", Rows: t.Rows()}
		if rep != nil {
			for _, tr := range rep.Tables {
				if tr.Table == t.Name {
					ct.Dropped = tr.Dropped
				}
			}
		}
		for _, c := range t.Columns {
			v := Variable{Name: c.Name, Label: variableLabel(c, ds.Languages), Type: c.Type.String(), Nullable: c.Nullable || c.Valid != nil, Nulls: c.NullCount(),
				Description: designDescriptions[c.Name], Question: c.Meta.Question, ValueLabels: c.Meta.Choices, Multiple: c.Meta.Multiple,
				Sensitivity: c.Meta.Sensitivity, Source: c.Meta.Source, Transformations: c.Meta.Transforms}
			if v.Sensitivity == "" {
				v.Sensitivity = "none"
			}
			if c.Type == String && len(v.ValueLabels) == 0 && designDescriptions[c.Name] == "" {
				v.ValueLabels = distinctValues(c, maxListedValues)
			}
			ct.Variables = append(ct.Variables, v)
		}
		cb.Tables = append(cb.Tables, ct)
	}
	cb.Design = NewDesignCode(ds)
	if cb.Design != nil && rep != nil && rep.Replicates != nil {
		cb.Design.useReplicates(rep.Replicates)
	}
	return cb
}

func distinctValues(c *Column, limit int) []Choice {
	seen := map[string]bool{}
	for i, s := range c.Strings {
		if c.IsNull(i) || seen[s] {
			continue
		}
		seen[s] = true
		if len(seen) > limit {
			return nil
		}
	}
	var out []Choice
	for _, s := range sortedKeys(seen) {
		out = append(out, Choice{Name: s})
	}
	return out
}

// WriteMarkdown renders the codebook as Markdown.
func (cb *Codebook) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Codebook: %s\n\nRelease `%s`, created %s.\n", mdEscape(cb.Survey), cb.ReleaseID, cb.Created)
	if len(cb.Languages) > 0 {
		fmt.Fprintf(&b, "Languages: %s.\n", strings.Join(cb.Languages, ", "))
	}
	for _, t := range cb.Tables {
		fmt.Fprintf(&b, "\n## Table `%s` (%s, %s, %d rows)\n\n", t.Name, t.File, t.StataFile, t.Rows)
		b.WriteString("| variable | type | sensitivity | nulls | description |\n|---|---|---|---|---|\n")
		for _, v := range t.Variables {
			fmt.Fprintf(&b, "| `%s` | %s | %s | %d | %s |\n", v.Name, v.Type, v.Sensitivity, v.Nulls, mdEscape(firstText(v, cb.Languages)))
		}
		for _, v := range t.Variables {
			fmt.Fprintf(&b, "\n### `%s`\n\n- type: %s", v.Name, v.Type)
			if v.Nullable {
				b.WriteString(" (nullable)")
			}
			fmt.Fprintf(&b, "\n- sensitivity: %s\n", v.Sensitivity)
			if v.Label != "" {
				fmt.Fprintf(&b, "- label: %s\n", mdEscape(v.Label))
			}
			if v.Multiple {
				b.WriteString("- select_multiple: the choices given, separated by spaces; one 0/1 column per choice follows\n")
			}
			if v.Description != "" {
				fmt.Fprintf(&b, "- description: %s\n", mdEscape(v.Description))
			}
			if v.Source != "" {
				fmt.Fprintf(&b, "- source: `%s`\n", v.Source)
			}
			for _, lang := range sortedKeys(v.Question) {
				fmt.Fprintf(&b, "- question (%s): %s\n", lang, mdEscape(v.Question[lang]))
			}
			for _, tr := range v.Transformations {
				fmt.Fprintf(&b, "- transformation: %s\n", mdEscape(tr))
			}
			if len(v.ValueLabels) > 0 {
				b.WriteString("\n| value | labels |\n|---|---|\n")
				for _, ch := range v.ValueLabels {
					var ls []string
					for _, lang := range sortedKeys(ch.Labels) {
						ls = append(ls, lang+": "+ch.Labels[lang])
					}
					fmt.Fprintf(&b, "| `%s` | %s |\n", ch.Name, mdEscape(strings.Join(ls, "; ")))
				}
			}
		}
		if len(t.Dropped) > 0 {
			b.WriteString("\nLeft out of this table:\n\n")
			t.sortDropped()
			for _, d := range t.Dropped {
				fmt.Fprintf(&b, "- `%s`: %s\n", d.Column, d.Reason)
			}
		}
	}
	if cb.Design != nil {
		cb.Design.writeMarkdown(&b)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// firstText is a variable's description, else its question in the default
// language (the first), else in any language, else its label.
func firstText(v Variable, langs []string) string {
	if v.Description != "" {
		return v.Description
	}
	if len(langs) > 0 && v.Question[langs[0]] != "" {
		return v.Question[langs[0]]
	}
	for _, lang := range sortedKeys(v.Question) {
		return v.Question[lang]
	}
	return v.Label
}

func mdEscape(s string) string {
	r := strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ")
	return r.Replace(s)
}

// ParseManifest reads a release's manifest.json (as a stored release
// record keeps it).
func ParseManifest(b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("exports: manifest: %w", err)
	}
	return &m, nil
}

// ParseReport reads a release's disclosure report (as a stored release
// record keeps it).
func ParseReport(b []byte) (*Report, error) {
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("exports: disclosure report: %w", err)
	}
	return &r, nil
}

// sortDropped sorts each table's dropped columns by name (in place: the
// report's own lists), leaving sorted lists untouched.
func (cb *Codebook) sortDropped() {
	for i := range cb.Tables {
		cb.Tables[i].sortDropped()
	}
}

func (t *CodebookTable) sortDropped() {
	less := func(i, j int) bool { return t.Dropped[i].Column < t.Dropped[j].Column }
	if !sort.SliceIsSorted(t.Dropped, less) {
		sort.SliceStable(t.Dropped, less)
	}
}
