package mongodb

import "testing"

func TestDatabaseFromURI(t *testing.T) {
	for uri, want := range map[string]string{
		"mongodb://127.0.0.1:27017":                         DefaultDatabase,
		"mongodb://127.0.0.1:27017/":                        DefaultDatabase,
		"mongodb://127.0.0.1:27017/survey":                  "survey",
		"mongodb://u:p@a:1,b:2/survey?replicaSet=rs0":       "survey",
		"mongodb+srv://cluster.example.org/round2?tls=true": "round2",
		"mongodb://%2Ftmp%2Fdotm%2Fm.sock/survey":           "survey",
		"mongodb://%2Ftmp%2Fdotm%2Fm.sock":                  DefaultDatabase,
		"mongodb://%2Ftmp%2Fm.sock/?authMechanism=PLAIN":    DefaultDatabase,
		"not a uri": DefaultDatabase,
	} {
		if got := databaseFromURI(uri); got != want {
			t.Errorf("databaseFromURI(%q) = %q, want %q", uri, got, want)
		}
	}
}
