package questionnaire

import (
	"fmt"
	"math"
)

// State is what a data-entry client needs to draw a form for the answers
// entered so far: which items are shown, which choices a select offers,
// which questions are required, how many entries a counted repeat needs,
// the calculated values and the problems Validate finds. The offline web
// client computes it with this package compiled to WebAssembly, so the
// tablet applies exactly the rules the server applies.
//
// Paths are those of Problem.Path: "age", "members[2].age", and for a
// group or a note its name in the same way ("members[2].education_group").
type State struct {
	// Answers are Validate's normalized answers: non-relevant answers
	// dropped, calculations recomputed. A client submits these.
	Answers map[string]any `json:"answers"`
	// Relevant maps the path of every group, repeat, note and field of
	// every reached repeat instance to whether it is shown. Items inside a
	// group or repeat that is not shown are not listed.
	Relevant map[string]bool `json:"relevant"`
	// Required lists the relevant fields that must be answered (static or
	// by a required expression), by path.
	Required map[string]bool `json:"required"`
	// Choices maps the path of every relevant select with a choice_filter
	// to the names of the choices the filter lets through, in list order
	// ("other" included for or_other selects).
	Choices map[string][]string `json:"choices"`
	// RepeatCounts maps the path of every relevant repeat that has a
	// repeat_count to the number of entries it expects.
	RepeatCounts map[string]int `json:"repeat_counts"`
	// Problems are Validate's problems for the answers: root causes in
	// form order, then the problems that follow from them (see
	// Problem.Cause).
	Problems []Problem `json:"problems"`
	// Labels names the answer of each problem for the enumerator (see
	// Describe, with answer values): problem path -> "Household member 2
	// (Rosa) › Sex of Rosa".
	Labels map[string]string `json:"labels,omitempty"`
}

// State validates answers with opts (as Validate) and evaluates, on the
// normalized answers Validate returns, the relevance of every item, the
// required expressions, the choice filters and the repeat counts.
//
// Relevance is evaluated once on the settled answers, after Validate has
// dropped the answers that are not relevant; this gives Validate's own
// decisions for every expression that refers to earlier questions (the
// XLSForm rule), and the settled value for one that refers forward.
func (f *Form) State(answers map[string]any, opts ValidateOptions) State {
	norm, problems := f.Validate(answers, opts)
	s := State{Answers: norm, Problems: problems, Relevant: map[string]bool{}, Required: map[string]bool{},
		Choices: map[string][]string{}, RepeatCounts: map[string]int{}}
	if f.c == nil {
		return s
	}
	if s.Answers == nil {
		s.Answers = map[string]any{}
	}
	lang := opts.Lang
	if lang == "" {
		lang = f.DefaultLanguage
	}
	st := &vstate{f: f, c: f.c, lang: lang, now: opts.Now, bad: map[string]bool{}, root: s.Answers}
	st.stateLevel(&s, nil, nil, s.Answers, "")
	for _, p := range problems {
		if s.Labels == nil {
			s.Labels = map[string]string{}
		}
		if _, done := s.Labels[p.Path]; !done {
			s.Labels[p.Path] = f.Describe(p.Path, answers, lang, true)
		}
	}
	return s
}

// stateLevel fills s for the items answered at one repeat level (nil = top)
// in the instance m.
func (st *vstate) stateLevel(s *State, level *item, frames []frame, m map[string]any, prefix string) {
	for _, it := range st.c.all {
		if it.level() != level {
			continue
		}
		// an item inside a hidden group of this level is not listed
		hidden := false
		for p := it.parent; p != nil && p != level; p = p.parent {
			if g, ok := s.Relevant[prefix+p.q.Name]; ok && !g {
				hidden = true
				break
			}
		}
		if hidden {
			continue
		}
		path := prefix + it.key
		rel := it.relevant == nil || it.relevant.evalValue(st.envFor(frames, m, it)).boolean()
		s.Relevant[path] = rel
		if !rel {
			continue
		}
		switch it.kind {
		case kindRepeat:
			if it.count != nil {
				n := it.count.evalValue(st.envFor(frames, m, nil)).number()
				if math.IsNaN(n) || n < 0 {
					n = 0
				}
				s.RepeatCounts[path] = int(n)
			}
			list, _ := m[it.key].([]any)
			for i, x := range list {
				inst, _ := x.(map[string]any)
				if inst == nil {
					continue
				}
				sub := append(append([]frame(nil), frames...), frame{rep: it, idx: i, m: inst})
				st.stateLevel(s, it, sub, inst, fmt.Sprintf("%s[%d].", path, i))
			}
		case kindField:
			if it.base != "calculate" && (it.requiredStatic || it.required != nil && it.required.evalValue(st.envFor(frames, m, it)).boolean()) {
				s.Required[path] = true
			}
			if it.filter != nil {
				names := []string{}
				for _, ch := range st.c.lists[it.list] {
					env := st.envFor(frames, m, it)
					env.choice = ch
					if it.filter.evalValue(env).boolean() {
						names = append(names, ch.Name)
					}
				}
				if it.orOther {
					names = append(names, "other")
				}
				s.Choices[path] = names
			}
		}
	}
}

// Outline is the item tree of a form for a client that draws it: groups
// and repeats with their children, notes and fields, with the base type
// and choice list already read from the type column.
func (f *Form) Outline() []OutlineItem {
	if f.c == nil {
		return nil
	}
	var build func(parent *item) []OutlineItem
	build = func(parent *item) []OutlineItem {
		out := []OutlineItem{}
		for _, it := range f.c.all {
			if it.parent != parent {
				continue
			}
			o := OutlineItem{Name: it.key, Type: it.base, ListName: it.list, OrOther: it.orOther,
				Label: it.q.Label, Hint: it.q.Hint, Appearance: it.q.Appearance, Sensitivity: it.sens,
				HasRepeatCount: it.count != nil}
			o.ReadOnly, _ = staticBool(it.q.ReadOnly)
			switch it.kind {
			case kindGroup:
				o.Kind = "group"
			case kindRepeat:
				o.Kind = "repeat"
			case kindNote:
				o.Kind = "note"
			default:
				o.Kind = "field"
			}
			if it.kind == kindGroup || it.kind == kindRepeat {
				o.Children = build(it)
			}
			if it.list != "" {
				for _, ch := range f.c.lists[it.list] {
					o.Choices = append(o.Choices, OutlineChoice{Name: ch.Name, Label: ch.Label})
				}
			}
			out = append(out, o)
		}
		return out
	}
	return build(nil)
}

// OutlineItem is one node of Outline.
type OutlineItem struct {
	// Kind is "group", "repeat", "note" or "field".
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Type is the base type (see Field.Type); "group", "repeat" or "note"
	// for those kinds.
	Type     string `json:"type"`
	ListName string `json:"list_name,omitempty"`
	// OrOther reports a select ... or_other, whose answer may be "other".
	OrOther     bool   `json:"or_other,omitempty"`
	Label       Text   `json:"label,omitempty"`
	Hint        Text   `json:"hint,omitempty"`
	Appearance  string `json:"appearance,omitempty"`
	ReadOnly    bool   `json:"read_only,omitempty"`
	Sensitivity string `json:"sensitivity,omitempty"`
	// HasRepeatCount reports a repeat whose number of entries the form
	// fixes (State.RepeatCounts gives the number).
	HasRepeatCount bool `json:"has_repeat_count,omitempty"`
	// Choices lists a select's choices in order (all of them; State.Choices
	// tells which a choice_filter lets through).
	Choices  []OutlineChoice `json:"choices,omitempty"`
	Children []OutlineItem   `json:"children,omitempty"`
}

// OutlineChoice is one choice of a select in Outline.
type OutlineChoice struct {
	Name  string `json:"name"`
	Label Text   `json:"label,omitempty"`
}
