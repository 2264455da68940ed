package questionnaire

import (
	"fmt"
	"strconv"
	"strings"
)

var defaultRequired = Text{"en": "This question is required.", "es": "Esta pregunta es obligatoria.", "fr": "Cette question est obligatoire."}
var defaultConstraint = Text{"en": "The answer is not accepted (constraint %s).", "es": "La respuesta no es aceptada (condición %s).", "fr": "La réponse n'est pas acceptée (contrainte %s)."}

// The validator's own messages about a whole question, in the languages
// of the default required and constraint messages (English otherwise):
// the web client shows them to the enumerator next to the question. The
// verbs are those of the English text; %q quotes an answer value, which
// the collector redacts before it sends a message back, and which is never
// quoted for a direct identifier (msgChoiceFilterDirect).
const (
	msgRepeatNotRelevant = iota
	msgRepeatCount
	msgNotRelevant
	msgChoiceFilter
	msgChoiceFilterDirect
)

var validatorText = [...]Text{
	msgRepeatNotRelevant: {
		"en": "%s is not relevant for this household, but has %s",
		"es": "%s no corresponde a este hogar, pero tiene %s",
		"fr": "%s ne concerne pas ce ménage, mais a %s",
	},
	msgRepeatCount: {
		"en": "%s has %s; the form expects %s (%s)",
		"es": "%s tiene %s; el formulario espera %s (%s)",
		"fr": "%s a %s ; le formulaire en attend %s (%s)",
	},
	msgNotRelevant: {
		"en": "%s is not relevant here and must be left empty",
		"es": "%s no corresponde aquí y debe quedar vacía",
		"fr": "%s ne s'applique pas ici et doit rester vide",
	},
	msgChoiceFilter: {
		"en": "%s: %q is not offered here (choice_filter %s)",
		"es": "%s: %q no se ofrece aquí (choice_filter %s)",
		"fr": "%s : %q n'est pas proposé ici (choice_filter %s)",
	},
	msgChoiceFilterDirect: {
		"en": "%s: the answer is not offered here (choice_filter %s)",
		"es": "%s: la respuesta no se ofrece aquí (choice_filter %s)",
		"fr": "%s : la réponse n'est pas proposée ici (choice_filter %s)",
	},
}

// entryWords are the singular and plural of a repeat's entries.
var entryWords = map[string][2]string{"en": {"entry", "entries"}, "es": {"entrada", "entradas"}, "fr": {"entrée", "entrées"}}

// entries counts a repeat's entries in words of the language asked for
// ("1 entry", "2 entries").
func (st *vstate) entries(n int) string {
	w, ok := entryWords[st.lang]
	if !ok {
		w = entryWords["en"]
	}
	if n == 1 {
		return "1 " + w[0]
	}
	return strconv.Itoa(n) + " " + w[1]
}

// text is one of the validator's messages in the language asked for.
func (st *vstate) text(msg int, args ...any) string {
	return fmt.Sprintf(validatorText[msg].In(st.lang, "en"), args...)
}

// message picks the form's message in the requested language, else a
// default one.
func (st *vstate) message(t Text, def Text, arg string) string {
	if s := t.In(st.lang, st.f.DefaultLanguage); s != "" {
		return s
	}
	s := def.In(st.lang, "en")
	if strings.Contains(s, "%s") {
		return fmt.Sprintf(s, arg)
	}
	return s
}
