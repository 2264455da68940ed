package mongodb

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// countingHandler counts the WithAttrs calls that reach it.
type countingHandler struct {
	slog.Handler
	withAttrs *int
}

func (h countingHandler) WithAttrs(a []slog.Attr) slog.Handler {
	*h.withAttrs++
	return countingHandler{h.Handler.WithAttrs(a), h.withAttrs}
}

func (h countingHandler) WithGroup(name string) slog.Handler {
	return countingHandler{h.Handler.WithGroup(name), h.withAttrs}
}

// TestLevelFloor: records under the floor vanish without the wrapped handler
// ever seeing their derived loggers' attributes; records at the floor keep
// every attribute and group, in order.
func TestLevelFloor(t *testing.T) {
	var buf bytes.Buffer
	n := 0
	inner := countingHandler{slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}), &n}
	l := slog.New(levelFloor{h: inner, min: slog.LevelError})

	l.With("query", "INSERT …", "args", "a whole document").Debug(">>> INSERT")
	l.With("x", 1).Warn("dropped")
	if n != 0 || buf.Len() != 0 {
		t.Fatalf("records under the floor reached the handler: %d WithAttrs, output %q", n, buf.String())
	}
	l.With("a", 1).WithGroup("g").With("b", 2).Error("kept", "c", 3)
	out := buf.String()
	for _, want := range []string{"level=ERROR", "msg=kept", "a=1", "g.b=2", "g.c=3"} {
		if !strings.Contains(out, want) {
			t.Errorf("output %q lacks %q", out, want)
		}
	}
	if strings.Contains(out, "dropped") {
		t.Errorf("warn record passed: %q", out)
	}
	if !l.Enabled(context.Background(), slog.LevelError) || l.Enabled(context.Background(), slog.LevelWarn) {
		t.Error("Enabled does not follow the floor")
	}
}
