package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestUsersAddChecksScope: `dotm users add --survey` takes only ids of
// existing surveys, like the API.
func TestUsersAddChecksScope(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	if _, _, err := runIn(t, "surveys", "create", "--id", "gh-2026", "--country", "Ghana", "--language", "en", "--data-dir", data); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "../../x", "<script>", "no-such-survey"} {
		_, _, err := runIn(t, "users", "add", "--data-dir", data, "--name", "ana", "--role", "enumerator", "--survey", bad)
		if err == nil {
			t.Errorf("--survey %q was accepted", bad)
		} else if !strings.Contains(err.Error(), "--survey") {
			t.Errorf("--survey %q: the error does not name --survey: %v", bad, err)
		}
	}
	if _, _, err := runIn(t, "users", "add", "--data-dir", data, "--name", "ana", "--role", "enumerator", "--survey", "gh-2026"); err != nil {
		t.Fatalf("a valid scope: %v", err)
	}
	out, _, err := runIn(t, "users", "list", "--data-dir", data)
	if err != nil || strings.Count(out, "\n") != 2 {
		t.Fatalf("users list after the refusals: %v\n%s", err, out)
	}
}
