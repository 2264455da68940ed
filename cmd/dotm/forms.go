package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/internal/outfile"
	"github.com/dotm-survey/dotm/questionnaire"
)

func runForms(e *env, args []string) error {
	return dispatch(e, "forms", []subcommand{
		{"validate", "load a form (XLSForm .xlsx, .yaml or .json) and print a summary, or every error", runFormsValidate},
		{"check", "validate a submission's answers against a form (exit 1 when invalid)", runFormsCheck},
		{"convert", "write a form as xlsx, yaml, json or an ODK XForm", runFormsConvert},
		{"keys", "a survey's key pairs for ODK encrypted forms (generate, import, list)", runFormsKeys},
	}, "", `dotm forms validate questionnaire/forms/dotm_household.yaml
dotm forms check questionnaire/forms/dotm_household.yaml --submission questionnaire/testdata/household_valid.json --lang es
dotm forms convert questionnaire/forms/dotm_household.yaml --to xlsx --out household.xlsx`, args)
}

// formsParseArgs parses flags that may come before or after the single
// positional FILE argument.
func formsParseArgs(e *env, fs *flag.FlagSet, args []string, cmd string) (string, error) {
	var pos []string
	for {
		if err := parseFlags(e, fs, args); err != nil {
			return "", err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != 1 {
		fs.Usage()
		return "", exitError{code: 2, msg: fmt.Sprintf("%s: give exactly one form FILE", cmd)}
	}
	return pos[0], nil
}

// formsLoad loads a form file; a missing file is a usage error.
func formsLoad(path string) (*questionnaire.Form, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, exitError{code: 2, msg: err.Error()}
	}
	return questionnaire.Load(path)
}

func runFormsValidate(e *env, args []string) error {
	fs := newFlags(e, "forms validate", "forms validate FILE [--media towns.csv ...]",
		"dotm forms validate questionnaire/forms/dotm_household.yaml\ndotm forms validate towns.xlsx --media towns.csv --media markets.xml")
	var mediaPaths mediaFlag
	fs.Var(&mediaPaths, "media", "a media file the form reads (select_one_from_file, pulldata(), csv-external), checked as the server checks it at upload; repeat for each file")
	path, err := formsParseArgs(e, fs, args, "forms validate")
	if err != nil {
		return err
	}
	f, err := formsLoad(path)
	if err != nil {
		var fe questionnaire.FormErrors
		if errors.As(err, &fe) {
			fmt.Fprintf(e.stdout, "%s: %d error(s)\n", path, len(fe))
			for _, x := range fe {
				fmt.Fprintf(e.stdout, "  %s\n", x)
			}
			return exitError{code: 1}
		}
		var ex exitError
		if errors.As(err, &ex) {
			return err
		}
		return exitError{code: 1, msg: err.Error()}
	}
	printFormSummary(e, path, f)
	if err := checkFormMedia(e, f, mediaPaths); err != nil {
		return err
	}
	// pyxform's warnings: the form is accepted, but worth a look
	if ws := f.Warnings(); len(ws) > 0 {
		fmt.Fprintf(e.stdout, "%d warning(s)\n", len(ws))
		for _, w := range ws {
			fmt.Fprintf(e.stdout, "  warning: %s\n", w)
		}
	}
	return nil
}

// mediaFlag collects repeated --media values.
type mediaFlag []string

func (m *mediaFlag) String() string     { return strings.Join(*m, ",") }
func (m *mediaFlag) Set(v string) error { *m = append(*m, v); return nil }

// checkFormMedia lists the media files the form reads and checks those
// given, as the server does at upload: a file that does not fit is an
// error (exit 1), a needed file not given a warning (the server accepts
// the form without it, as ODK Central does).
func checkFormMedia(e *env, f *questionnaire.Form, paths []string) error {
	needs := f.MediaNeeds()
	if len(needs) == 0 && len(paths) == 0 {
		return nil
	}
	var files []questionnaire.Attachment
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return exitError{code: 2, msg: err.Error()}
		}
		files = append(files, questionnaire.Attachment{Name: filepath.Base(p), Data: b})
	}
	for _, n := range needs {
		cols := ""
		if len(n.Columns) > 0 {
			cols = " (columns " + strings.Join(n.Columns, ", ") + ")"
		}
		fmt.Fprintf(e.stdout, "media\t%s%s\n", n.Name, cols)
	}
	missing, err := f.CheckMedia(files)
	for _, m := range missing {
		fmt.Fprintf(e.stdout, "  warning: media file %s is not given: upload it with the form, or ODK Collect cannot open the questions that read it\n", m)
	}
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(e.stdout, "  error: %s\n", line)
		}
		return exitError{code: 1}
	}
	return nil
}

func printFormSummary(e *env, path string, f *questionnaire.Form) {
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "form\t%s\n", path)
	fmt.Fprintf(w, "id\t%s\n", f.ID)
	fmt.Fprintf(w, "version\t%s\n", f.Version)
	fmt.Fprintf(w, "title\t%s\n", f.Title)
	var langs []string
	for _, code := range f.Languages {
		switch {
		case code == "":
			langs = append(langs, "(untranslated)")
		case f.LanguageNames[code] != "":
			langs = append(langs, fmt.Sprintf("%s (%s)", f.LanguageNames[code], code))
		default:
			langs = append(langs, code)
		}
	}
	fmt.Fprintf(w, "languages\t%s (default %s)\n", strings.Join(langs, ", "), f.DefaultLanguage)
	if r := f.Repeats(); len(r) > 0 {
		fmt.Fprintf(w, "repeats\t%s\n", strings.Join(r, ", "))
	}
	fields := f.Fields()
	byType := map[string]int{}
	bySens := map[string]int{}
	for _, fd := range fields {
		byType[fd.Type]++
		s := fd.Sensitivity
		if s == "" {
			s = "none"
		}
		bySens[s]++
	}
	fmt.Fprintf(w, "questions\t%d\n", len(fields))
	for _, k := range formsCountKeys(byType) {
		fmt.Fprintf(w, "  %s\t%d\n", k, byType[k])
	}
	fmt.Fprintf(w, "sensitivity\t\n")
	for _, k := range []string{"direct", "quasi", "sensitive", "none"} {
		fmt.Fprintf(w, "  %s\t%d\n", k, bySens[k])
	}
	w.Flush()
}

func formsCountKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}

func runFormsCheck(e *env, args []string) error {
	fs := newFlags(e, "forms check", "forms check FILE --submission SUB.json [--lang CODE] [--format text|json]",
		"dotm forms check questionnaire/forms/dotm_household.yaml --submission questionnaire/testdata/household_valid.json --format json")
	subPath := fs.String("submission", "", "submission JSON: the envelope a tablet posts ({instance_id, ..., answers}) or just the answers object")
	lang := fs.String("lang", "", "language of the messages (default: the form's default language)")
	format := fs.String("format", "text", "output format: text or json ({\"valid\": bool, \"problems\": [...]})")
	path, err := formsParseArgs(e, fs, args, "forms check")
	if err != nil {
		return err
	}
	if *subPath == "" {
		return exitError{code: 2, msg: "forms check: --submission is required"}
	}
	if *format != "text" && *format != "json" {
		return exitError{code: 2, msg: fmt.Sprintf("forms check: --format %q (want text or json)", *format)}
	}
	f, err := formsLoad(path)
	if err != nil {
		var ex exitError
		if errors.As(err, &ex) {
			return err
		}
		return exitError{code: 2, msg: "forms check: " + err.Error()}
	}
	data, err := os.ReadFile(*subPath)
	if err != nil {
		return exitError{code: 2, msg: "forms check: " + err.Error()}
	}
	answers, now, err := formsReadSubmission(data)
	if err != nil {
		return exitError{code: 2, msg: fmt.Sprintf("forms check: %s: %v", *subPath, err)}
	}
	if now.IsZero() {
		now = time.Now()
	}
	_, problems := f.Validate(answers, questionnaire.ValidateOptions{Lang: *lang, Now: now})
	if *format == "json" {
		out := struct {
			Valid    bool                    `json:"valid"`
			Problems []questionnaire.Problem `json:"problems"`
		}{Valid: len(problems) == 0, Problems: problems}
		if out.Problems == nil {
			out.Problems = []questionnaire.Problem{}
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else if len(problems) == 0 {
		fmt.Fprintf(e.stdout, "valid: %s answers %s %s\n", *subPath, f.ID, f.Version)
	} else {
		fmt.Fprintf(e.stdout, "invalid: %d problem(s)\n", len(problems))
		w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		for _, p := range problems {
			fmt.Fprintf(w, "  %s\t%s\t%s\n", p.Path, p.Code, p.Message)
		}
		w.Flush()
	}
	if len(problems) > 0 {
		return exitError{code: 1}
	}
	return nil
}

// formsReadSubmission reads a submission envelope (unknown envelope fields are
// errors) or a bare answers object; now is the envelope's ended_at.
func formsReadSubmission(data []byte) (map[string]any, time.Time, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, time.Time{}, err
	}
	if _, ok := probe["answers"]; !ok {
		var answers map[string]any
		err := json.Unmarshal(data, &answers)
		return answers, time.Time{}, err
	}
	// The envelope the API takes (POST /api/v1/submissions).
	var s dotm.Envelope
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, time.Time{}, err
	}
	if s.Answers == nil {
		return nil, time.Time{}, errors.New("answers is not an object")
	}
	// Times are optional here; a given one must be RFC 3339.
	parse := func(field, value string) (time.Time, error) {
		if value == "" {
			return time.Time{}, nil
		}
		v, err := time.Parse(time.RFC3339Nano, value)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s: %q is not an RFC 3339 time such as 2026-01-01T11:00:00Z", field, value)
		}
		return v, nil
	}
	if _, err := parse("started_at", s.StartedAt); err != nil {
		return nil, time.Time{}, err
	}
	ended, err := parse("ended_at", s.EndedAt)
	if err != nil {
		return nil, time.Time{}, err
	}
	return s.Answers, ended, nil
}

func runFormsConvert(e *env, args []string) error {
	fs := newFlags(e, "forms convert", "forms convert FILE --to xlsx|yaml|json|xform [--out FILE]",
		"dotm forms convert questionnaire/forms/dotm_household.yaml --to xlsx --out household.xlsx\n"+
			"dotm forms convert questionnaire/forms/dotm_household.yaml --to xform --out household.xml")
	to := fs.String("to", "", "output format: xlsx, yaml, json or xform (ODK XForm XML, as pyxform writes it)")
	out := fs.String("out", "", "output file (default: standard output; required for xlsx on a terminal)")
	path, err := formsParseArgs(e, fs, args, "forms convert")
	if err != nil {
		return err
	}
	switch *to {
	case "xlsx", "yaml", "json", "xform":
	default:
		return exitError{code: 2, msg: fmt.Sprintf("forms convert: --to %q (want xlsx, yaml, json or xform)", *to)}
	}
	f, err := formsLoad(path)
	if err != nil {
		var ex exitError
		if errors.As(err, &ex) {
			return err
		}
		return exitError{code: 1, msg: "forms convert: " + err.Error()}
	}
	var data []byte
	if *to == "xform" {
		data, err = f.XForm()
	} else {
		data, err = f.Encode(*to)
	}
	if err != nil {
		return err
	}
	if *out == "" {
		if *to == "xlsx" && isTerminal(e.stdout) {
			return exitError{code: 2, msg: "forms convert: give --out FILE for xlsx (it is binary)"}
		}
		_, err := e.stdout.Write(data)
		return err
	}
	return formsWriteFile(*out, data)
}

// formsWriteFile writes data to a temporary file next to path and renames
// it into place, so a reader never sees a half-written file.
func formsWriteFile(path string, data []byte) error {
	tmp, err := outfile.Temp(path, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	name := tmp.Name()
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(name)
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(name)
		return err
	}
	if err := os.Chmod(name, 0o644); err != nil {
		os.Remove(name)
		return err
	}
	if err := os.Rename(name, path); err != nil {
		os.Remove(name)
		return err
	}
	return nil
}
