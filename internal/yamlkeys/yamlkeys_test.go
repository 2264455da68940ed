package yamlkeys

import (
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"
)

type inner struct {
	Top    *float64 `yaml:"top"`
	Bottom float64  `yaml:"bottom"`
}

type base struct {
	Name string `yaml:"name"`
}

type doc struct {
	base    `yaml:",inline"`
	Count   int              `yaml:"count"`
	Skipped string           `yaml:"-"`
	Plain   string           // yaml.v3's default name: "plain"
	Items   []inner          `yaml:"items"`
	ByName  map[string]inner `yaml:"by_name"`
	Free    yaml.Node        `yaml:"free"`
	Ptr     *inner           `yaml:"ptr"`
}

func TestCheck(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"name: a\ncount: 1\nplain: x\nitems: [{top: 1}]\nby_name: {a: {bottom: 2}}\nfree: {anything: 1}\nptr: {top: 3}\n", ""},
		{"nmae: a\n", `line 1: unknown key "nmae"; did you mean "name"?`},
		{"count: 1\nskipped: x\n", `line 2: unknown key "skipped"; the keys here are name, count, plain, items, by_name, free, ptr`},
		{"items:\n  - {top: 1}\n  - {tpo: 2}\n", `line 3: unknown key "tpo" in items[1]; did you mean "top"?`},
		{"by_name:\n  a: {bottom: 1}\n  b: {botom: 1}\n", `line 3: unknown key "botom" in by_name.b; did you mean "bottom"?`},
		{"items: {top: 1, bottm: 2}\n", `line 1: unknown key "bottm" in items; did you mean "bottom"?`},
		{"items:\n  - &a {top: 1}\nptr: *a\n", ""},
		{"ptr: &a {top: 1}\nby_name: {x: *a, y: {bottom: 1, tip: 2}}\n", `line 2: unknown key "tip" in by_name.y; did you mean "top"?`},
		{"ptr: &a {top: 1, tpo: 2}\nitems: [*a]\n", `line 1: unknown key "tpo" in ptr; did you mean "top"?`},
		{"count: [1, 2]\n", ""}, // a type mismatch is the decoder's to report
	} {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(tt.in), &n); err != nil {
			t.Fatal(err)
		}
		err := Check(&n, reflect.TypeFor[doc](), "")
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%q:\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

func TestExplain(t *testing.T) {
	type plan struct {
		P     []float64 `yaml:"p"`
		NARM  bool      `yaml:"na_rm"`
		N     int       `yaml:"n"`
		Data  string    `yaml:"data"`
		Items []inner   `yaml:"items"`
		Inner inner     `yaml:"inner"`
	}
	var p plan
	err := Explain(yaml.Unmarshal([]byte("p: [abc]\nna_rm: maybe\nn: ten\ndata: [a, b]\nitems: {top: 1}\ninner: [1]\n"), &p))
	want := `line 1: "abc" is not a number; line 2: "maybe" is not true or false; line 3: "ten" is not a whole number; ` +
		`line 4: a list where a single value is expected; line 5: a mapping (key: value) where a list is expected; ` +
		`line 6: a list where a mapping (key: value) is expected`
	if err == nil || err.Error() != want {
		t.Errorf("Explain:\n got %v\nwant %s", err, want)
	}
	if err := Explain(nil); err != nil {
		t.Errorf("Explain(nil) = %v", err)
	}
	other := yaml.Unmarshal([]byte("a: [\n"), &p)
	if got := Explain(other); got != other {
		t.Errorf("Explain changed a syntax error: %v", got)
	}
}
