package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progress shows a bar for a long step on a terminal, and a single line
// when the step ends (on a terminal or not).
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	label string
	total int
	done  int
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer, label string, total int) *progress {
	p := &progress{w: w, tty: isTerminal(w), label: label, total: total, start: time.Now()}
	p.draw()
	return p
}

// add counts n more items done.
func (p *progress) add(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	if time.Since(p.last) > 100*time.Millisecond || p.done == p.total {
		p.drawLocked()
	}
}

func (p *progress) draw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drawLocked()
}

func (p *progress) drawLocked() {
	p.last = time.Now()
	if !p.tty {
		return
	}
	const width = 30
	frac := 1.0
	if p.total > 0 {
		frac = float64(p.done) / float64(p.total)
	}
	fill := int(frac * width)
	fmt.Fprintf(p.w, "\r  %-34s [%s%s] %d/%d", p.label, strings.Repeat("█", fill), strings.Repeat("·", width-fill), p.done, p.total)
}

// finish ends the step with a summary line.
func (p *progress) finish(summary string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintf(p.w, "  %-34s %s (%.1fs)\n", p.label, summary, time.Since(p.start).Seconds())
}
