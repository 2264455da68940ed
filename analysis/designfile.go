package analysis

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"

	"gopkg.in/yaml.v3"

	"github.com/dotm-survey/dotm/internal/yamlkeys"
)

// ParseDesign reads a design file: the keys of a plan's design (strata,
// stage_strata, psu, certainty, weight, fpc, pps, nest, lonely_psu, …) at
// the top level, as `dotm weights base --design` writes them. Unknown keys
// are errors.
func ParseDesign(b []byte) (PlanDesign, error) {
	var d PlanDesign
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return d, fmt.Errorf("design file: %w", err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return d, fmt.Errorf("design file: empty")
	}
	if err := yamlkeys.Check(&doc, reflect.TypeFor[PlanDesign](), ""); err != nil {
		return d, fmt.Errorf("design file: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&d); err != nil {
		if errors.Is(err, io.EOF) {
			return d, fmt.Errorf("design file: empty")
		}
		return d, fmt.Errorf("design file: %w", yamlkeys.Explain(err))
	}
	if d.File != "" {
		return d, fmt.Errorf("design file: file: %s: a design file cannot name another", d.File)
	}
	if d.PPS != "" && d.PPS != PPSBrewer {
		return d, fmt.Errorf("design file: pps %q: the only PPS approximation is brewer", d.PPS)
	}
	return d, nil
}

// WithFile returns the plan's design completed by the design file's: every
// key the plan leaves unset takes the file's value (so a plan can name the
// weight column made after the base weights, or add a calibration), and
// File is cleared.
func (p PlanDesign) WithFile(file PlanDesign) PlanDesign {
	out := p
	ov, fv := reflect.ValueOf(&out).Elem(), reflect.ValueOf(file)
	for i := range ov.NumField() {
		if ov.Field(i).IsZero() {
			ov.Field(i).Set(fv.Field(i))
		}
	}
	out.File = ""
	return out
}
