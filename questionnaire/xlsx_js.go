//go:build js

package questionnaire

import "errors"

// The WebAssembly build (the offline web client) leaves out the XLSForm
// spreadsheet reader and writer: the client receives forms as JSON.
var errNoXLSX = errors.New("questionnaire: xlsx forms are not supported in the WebAssembly build; use json")

func decodeXLSX([]byte) (*Form, error) { return nil, errNoXLSX }

func encodeXLSX(*Form) ([]byte, error) { return nil, errNoXLSX }
