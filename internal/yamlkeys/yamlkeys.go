// Package yamlkeys checks the keys of a YAML document against the Go type
// it will be decoded into, before decoding, so that a misspelt key is
// reported in the user's terms: its line, where it is, and the nearest
// known keys ("did you mean"), rather than yaml.v3's "field x not found in
// type pkg.T". It does not decode; Explain rewrites the decoder's type
// errors ("cannot unmarshal !!str `abc` into float64") the same way.
package yamlkeys

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/dotm-survey/dotm/internal/suggest"
)

var nodeType = reflect.TypeFor[yaml.Node]()

// Check checks every mapping key of n, at every level, against the yaml
// names of the fields of t (as yaml.v3 names them: the tag's name, else
// the lower-case field name; inline structs' keys in place). Maps' values
// are checked against the map's element type; a slice given one mapping
// instead of a list is checked as that one item; yaml.Node fields are left
// to their own parsers, aliases to where their anchors are defined (the
// decoder still refuses unknown keys there). where names n's place ("" at
// the top). It takes time linear in the document.
func Check(n *yaml.Node, t reflect.Type, where string) error {
	if n.Kind == yaml.AliasNode {
		// Checked where its anchor is defined; following aliases could
		// take time quadratic in the document (one anchor used many times).
		return nil
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		n = n.Content[0]
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nodeType {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return nil // the decoder says what was expected
		}
		names, types := fields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "<<" { // a merge: its keys are checked where they are defined
				continue
			}
			ft, ok := types[k.Value]
			if !ok {
				return unknown(k, where, names)
			}
			if err := Check(v, ft, join(where, k.Value)); err != nil {
				return err
			}
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := Check(n.Content[i+1], t.Elem(), join(where, n.Content[i].Value)); err != nil {
				return err
			}
		}
	case reflect.Slice:
		switch n.Kind {
		case yaml.SequenceNode:
			for i, c := range n.Content {
				if err := Check(c, t.Elem(), fmt.Sprintf("%s[%d]", where, i)); err != nil {
					return err
				}
			}
		case yaml.MappingNode: // one item for a list
			return Check(n, t.Elem(), where)
		}
	}
	return nil
}

func join(where, key string) string {
	if where == "" {
		return key
	}
	return where + "." + key
}

func unknown(k *yaml.Node, where string, names []string) error {
	in := ""
	if where != "" {
		in = " in " + where
	}
	msg := fmt.Sprintf("line %d: unknown key %q%s", k.Line, k.Value, in)
	if hint := suggest.DidYouMean(k.Value, names); hint != "" {
		return fmt.Errorf("%s; %s", msg, hint)
	}
	return fmt.Errorf("%s; the keys here are %s", msg, strings.Join(names, ", "))
}

// fields lists the yaml keys of struct t in field order, with their types.
func fields(t reflect.Type) ([]string, map[string]reflect.Type) {
	var names []string
	types := map[string]reflect.Type{}
	for f := range t.Fields() {
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			ns, ts := fields(f.Type)
			names = append(names, ns...)
			for k, v := range ts {
				types[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		names = append(names, name)
		types[name] = f.Type
	}
	return names, types
}

var typeErrorLine = regexp.MustCompile("^line (\\d+): cannot unmarshal !!(\\w+) (?:`(.*)` )?into (.+)$")

// Explain rewrites a *yaml.TypeError from decoding into Go types in the
// user's terms: "line 3: "abc" is not a number" for yaml.v3's
// "line 3: cannot unmarshal !!str `abc` into float64", problems joined by
// "; ". Other errors are returned as they are.
func Explain(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	lines := make([]string, len(te.Errors))
	for i, e := range te.Errors {
		m := typeErrorLine.FindStringSubmatch(e)
		if m == nil {
			lines[i] = e
			continue
		}
		want := expected(m[4])
		switch m[2] {
		case "seq":
			lines[i] = fmt.Sprintf("line %s: a list where %s is expected", m[1], want)
		case "map":
			lines[i] = fmt.Sprintf("line %s: a mapping (key: value) where %s is expected", m[1], want)
		default:
			lines[i] = fmt.Sprintf("line %s: %q is not %s", m[1], m[3], want)
		}
	}
	return errors.New(strings.Join(lines, "; "))
}

// expected says what a Go type accepts, in YAML terms.
func expected(goType string) string {
	goType = strings.TrimLeft(goType, "*")
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["), strings.Contains(goType, "."), strings.HasPrefix(goType, "struct"):
		return "a mapping (key: value)"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "a whole number"
	case goType == "bool":
		return "true or false"
	case goType == "string":
		return "a single value"
	}
	return "a " + goType
}
