package exports

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestExampleProfileIsTheDemos keeps docs/release-profile.example.yaml, the
// example profile the README points to, equal to HouseholdProfile, the one
// the demo publishes with: both parse, to the same profile.
func TestExampleProfileIsTheDemos(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "docs", "release-profile.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	example, err := ParseProfile(raw)
	if err != nil {
		t.Fatalf("docs/release-profile.example.yaml: %v", err)
	}
	demo, err := ParseProfile([]byte(HouseholdProfile))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(example, demo) {
		t.Errorf("docs/release-profile.example.yaml differs from exports.HouseholdProfile:\nexample %+v\ndemo    %+v", example, demo)
	}
}
