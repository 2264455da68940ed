package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestDemoOutDeletesNothingItDidNotWrite: `dotm demo --out DIR` refuses a
// folder of the user's (and `--out .`), replaces only a previous demo's
// own files, and refuses a previous demo whose store a running process
// holds — in each refusal, nothing is deleted.
func TestDemoOutDeletesNothingItDidNotWrite(t *testing.T) {
	write := func(path, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	exists := func(path string) bool { _, err := os.Stat(path); return err == nil }

	// A folder of the user's.
	mine := t.TempDir()
	write(filepath.Join(mine, "thesis.tex"), "years of work")
	err := prepareDemoOut(mine)
	if err == nil || !strings.Contains(err.Error(), "not written by dotm demo") {
		t.Fatalf("user folder: err = %v", err)
	}
	if !exists(filepath.Join(mine, "thesis.tex")) {
		t.Fatal("the user's file was deleted")
	}
	// The working folder, as `--out .` names it.
	wd, _ := os.Getwd()
	if err := os.Chdir(mine); err != nil {
		t.Fatal(err)
	}
	err = prepareDemoOut(".")
	os.Chdir(wd)
	if err == nil || !exists(filepath.Join(mine, "thesis.tex")) {
		t.Fatalf("--out .: err = %v", err)
	}

	// A previous demo with a file of the user's beside its own.
	prev := filepath.Join(t.TempDir(), "demo")
	write(filepath.Join(prev, demoMarker), "")
	write(filepath.Join(prev, "report.html"), "old report")
	write(filepath.Join(prev, "data", "db", "x.sqlite"), "old store")
	write(filepath.Join(prev, "notes.md"), "my notes on the demo")
	if err := prepareDemoOut(prev); err != nil {
		t.Fatal(err)
	}
	if exists(filepath.Join(prev, "report.html")) || exists(filepath.Join(prev, "data")) {
		t.Error("the previous demo's files are still there")
	}
	if !exists(filepath.Join(prev, "notes.md")) || !exists(filepath.Join(prev, demoMarker)) {
		t.Error("the user's notes were deleted, or the marker is missing")
	}

	// A previous demo whose store a running process holds.
	held := filepath.Join(t.TempDir(), "demo")
	write(filepath.Join(held, demoMarker), "")
	write(filepath.Join(held, "data", "LOCK"), "")
	f, err := os.OpenFile(filepath.Join(held, "data", "LOCK"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// flock locks belong to the open file: a second open in this process
	// conflicts with it as another process's would.
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	err = prepareDemoOut(held)
	if err == nil || !strings.Contains(err.Error(), "in use by a running dotm process") {
		t.Fatalf("held data dir: err = %v", err)
	}
	if !exists(filepath.Join(held, "data", "LOCK")) {
		t.Error("the held store was deleted")
	}
}
