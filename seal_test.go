package dotm

import (
	"reflect"
	"testing"
)

func TestSetPath(t *testing.T) {
	for _, c := range []struct {
		m    map[string]any
		path string
		ok   bool
	}{
		{map[string]any{}, "a", true},
		{map[string]any{}, "g.a", true},
		{map[string]any{"r": []any{map[string]any{}}}, "r[0].a", true},
		{map[string]any{"r": []any{map[string]any{}}}, "r[1].a", false},
		{map[string]any{"r": []any{"x"}}, "r[0].a", false},
		{map[string]any{}, "r[0].a", false},
		{map[string]any{"r": []any{map[string]any{}}}, "r[x].a", false},
		{map[string]any{"r": []any{map[string]any{}}}, "r[0]", false},
	} {
		err := setPath(c.m, c.path, "v")
		if (err == nil) != c.ok {
			t.Errorf("setPath(%v, %q): %v", c.m, c.path, err)
		}
	}
}

// TestAnswerPaths: keys with the path's own characters ('.', '[', ']',
// '\') are escaped in a sealed value's path and read back to the same
// keys; malformed paths are refused.
func TestAnswerPaths(t *testing.T) {
	keys := []string{"name", ".x", "a.b", "a[1]", "]", `back\slash`, "", "ñandú"}
	for _, k1 := range keys {
		for _, k2 := range keys {
			path := pathSegment(k1) + "[3]." + pathSegment(k2)
			steps, err := parsePath(path)
			if err != nil {
				t.Fatalf("%q: %v", path, err)
			}
			want := []pathStep{{key: k1, idx: 3}, {key: k2, idx: -1}}
			if !reflect.DeepEqual(steps, want) {
				t.Fatalf("%q: %+v, want %+v", path, steps, want)
			}
		}
	}
	for _, bad := range []string{`a\`, "a[x].b", "a[-1]", "a[1]b", "a]b", "a[1", `a[1\]`} {
		if _, err := parsePath(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	// Unescaped paths of question names read as before.
	if steps, err := parsePath("members[2].member_name"); err != nil || !reflect.DeepEqual(steps, []pathStep{{"members", 2}, {"member_name", -1}}) {
		t.Fatalf("plain path: %+v %v", steps, err)
	}
}
