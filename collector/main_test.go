package collector_test

import (
	"os"
	"testing"

	"github.com/dotm-survey/dotm/mongodb"
	"github.com/dotm-survey/dotm/mongodb/mongotest"
)

// testServer is the database every test in this package uses: one embedded
// server per test binary, or DOTM_TEST_MONGO_URI.
var testServer *mongotest.Server

func TestMain(m *testing.M) { os.Exit(mongotest.Run(m, &testServer)) }

// openTestStore opens a store on the test server with a database of its own.
func openTestStore(t testing.TB) *mongodb.Store { return testServer.Open(t) }
