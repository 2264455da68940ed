package mongodb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Embedded is a MongoDB-wire-compatible server running inside this process:
// FerretDB with its SQLite handler, listening on a Unix socket only its OS user can reach, keeping
// its files under a directory so that data survives a restart.
type Embedded struct {
	uri     string
	dir     string // absolute path of the SQLite files
	sockDir string // a temporary folder holding the socket, removed on Close
	cancel  context.CancelFunc
	done    chan struct{}
}

// StartEmbedded starts the embedded server with its SQLite files under dir
// (created when missing). The server logs through logger at error level only;
// FerretDB logs every failed command with a wire dump at warn, which would
// drown a user's terminal and could carry answer values. Pass nil for silence.
//
// It listens only on a Unix socket inside dir (mode 0700; the socket 0600),
// never on TCP: the embedded server has no authentication, so only this OS
// user's processes (dotm serve and the dotm commands it hands the address
// to through DATA_DIR/mongo.uri) may reach it. When dir's path is too long
// for a socket (about 100 bytes), the socket goes into a new 0700 folder in
// the system's temporary directory instead.
func StartEmbedded(ctx context.Context, dir string, logger *slog.Logger) (*Embedded, error) {
	return StartEmbeddedOn(ctx, dir, UnixSocket, logger)
}

// UnixSocket, as StartEmbeddedOn's addr, asks for the Unix socket that
// StartEmbedded uses.
const UnixSocket = "unix"

// StartEmbeddedOn is StartEmbedded listening on addr: UnixSocket, or a TCP
// host:port (with no authentication: only for tests that bring a stopped
// server back on the same address, and dotm dev-mongo).
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
	if err := os.Chmod(abs, 0o700); err != nil {
		return nil, fmt.Errorf("mongodb: embedded data dir: %w", err)
	}
	listener := ferretdb.ListenerConfig{TCP: addr}
	var sock, sockDir string
	if addr == UnixSocket {
		if sock, sockDir, err = socketPath(abs); err != nil {
			return nil, err
		}
		listener = ferretdb.ListenerConfig{Unix: sock}
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  listener,
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/", // the handler needs the trailing slash
		Logger:    logger,
	})
	if err != nil {
		return nil, fmt.Errorf("mongodb: start embedded server in %s: %w", abs, err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e := &Embedded{dir: abs, cancel: cancel, done: make(chan struct{}), sockDir: sockDir}
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
	if sock != "" {
		if err := os.Chmod(sock, 0o600); err != nil {
			_ = e.Close()
			return nil, fmt.Errorf("mongodb: embedded server socket: %w", err)
		}
		// The driver wants the socket path percent-encoded as the host.
		e.uri = "mongodb://" + url.PathEscape(sock) + "/"
	}
	return e, nil
}

// socketPath is where the embedded server's socket goes: in dir, or, when
// that path is too long for a Unix socket, in a new private folder of the
// system's temporary directory (returned as sockDir, removed on Close). A
// stale socket of a previous run is removed first (the data dir's lock
// says no other process serves it).
func socketPath(dir string) (sock, sockDir string, err error) {
	sock = filepath.Join(dir, "mongod.sock")
	if len(sock) > 100 {
		if sockDir, err = os.MkdirTemp("", "dotm-db-"); err != nil {
			return "", "", fmt.Errorf("mongodb: folder for the embedded server's socket: %w", err)
		}
		sock = filepath.Join(sockDir, "mongod.sock")
	}
	if st, err := os.Lstat(sock); err == nil && st.Mode()&os.ModeSocket != 0 {
		_ = os.Remove(sock)
	}
	return sock, sockDir, nil
}

// URI is the mongodb:// address of the embedded server.
func (e *Embedded) URI() string { return e.uri }

// Close stops the server and waits until its files are closed.
func (e *Embedded) Close() error {
	e.cancel()
	select {
	case <-e.done:
		if e.sockDir != "" {
			_ = os.RemoveAll(e.sockDir)
		}
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
