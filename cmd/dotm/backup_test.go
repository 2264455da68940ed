package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runIn runs dotm in this process with an empty environment.
func runIn(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append([]string{"dotm"}, args...), func(string) string { return "" }, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

func TestBackupRestoreCommands(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	for _, name := range []string{"ana", "kofi"} {
		if _, _, err := runIn(t, "users", "add", "--data-dir", src, "--name", name, "--role", "enumerator"); err != nil {
			t.Fatalf("users add %s: %v", name, err)
		}
	}
	file := filepath.Join(dir, "b.gz")
	out, _, err := runIn(t, "backup", "--data-dir", src, "--out", file)
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	if !strings.Contains(out, "users") || !strings.Contains(out, "consistency\texclusive") {
		t.Errorf("backup summary:\n%s", out)
	}
	// No temporary file is left beside the backup.
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("files in the output dir: %v, want b.gz and src", ents)
	}
	if out, _, err := runIn(t, "restore", "--dry-run", file); err != nil || !strings.Contains(out, "dotm-backup v1") {
		t.Fatalf("restore --dry-run: %v\n%s", err, out)
	}
	// Flags after the file name work too.
	if _, _, err := runIn(t, "restore", file, "--data-dir", dst); err != nil {
		t.Fatalf("restore: %v", err)
	}
	before, _, _ := runIn(t, "users", "list", "--data-dir", src)
	after, _, err := runIn(t, "users", "list", "--data-dir", dst)
	if err != nil || before != after || !strings.Contains(after, "kofi") {
		t.Fatalf("users after restore:\n%s\nwant\n%s (%v)", after, before, err)
	}
	// A second restore onto the now full store is refused with a clear message.
	_, _, err = runIn(t, "restore", "--data-dir", dst, file)
	var ex exitError
	if !errors.As(err, &ex) || ex.code != 1 || !strings.Contains(ex.msg, "not empty") || !strings.Contains(ex.msg, "users (2)") {
		t.Fatalf("restore onto a full store: %v", err)
	}
}

func TestBackupUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"backup"},
		{"backup", "--out", "x", "extra"},
		{"restore"},
		{"restore", "a", "b"},
		{"restore", "--no-such-flag", "a"},
	} {
		_, _, err := runIn(t, args...)
		var ex exitError
		if !errors.As(err, &ex) || ex.code != 2 {
			t.Errorf("%v: %v, want a usage error (exit 2)", args, err)
		}
	}
	for _, cmd := range []string{"backup", "restore"} {
		out, _, err := runIn(t, cmd, "--help")
		if err != nil || !strings.Contains(out, "Example:") {
			t.Errorf("%s --help: %v\n%s", cmd, err, out)
		}
	}
	// A failed backup leaves no file.
	dir := t.TempDir()
	if _, _, err := runIn(t, "backup", "--data-dir", filepath.Join(dir, "d"), "--out", filepath.Join(dir, "missing", "b.gz")); err == nil {
		t.Errorf("backup into a missing directory succeeded")
	}
	if _, _, err := runIn(t, "restore", "--data-dir", filepath.Join(dir, "d"), filepath.Join(dir, "nope.gz")); err == nil {
		t.Errorf("restore of a missing file succeeded")
	}
}
