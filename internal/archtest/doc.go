// Package archtest holds no code: its test checks the import rules that
// docs/ARCHITECTURE.md states, with `go list`, so that a change that breaks
// the layout fails `make test` instead of waiting for a reader to notice.
package archtest
