package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dotm-survey/dotm/questionnaire"
)

func TestBridge(t *testing.T) {
	js, err := questionnaire.Household().Encode("json")
	if err != nil {
		t.Fatal(err)
	}
	var fs forms
	var loaded struct {
		Handle  int                         `json:"handle"`
		Form    formInfo                    `json:"form"`
		Outline []questionnaire.OutlineItem `json:"outline"`
		Error   string                      `json:"error"`
	}
	if err := json.Unmarshal([]byte(fs.load(string(js))), &loaded); err != nil || loaded.Error != "" {
		t.Fatalf("load: %v %s", err, loaded.Error)
	}
	if loaded.Handle != 1 || loaded.Form.ID != "dotm_household" || len(loaded.Form.Languages) < 2 || len(loaded.Outline) == 0 {
		t.Fatalf("load: %+v", loaded.Form)
	}
	tests := []struct {
		name                     string
		handle                   int
		answers, lang, now, want string
	}{
		{"state in Spanish", 1, `{"consent": "yes", "n_members": 0}`, "es", "2026-03-01T10:00:00Z", `"Un hogar tiene de 1 a 40 miembros."`},
		{"problems for an empty interview", 1, `{}`, "en", "", `"code":"required"`},
		{"unknown handle", 7, `{}`, "en", "", `"error":"no form loaded with handle 7"`},
		{"answers not an object", 1, `[1]`, "en", "", `"error":"answers: `},
		{"bad time", 1, `{}`, "en", "yesterday", `"error":"now: `},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := fs.state(tc.handle, tc.answers, tc.lang, tc.now)
			if !strings.Contains(got, tc.want) {
				t.Errorf("state = %.300s\nwant it to contain %s", got, tc.want)
			}
		})
	}
	if got := fs.load(`{"survey": [{"type": "nonsense", "name": "x"}]}`); !strings.Contains(got, `"error"`) {
		t.Errorf("a broken form loads: %.200s", got)
	}
	fs.unload(1)
	if got := fs.state(1, `{}`, "", ""); !strings.Contains(got, "no form loaded") {
		t.Errorf("state after unload: %.200s", got)
	}
}
