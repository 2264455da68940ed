package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dotm-survey/dotm/analysis"
	"github.com/dotm-survey/dotm/sampling"
)

// designFileName is the design file written beside a base weights file.
func designFileName(out string) string {
	return strings.TrimSuffix(out, filepath.Ext(out)) + ".design.yaml"
}

// writeDesignFile writes the design as drawn (a plan's design keys, with
// the specification and the R declaration as comments) for the base
// weights file data.
func writeDesignFile(path string, dd sampling.DrawnDesign, data string) error {
	c := dd.Columns
	return writeAtomic(path, func(w io.Writer) error {
		var b strings.Builder
		fmt.Fprintf(&b, "# The sample design as drawn, for %s (written by dotm weights base).\n", filepath.Base(data))
		for _, line := range wrap(dd.Specification, 76) {
			fmt.Fprintf(&b, "# %s\n", line)
		}
		b.WriteString("#\n# In an analysis plan:  design: {file: " + filepath.Base(path) + "}\n")
		b.WriteString("# and name the final weight there when it is not this file's (design: {file: ..., weight: w_final}).\n")
		b.WriteString("# The same design in R, with d <- read.csv(\"" + filepath.Base(data) + "\"):\n")
		for _, line := range strings.Split(strings.TrimSpace(dd.R), "\n") {
			fmt.Fprintf(&b, "#   %s\n", line)
		}
		fmt.Fprintf(&b, "strata: %s\nstage_strata: %s\npsu: [%s, %s]\ncertainty: %s\nweight: %s\nnest: true\nlonely_psu: adjust\n",
			c.Stratum, c.Class, c.PSU, c.Household, c.Certainty, c.Weight)
		if dd.Variance == sampling.Brewer {
			fmt.Fprintf(&b, "fpc: [%s, %s]\npps: brewer\n", c.Pi1, c.Pi2)
		}
		_, err := io.WriteString(w, b.String())
		return err
	})
}

// wrap splits s into lines of at most width runes at spaces.
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		if line != "" && len([]rune(line))+1+len([]rune(word)) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// resolveDesignFile reads the design file a plan names (design: {file:
// F}, relative to the plan) and completes the plan's design with it.
func resolveDesignFile(plan *analysis.Plan, planPath string) error {
	if err := readMargins(plan, planPath); err != nil {
		return err
	}
	if plan.Design.File == "" {
		return nil
	}
	path := plan.Design.File
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(planPath), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("design: file: %w", err)
	}
	d, err := analysis.ParseDesign(b)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	plan.Design = plan.Design.WithFile(d)
	return nil
}

// describeDesignFile says which design the design file at path encodes
// (path "": data's .design.yaml if it exists, else no design: "").
func describeDesignFile(path, data string) (string, error) {
	if path == "" {
		path = designFileName(data)
		if _, err := os.Stat(path); err != nil {
			return "", nil
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	d, err := analysis.ParseDesign(b)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	desc := d.Spec().Describe()
	if desc == "" {
		desc = "as declared"
	}
	return fmt.Sprintf("%s (%s)", desc, filepath.Base(path)), nil
}

// readMargins reads the margins file of a calibration step that names one
// (relative to the plan), for analyze to rake to.
func readMargins(plan *analysis.Plan, planPath string) error {
	for i := range plan.Design.Calibration {
		st := &plan.Design.Calibration[i]
		if st.Margins == "" {
			continue
		}
		path := st.Margins
		if !filepath.IsAbs(path) {
			path = filepath.Join(filepath.Dir(planPath), path)
		}
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("design: calibration: margins: %w", err)
		}
		rows, err := sampling.ReadMargins(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("design: calibration: margins %s: %w", path, err)
		}
		st.MarginRows = rows
	}
	return nil
}
