package main

import (
	"fmt"
	"log/slog"

	"github.com/dotm-survey/dotm/mongodb"
)

// runDevMongo runs the embedded MongoDB-wire server on its own, in the
// foreground, until SIGTERM or Ctrl-C. It is a development and test tool:
// the fault tests use it to give dotm serve a database in another process
// that they can stop and start again. Production uses a real MongoDB.
func runDevMongo(e *env, args []string) error {
	fs := newFlags(e, "dev-mongo", "dev-mongo --data-dir DIR --addr 127.0.0.1:PORT   (DEVELOPMENT ONLY)",
		"# DEVELOPMENT ONLY: the embedded store as a separate process, for outage tests;\n"+
			"# production uses a MongoDB replica set.\n"+
			"dotm dev-mongo --data-dir ./mongo-dev --addr 127.0.0.1:27018 &\n"+
			"dotm serve --mongo-uri mongodb://127.0.0.1:27018/ --insecure-dev-key")
	dir := fs.String("data-dir", "mongo-dev", "directory of the server's SQLite files")
	addr := fs.String("addr", "127.0.0.1:27018", "listen address (host:port)")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return exitError{code: 2, msg: "dev-mongo: no arguments besides flags"}
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, nil))
	srv, err := mongodb.StartEmbeddedOn(e.ctx, *dir, *addr, logger)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, srv.URI())
	fmt.Fprintln(e.stderr, "dev-mongo: development server listening; stop it with SIGTERM or Ctrl-C")
	<-e.ctx.Done()
	return srv.Close()
}
