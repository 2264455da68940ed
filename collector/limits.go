package collector

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/dotm-survey/dotm"
)

// Per-request bounds on memory and CPU that a body's size alone does not
// give: what an upload inflates to, how many repeat entries an envelope
// holds, and how many large bodies are read at once.

const (
	// MaxXLSXUnzipped bounds what an XLSX form upload inflates to, all
	// parts together; MaxSheetXML one worksheet's XML. A large real form
	// (thousands of rows, tens of thousands of choices) inflates to a few
	// MiB.
	MaxXLSXUnzipped = 48 << 20
	MaxSheetXML     = 24 << 20
	// MaxRepeatEntries bounds the entries of one repeat in one envelope
	// (per occurrence of the field); MaxRepeatEntriesTotal all repeat
	// entries of an envelope, nested ones included.
	MaxRepeatEntries      = 1000
	MaxRepeatEntriesTotal = 10000
	// largeBody is the size from which a request body counts against
	// Deps.MaxInFlightBytes.
	largeBody = 256 << 10
)

// checkXLSXSize inflates each part of an XLSX upload as far as the limits
// allow (sizes declared in the zip are not trusted) and refuses, with 413
// naming the limit, a workbook over MaxXLSXUnzipped in all or with a part
// over MaxSheetXML. A body that is not a zip is left to the decoder.
func checkXLSXSize(data []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil
	}
	var total int64
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			continue // the decoder says what is wrong with it
		}
		n, err := io.Copy(io.Discard, io.LimitReader(rc, MaxSheetXML+1))
		rc.Close()
		if err != nil && !errors.Is(err, zip.ErrChecksum) {
			continue
		}
		total += n
		switch {
		case n > MaxSheetXML:
			return dotm.Errorf(dotm.ETOOLARGE, "the workbook's part %s inflates to more than %d MiB (the limit of one sheet)", trimMessage(f.Name), MaxSheetXML>>20)
		case total > MaxXLSXUnzipped:
			return dotm.Errorf(dotm.ETOOLARGE, "the workbook inflates to more than %d MiB (the limit of a form upload)", MaxXLSXUnzipped>>20)
		}
	}
	return nil
}

// checkRepeats scans an envelope's JSON, without building it, and refuses
// one whose answers hold an array (a repeat, or a multiple choice) of more
// than MaxRepeatEntries elements, or more than MaxRepeatEntriesTotal repeat
// entries (objects in arrays) in all: decoding those costs far more memory
// than their bytes. Malformed JSON passes: the decoder reports it.
func checkRepeats(raw []byte) error {
	type frame struct {
		array     bool
		expectKey bool   // object: the next string is a key
		key       string // object: the last key
		path      string
		entries   int // array: elements so far
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	var stack []frame
	total := 0
	valueDone := func() {
		if n := len(stack); n > 0 && !stack[n-1].array {
			stack[n-1].expectKey = true
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		d, delim := tok.(json.Delim)
		if delim && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			valueDone()
			continue
		}
		var top *frame
		if n := len(stack); n > 0 {
			top = &stack[n-1]
		}
		if top != nil && !top.array && top.expectKey {
			top.key, _ = tok.(string)
			top.expectKey = false
			continue
		}
		// A value begins.
		path := ""
		if top != nil {
			if top.array {
				path = top.path
				top.entries++
				if strings.HasPrefix(path, "answers.") {
					if top.entries > MaxRepeatEntries {
						return repeatError(path, fmt.Sprintf("at most %d entries in one repeat or answer", MaxRepeatEntries))
					}
					if delim && d == '{' {
						if total++; total > MaxRepeatEntriesTotal {
							return repeatError(path, fmt.Sprintf("at most %d repeat entries in one interview", MaxRepeatEntriesTotal))
						}
					}
				}
			} else if top.path == "" {
				path = top.key
			} else {
				path = top.path + "." + top.key
			}
		}
		if delim {
			stack = append(stack, frame{array: d == '[', expectKey: d == '{', path: path})
		} else {
			valueDone()
		}
	}
}

func repeatError(path, msg string) error {
	return &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "too many repeat entries",
		Problems: []dotm.Problem{{Path: path, Code: "constraint", Message: msg}}}
}

// inflight bounds the bytes of large request bodies read at once.
type inflight struct {
	mu   sync.Mutex
	max  int64
	used int64
}

func (f *inflight) tryAcquire(n int64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.used > 0 && f.used+n > f.max {
		return false
	}
	f.used += n
	return true
}

func (f *inflight) release(n int64) {
	f.mu.Lock()
	f.used -= n
	f.mu.Unlock()
}

// limitInflight counts each large body (declared length from largeBody, or
// unknown length, counted as maxBody) against max bytes in flight; over it
// the request is answered 503 with Retry-After at once, before its body is
// read. One body is always let through, however large.
func limitInflight(max, maxBody int64) gin.HandlerFunc {
	f := &inflight{max: max}
	return func(c *gin.Context) {
		n := c.Request.ContentLength
		if n < 0 {
			n = maxBody
		}
		if n < largeBody {
			c.Next()
			return
		}
		if !f.tryAcquire(n) {
			c.Header("Connection", "close")
			fail(c, &dotm.Error{Code: dotm.EUNAVAILABLE, Message: "the server is reading other large requests; retry shortly", RetryAfter: 2})
			return
		}
		defer f.release(n)
		c.Next()
	}
}
