// Package mongotest gives the tests of other packages the MongoDB-wire
// server they run against: one embedded server per test binary (FerretDB,
// in a temporary directory, over TCP), or the real MongoDB that
// DOTM_TEST_MONGO_URI names, and a store on a database of each test's own.
//
// It is for tests only; package mongodb's own tests keep their copy of this
// harness, since they cannot import a package that imports theirs.
package mongotest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dotm-survey/dotm/mongodb"
)

// Server is the test binary's database server.
type Server struct {
	URI string // mongodb:// address
	Dir string // the embedded server's files; empty for DOTM_TEST_MONGO_URI
	dbs atomic.Int64
}

// Run starts the server, points *srv at it, runs the tests and stops the
// server; TestMain returns its result: os.Exit(mongotest.Run(m, &srv)).
func Run(m *testing.M, srv **Server) int {
	s := &Server{URI: os.Getenv("DOTM_TEST_MONGO_URI")}
	if s.URI == "" {
		dir, err := os.MkdirTemp("", "dotm-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		e, err := mongodb.StartEmbedded(context.Background(), dir, nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer e.Close()
		s.URI, s.Dir = e.URI(), dir
	}
	*srv = s
	return m.Run()
}

// Open opens a store on a database of the test's own, closed when the test
// ends.
func (s *Server) Open(t testing.TB) *mongodb.Store {
	t.Helper()
	name := fmt.Sprintf("t%d_%s", s.dbs.Add(1), strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()))
	if len(name) > 60 {
		name = name[:60]
	}
	st, err := mongodb.Open(context.Background(), mongodb.Config{URI: s.URI, Database: name, EmbeddedDir: s.Dir})
	if err != nil {
		t.Fatalf("open test store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	return st
}
