package questionnaire

import (
	_ "embed"
	"errors"
)

type itemKind int

const (
	kindField itemKind = iota
	kindRepeat
)

type item struct {
	kind itemKind
	q    *Question
}

func (it *item) field() Field { return Field{Name: it.q.Name} }

type compiled struct{ fields, all []*item }

var errTODO = errors.New("questionnaire: not implemented yet")

func decodeXLSX([]byte) (*Form, error) { return nil, errTODO }
func decodeYAML([]byte) (*Form, error) { return nil, errTODO }
func decodeJSON([]byte) (*Form, error) { return nil, errTODO }

// Compile checks the form and prepares it for Fields and Validate.
func (f *Form) Compile() error { return errTODO }

// Encode writes the form as "xlsx", "yaml" or "json".
func (f *Form) Encode(format string) ([]byte, error) { return nil, errTODO }

// Validate checks one submission's answers against the form.
func (f *Form) Validate(answers map[string]any, opts ValidateOptions) (map[string]any, []Problem) {
	return nil, []Problem{{Code: "type", Message: "not implemented yet"}}
}

// Household returns the built-in Development on the Move household questionnaire.
func Household() *Form { return &Form{} }
