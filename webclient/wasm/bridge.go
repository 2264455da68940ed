// Command wasm is the offline web client's rule engine: package
// questionnaire compiled with GOOS=js GOARCH=wasm. It exposes to JavaScript
// a global object dotmRules with two functions that take and return JSON
// text (see main_js.go):
//
//	dotmRules.load(formJSON)                      -> {"handle", "form", "outline"} or {"error"}
//	dotmRules.state(handle, answersJSON, lang, now) -> questionnaire.State or {"error"}
//
// The bridge itself (this file) is plain Go so that it is tested on the
// host; webclient/build.sh builds the WebAssembly file.
package main

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/dotm-survey/dotm/questionnaire"
)

// forms keeps the loaded forms by handle.
type forms struct {
	mu   sync.Mutex
	next int
	byID map[int]*questionnaire.Form
}

// formInfo is what load returns about a form besides its outline.
type formInfo struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Title   string `json:"title"`
	// Titles is the title in each of the form's languages (Form.TitleIn).
	Titles          map[string]string `json:"titles"`
	DefaultLanguage string            `json:"default_language"`
	Languages       []string          `json:"languages"`
	LanguageNames   map[string]string `json:"language_names"`
}

type loadResult struct {
	Handle  int                         `json:"handle"`
	Form    formInfo                    `json:"form"`
	Outline []questionnaire.OutlineItem `json:"outline"`
}

type errorResult struct {
	Error string `json:"error"`
}

func marshal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(errorResult{Error: err.Error()})
	}
	return string(b)
}

// load decodes a form served by GET /api/v1/forms/{form} and keeps it.
func (fs *forms) load(formJSON string) string {
	f, err := questionnaire.Decode([]byte(formJSON), "json")
	if err != nil {
		return marshal(errorResult{Error: err.Error()})
	}
	fs.mu.Lock()
	fs.next++
	h := fs.next
	if fs.byID == nil {
		fs.byID = map[int]*questionnaire.Form{}
	}
	fs.byID[h] = f
	fs.mu.Unlock()
	langs := f.Languages
	if langs == nil {
		langs = []string{}
	}
	titles := map[string]string{}
	for _, l := range langs {
		titles[l] = f.TitleIn(l)
	}
	return marshal(loadResult{Handle: h, Outline: f.Outline(), Form: formInfo{ID: f.ID, Version: f.Version, Title: f.Title, Titles: titles,
		DefaultLanguage: f.DefaultLanguage, Languages: langs, LanguageNames: f.LanguageNames}})
}

// state evaluates the form of handle for the answers (a JSON object, decoded
// as the collector decodes a submission: numbers as float64), with messages
// in lang and today()/now() at now (RFC 3339; "" = the zero time).
func (fs *forms) state(handle int, answersJSON, lang, now string) string {
	fs.mu.Lock()
	f := fs.byID[handle]
	fs.mu.Unlock()
	if f == nil {
		return marshal(errorResult{Error: fmt.Sprintf("no form loaded with handle %d", handle)})
	}
	var answers map[string]any
	if err := json.Unmarshal([]byte(answersJSON), &answers); err != nil {
		return marshal(errorResult{Error: "answers: " + err.Error()})
	}
	var t time.Time
	if now != "" {
		var err error
		if t, err = time.Parse(time.RFC3339Nano, now); err != nil {
			return marshal(errorResult{Error: "now: " + err.Error()})
		}
	}
	return marshal(f.State(answers, questionnaire.ValidateOptions{Lang: lang, Now: t}))
}

// unload forgets a form.
func (fs *forms) unload(handle int) {
	fs.mu.Lock()
	delete(fs.byID, handle)
	fs.mu.Unlock()
}
