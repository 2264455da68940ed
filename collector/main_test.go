package collector_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dotm-survey/dotm/mongodb"
)

// testURI is the server every test in this package uses: DOTM_TEST_MONGO_URI
// when set (a real MongoDB), else one embedded server per test binary.
var testURI string

// testDir holds the embedded server's files (empty with DOTM_TEST_MONGO_URI).
var testDir string

var dbCounter atomic.Int64

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	testURI = os.Getenv("DOTM_TEST_MONGO_URI")
	if testURI == "" {
		dir, err := os.MkdirTemp("", "dotm-collector-test-")
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
		testURI, testDir = e.URI(), dir
	}
	return m.Run()
}

// openTestStore opens a store on the test server with a database of its own.
func openTestStore(t testing.TB) *mongodb.Store {
	t.Helper()
	name := fmt.Sprintf("t%d_%s", dbCounter.Add(1), strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()))
	if len(name) > 60 {
		name = name[:60]
	}
	s, err := mongodb.Open(context.Background(), mongodb.Config{URI: testURI, Database: name, EmbeddedDir: testDir})
	if err != nil {
		t.Fatalf("open test store: %v", err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}
