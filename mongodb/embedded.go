package mongodb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Embedded is a MongoDB-wire-compatible server running inside this process:
// FerretDB with its SQLite handler, bound to 127.0.0.1 on a free port, keeping
// its files under a directory so that data survives a restart.
type Embedded struct {
	uri    string
	dir    string // absolute path of the SQLite files
	cancel context.CancelFunc
	done   chan struct{}
}

// StartEmbedded starts the embedded server with its SQLite files under dir
// (created when missing). The server logs through logger at error level only;
// FerretDB logs every failed command with a wire dump at warn, which would
// drown a user's terminal and could carry answer values. Pass nil for silence.
func StartEmbedded(ctx context.Context, dir string, logger *slog.Logger) (*Embedded, error) {
	return StartEmbeddedOn(ctx, dir, "127.0.0.1:0", logger)
}

// StartEmbeddedOn is StartEmbedded listening on addr (host:port). Tests use
// it to bring a stopped server back on the same address.
func StartEmbeddedOn(ctx context.Context, dir, addr string, logger *slog.Logger) (*Embedded, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("mongodb: embedded data dir %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("mongodb: create embedded data dir: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	} else {
		logger = slog.New(levelFloor{h: logger.Handler(), min: slog.LevelError})
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/", // the handler needs the trailing slash
		Logger:    logger,
	})
	if err != nil {
		return nil, fmt.Errorf("mongodb: start embedded server in %s: %w", abs, err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e := &Embedded{dir: abs, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(e.done)
		_ = f.Run(runCtx)
	}()
	// MongoDBURI waits for the listener that Run opens.
	uriCh := make(chan string, 1)
	go func() { uriCh <- f.MongoDBURI() }()
	select {
	case e.uri = <-uriCh:
	case <-time.After(30 * time.Second):
		cancel()
		return nil, errors.New("mongodb: embedded server did not start listening within 30s")
	}
	return e, nil
}

// URI is the mongodb:// address of the embedded server.
func (e *Embedded) URI() string { return e.uri }

// Close stops the server and waits until its files are closed.
func (e *Embedded) Close() error {
	e.cancel()
	select {
	case <-e.done:
		return nil
	case <-time.After(30 * time.Second):
		return errors.New("mongodb: embedded server did not stop within 30s")
	}
}

// levelFloor passes on only records at or above min. It keeps the
// attributes and groups that loggers derived from it add, and hands them to
// the wrapped handler only for a record it passes on: FerretDB derives a
// logger with the SQL text and arguments (whole documents) before each
// statement to log it at debug level, and a handler that formats attributes
// eagerly (as slog's text and JSON handlers do) would spend as much time
// quoting every stored document as the database spends storing it.
type levelFloor struct {
	h   slog.Handler
	min slog.Level
	ops []levelFloorOp // in order
}

// levelFloorOp is one WithAttrs (attrs) or WithGroup (group) call.
type levelFloorOp struct {
	attrs []slog.Attr
	group string
}

func (h levelFloor) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.h.Enabled(ctx, l)
}

func (h levelFloor) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < h.min {
		return nil
	}
	inner := h.h
	for _, op := range h.ops {
		if op.attrs != nil {
			inner = inner.WithAttrs(op.attrs)
		} else {
			inner = inner.WithGroup(op.group)
		}
	}
	return inner.Handle(ctx, r)
}

func (h levelFloor) with(op levelFloorOp) levelFloor {
	ops := make([]levelFloorOp, len(h.ops), len(h.ops)+1)
	copy(ops, h.ops)
	return levelFloor{h: h.h, min: h.min, ops: append(ops, op)}
}

func (h levelFloor) WithAttrs(a []slog.Attr) slog.Handler {
	if len(a) == 0 {
		return h
	}
	return h.with(levelFloorOp{attrs: a})
}

func (h levelFloor) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.with(levelFloorOp{group: name})
}
