package main

import (
	"errors"
	"strings"

	"github.com/dotm-survey/dotm"
)

// userMessage is err's text for the terminal: without the error codes
// (unprocessable, not_found, …) that *dotm.Error puts before its message
// for the log and the API's problem types, which say nothing to a user.
func userMessage(err error) string {
	msg := err.Error()
	for e := err; e != nil; e = errors.Unwrap(e) {
		var de *dotm.Error
		if errors.As(e, &de) && de == e {
			msg = strings.Replace(msg, string(de.Code)+": "+de.Message, de.Message, 1)
		}
	}
	return msg
}
