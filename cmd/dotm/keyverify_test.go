package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWrongKeyFilesAreRefused: a key file with one byte of its key changed
// (id kept), a different key file, and a key file that others may read are
// each refused by dotm serve and dotm keys rotate, naming what is wrong —
// before anything is sealed with a key that could not open it later.
func TestWrongKeyFilesAreRefused(t *testing.T) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	good := filepath.Join(dir, "good.key")
	other := filepath.Join(dir, "other.key")
	for _, f := range []string{good, other} {
		if _, _, err := runKeysCLI(t, nil, "keys", "generate", "--out", f); err != nil {
			t.Fatal(err)
		}
	}
	// The store starts with the good key: its check is recorded (rotate
	// with --resume verifies and records without adding a key).
	if _, _, err := runKeysCLI(t, nil, "keys", "rotate", "--resume", "--key-file", good, "--data-dir", dataDir); err != nil {
		t.Fatal(err)
	}

	// One byte of the key flipped, its id kept.
	var kf struct {
		Current string           `json:"current"`
		Keys    []map[string]any `json:"keys"`
	}
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &kf); err != nil {
		t.Fatal(err)
	}
	secret := []byte(kf.Keys[0]["key"].(string))
	if secret[3] == 'A' {
		secret[3] = 'B'
	} else {
		secret[3] = 'A'
	}
	kf.Keys[0]["key"] = string(secret)
	flipped := filepath.Join(dir, "flipped.key")
	nb, _ := json.Marshal(kf)
	if err := os.WriteFile(flipped, nb, 0o600); err != nil {
		t.Fatal(err)
	}
	readable := filepath.Join(dir, "readable.key")
	if err := os.WriteFile(readable, b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, file, want string }{
		{"one byte flipped", flipped, "does not match its secret"},
		{"another key", other, "does not have"},
		{"readable by others", readable, "chmod 600"},
	} {
		for _, cmd := range [][]string{
			{"serve", "--data-dir", dataDir, "--addr", "127.0.0.1:0", "--key-file", tc.file},
			{"keys", "rotate", "--key-file", tc.file, "--data-dir", dataDir},
		} {
			_, _, err := runKeysCLI(t, nil, cmd...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: dotm %s: err = %v, want it to say %q", tc.name, cmd[0], err, tc.want)
			}
		}
	}
	// The other key file was not changed by the refused rotation.
	if nb, _ := os.ReadFile(other); strings.Count(string(nb), `"id"`) != 1 {
		t.Error("a refused rotation added a key to the wrong key file")
	}
}
