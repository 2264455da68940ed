package questionnaire

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Instance is a filled-in form as ODK Collect, KoboCollect or Enketo submit
// it (an XForm instance document), read into dotm's terms: answers keyed by
// question name, repeats as arrays of objects, groups flattened, as the
// JSON API takes them. Values stay the text ODK wrote ("12", "yes no",
// "5.6 -0.2 1200 4.5"); Validate reads them as it reads JSON strings.
type Instance struct {
	FormID, FormVersion string // the root element's id and version attributes
	// InstanceID is meta/instanceID without its "uuid:" prefix;
	// DeprecatedID is meta/deprecatedID, set when the instance edits an
	// earlier one that was sent.
	InstanceID, DeprecatedID string
	Answers                  map[string]any
}

// MaxInstanceDepth bounds the nesting of an instance document.
const MaxInstanceDepth = 64

// ReadInstance reads an XForm instance document of form f. Elements are
// matched to the form's questions by name at any depth of groups; an
// element that is neither a question, a group of the form nor meta is an
// error naming it, as an unknown field of a JSON submission is.
func (f *Form) ReadInstance(data []byte) (*Instance, error) {
	fields := f.Fields()
	if fields == nil {
		return nil, fmt.Errorf("questionnaire: form %s is not compiled", f.ID)
	}
	isField := make(map[string]bool, len(fields))
	isRepeat := map[string]bool{}
	for _, fd := range fields {
		isField[fd.Name] = true
		for _, r := range fd.Repeats {
			isRepeat[r] = true
		}
	}
	isGroup, isOther := map[string]bool{}, map[string]bool{}
	for _, q := range f.Survey {
		switch rowKind(q.Type) {
		case "begin group":
			isGroup[q.Name] = true
		case "begin repeat":
			isRepeat[q.Name] = true
		case "":
			name := q.Name
			if name == "" && strings.EqualFold(strings.TrimSpace(q.Type), "note") {
				name = "generated_note_name_" + strconv.Itoa(q.Row) // as Compile names it
			}
			if name != "" && !isField[name] {
				isOther[name] = true // a note: ODK writes it as an empty element
			}
		}
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	var root *xml.StartElement
	for root == nil {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil, fmt.Errorf("instance: no root element")
		}
		if err != nil {
			return nil, fmt.Errorf("instance: %w", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			root = &se
		}
	}
	in := &Instance{Answers: map[string]any{}}
	for _, a := range root.Attr {
		switch a.Name.Local {
		case "id":
			in.FormID = a.Value
		case "version":
			in.FormVersion = a.Value
		}
	}
	r := instanceReader{dec: dec, isField: isField, isRepeat: isRepeat, isGroup: isGroup, isOther: isOther, in: in}
	if err := r.children(in.Answers, root.Name.Local, "", 1); err != nil {
		return nil, err
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("instance: after the root element: %w", err)
		}
		if _, ok := tok.(xml.StartElement); ok {
			return nil, fmt.Errorf("instance: a second root element")
		}
	}
	return in, nil
}

type instanceReader struct {
	dec                                 *xml.Decoder
	isField, isRepeat, isGroup, isOther map[string]bool
	in                                  *Instance
}

// children reads the content of element path up to its end tag into out;
// rel is the path of groups from out's repeat level ("head/"), which keys
// a question whose name the level's questions share (see item.key).
func (r *instanceReader) children(out map[string]any, path, rel string, depth int) error {
	if depth > MaxInstanceDepth {
		return fmt.Errorf("instance: %s: nested deeper than %d elements", path, MaxInstanceDepth)
	}
	for {
		tok, err := r.dec.Token()
		if err != nil {
			return fmt.Errorf("instance: in %s: %w", path, err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.CharData:
			if strings.TrimSpace(string(t)) != "" {
				return fmt.Errorf("instance: %s: text %q where elements were expected", path, clip(string(t)))
			}
		case xml.StartElement:
			name := t.Name.Local
			at := path + "/" + name
			key := name
			if r.isField[rel+name] {
				key = rel + name
			}
			switch {
			case name == "meta" && depth == 1:
				if err := r.meta(at); err != nil {
					return err
				}
			case r.isRepeat[name]:
				entry := map[string]any{}
				if err := r.children(entry, at, "", depth+1); err != nil {
					return err
				}
				list, _ := out[name].([]any)
				out[name] = append(list, entry)
			case r.isField[key]:
				text, err := r.text(at)
				if err != nil {
					return err
				}
				if _, dup := out[key]; dup {
					return fmt.Errorf("instance: %s appears twice", at)
				}
				if text != "" { // an empty element is an unanswered question
					out[key] = text
				}
			case r.isGroup[name]:
				if err := r.children(out, at, rel+name+"/", depth+1); err != nil {
					return err
				}
			case r.isOther[name]:
				if _, err := r.text(at); err != nil {
					return err
				}
			default:
				return fmt.Errorf("instance: %s: the form has no question, group or repeat %q", at, name)
			}
		}
	}
}

// text reads a question element's text; it may not hold elements.
func (r *instanceReader) text(path string) (string, error) {
	var b strings.Builder
	for {
		tok, err := r.dec.Token()
		if err != nil {
			return "", fmt.Errorf("instance: in %s: %w", path, err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			b.Write(t)
		case xml.EndElement:
			return strings.TrimSpace(b.String()), nil
		case xml.StartElement:
			return "", fmt.Errorf("instance: %s: an answer holds element %q", path, t.Name.Local)
		}
	}
}

// meta reads the meta block: instanceID and deprecatedID are kept, the
// rest (instanceName, audit, entity) is ignored.
func (r *instanceReader) meta(path string) error {
	for {
		tok, err := r.dec.Token()
		if err != nil {
			return fmt.Errorf("instance: in %s: %w", path, err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			switch t.Name.Local {
			case "instanceID", "deprecatedID":
				v, err := r.text(path + "/" + t.Name.Local)
				if err != nil {
					return err
				}
				v = strings.TrimPrefix(v, "uuid:")
				if t.Name.Local == "instanceID" {
					r.in.InstanceID = v
				} else {
					r.in.DeprecatedID = v
				}
			default:
				if err := r.dec.Skip(); err != nil {
					return fmt.Errorf("instance: in %s: %w", path, err)
				}
			}
		}
	}
}

func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// rowKind is "begin group", "end group", "begin repeat" or "end repeat" for
// a structural survey row (however spelled: begin_group, BEGIN GROUP …),
// "" for a question or note.
func rowKind(typ string) string {
	t := strings.Join(strings.Fields(strings.ReplaceAll(strings.ToLower(typ), "_", " ")), " ")
	switch t {
	case "begin group", "end group", "begin repeat", "end repeat":
		return t
	}
	return ""
}

// EncodeInstance writes answers (as the JSON API takes them) as the XForm
// instance document ODK Collect would send for form f: questions nested in
// their groups and repeats, every question present (empty when
// unanswered), meta/instanceID "uuid:"+instanceID and, when set,
// meta/deprecatedID. It is ReadInstance's inverse.
func (f *Form) EncodeInstance(answers map[string]any, instanceID, deprecatedID string) ([]byte, error) {
	type node struct {
		name     string
		key      string // a question's answer key (see item.key)
		kind     string // group, repeat or "" (question)
		rel      string // a group's path of groups from its repeat level, "head/"
		children []*node
	}
	isField := map[string]bool{}
	for _, fd := range f.Fields() {
		isField[fd.Name] = true
	}
	root := &node{kind: "group"}
	stack := []*node{root}
	for _, q := range f.Survey {
		top := stack[len(stack)-1]
		switch rowKind(q.Type) {
		case "begin group", "begin repeat":
			n := &node{name: q.Name, kind: strings.TrimPrefix(rowKind(q.Type), "begin ")}
			if n.kind == "group" {
				n.rel = top.rel + q.Name + "/"
			}
			top.children = append(top.children, n)
			stack = append(stack, n)
		case "end group", "end repeat":
			if len(stack) == 1 {
				return nil, fmt.Errorf("questionnaire: %s: unbalanced %s", f.ID, q.Type)
			}
			stack = stack[:len(stack)-1]
		default:
			if q.Name != "" {
				key := q.Name
				if isField[top.rel+q.Name] {
					key = top.rel + q.Name
				}
				top.children = append(top.children, &node{name: q.Name, key: key})
			}
		}
	}
	var b bytes.Buffer
	esc := func(s string) { _ = xml.EscapeText(&b, []byte(s)) }
	var write func(n *node, values map[string]any)
	write = func(n *node, values map[string]any) {
		for _, c := range n.children {
			switch c.kind {
			case "group":
				b.WriteString("<" + c.name + ">")
				write(c, values)
				b.WriteString("</" + c.name + ">")
			case "repeat":
				list, _ := values[c.name].([]any)
				for _, e := range list {
					m, _ := e.(map[string]any)
					b.WriteString("<" + c.name + ">")
					write(c, m)
					b.WriteString("</" + c.name + ">")
				}
			default:
				b.WriteString("<" + c.name + ">")
				esc(instanceText(values[c.key]))
				b.WriteString("</" + c.name + ">")
			}
		}
	}
	name := f.Settings["name"]
	if name == "" {
		name = "data"
	}
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString("<" + name + ` xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms" id="`)
	esc(f.ID)
	b.WriteString(`" version="`)
	esc(f.Version)
	b.WriteString(`">`)
	write(root, answers)
	b.WriteString("<meta><instanceID>uuid:")
	esc(instanceID)
	b.WriteString("</instanceID>")
	if deprecatedID != "" {
		b.WriteString("<deprecatedID>uuid:")
		esc(deprecatedID)
		b.WriteString("</deprecatedID>")
	}
	b.WriteString("</meta></" + name + ">\n")
	return b.Bytes(), nil
}

// instanceText is an answer as ODK writes it in an instance: numbers in
// full, a multiple choice space-separated, a geopoint "lat lon alt
// accuracy".
func instanceText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = instanceText(e)
		}
		return strings.Join(parts, " ")
	case map[string]any: // a geopoint
		var parts []string
		for _, k := range []string{"lat", "lon", "alt", "accuracy"} {
			if e, ok := x[k]; ok {
				parts = append(parts, instanceText(e))
			}
		}
		return strings.Join(parts, " ")
	}
	return fmt.Sprint(v)
}
