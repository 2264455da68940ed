package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dotm-survey/dotm"
)

// runIn runs the dotm program in-process with the given environment.
func runKeysCLI(t *testing.T, env map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"dotm"}, args...), func(k string) string { return env[k] }, &out, &errb)
	return out.String(), errb.String(), err
}

func TestKeysAndSurveysCommands(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "data.key")
	dataDir := filepath.Join(dir, "data")

	// serve refuses to start without a key, and says how to get one.
	_, _, err := runKeysCLI(t, nil, "serve", "--data-dir", dataDir, "--addr", "127.0.0.1:0")
	if err == nil || !strings.Contains(err.Error(), "no data key") || !strings.Contains(err.Error(), "dotm keys generate") {
		t.Fatalf("serve without a key: %v", err)
	}
	_, _, err = runKeysCLI(t, map[string]string{"DOTM_DATA_KEY": "short"}, "serve", "--data-dir", dataDir, "--addr", "127.0.0.1:0")
	if err == nil || strings.Contains(err.Error(), "short") {
		t.Fatalf("serve with a bad key: %v", err)
	}

	out, _, err := runKeysCLI(t, nil, "keys", "generate", "--out", keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(keyFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	kr, err := dotm.ReadKeyFile(keyFile)
	if err != nil || !strings.Contains(out, kr.Current()) {
		t.Fatalf("generate: %q %v", out, err)
	}
	if _, _, err := runKeysCLI(t, nil, "keys", "generate", "--out", keyFile); err == nil {
		t.Fatal("generate overwrote a key file")
	}
	printed, _, err := runKeysCLI(t, nil, "keys", "generate", "--print")
	if b, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(printed)); err != nil || derr != nil || len(b) != 32 {
		t.Fatalf("print: %q %v %v", printed, err, derr)
	}

	// A survey, then a rotation (nothing to re-encrypt yet) and retirement.
	if _, _, err := runKeysCLI(t, nil, "surveys", "create", "--id", "gh-2026", "--country", "Ghana", "--language", "en,es", "--data-dir", dataDir); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runKeysCLI(t, nil, "surveys", "create", "--id", "bad id", "--country", "", "--data-dir", dataDir); err == nil {
		t.Fatal("a bad survey was created")
	}
	list, _, err := runKeysCLI(t, nil, "surveys", "list", "--data-dir", dataDir)
	if err != nil || !strings.Contains(list, "gh-2026") || !strings.Contains(list, "en,es") {
		t.Fatalf("list: %q %v", list, err)
	}
	first := kr.Current()
	if _, _, err := runKeysCLI(t, nil, "keys", "rotate", "--key-file", keyFile, "--data-dir", dataDir); err != nil {
		t.Fatal(err)
	}
	kr2, err := dotm.ReadKeyFile(keyFile)
	if err != nil || kr2.Current() == first || len(kr2.IDs()) != 2 {
		t.Fatalf("after rotate: %v %v", kr2, err)
	}
	if _, _, err := runKeysCLI(t, nil, "keys", "retire", "--key-file", keyFile, "--id", kr2.Current(), "--data-dir", dataDir); err == nil {
		t.Fatal("retired the current key")
	}
	if _, _, err := runKeysCLI(t, nil, "keys", "retire", "--key-file", keyFile, "--id", first, "--data-dir", dataDir); err != nil {
		t.Fatal(err)
	}
	out, _, err = runKeysCLI(t, nil, "keys", "list", "--key-file", keyFile)
	if err != nil || strings.Contains(out, first) || !strings.Contains(out, kr2.Current()) {
		t.Fatalf("list: %q %v", out, err)
	}
}

// TestKeyFileSettleWait: keys retire waits two reload intervals after the
// key file last changed, and not at all for an older or missing file.
func TestKeyFileSettleWait(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.key")
	if err := os.WriteFile(path, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	changed := st.ModTime()
	for _, c := range []struct {
		after time.Duration
		want  time.Duration
	}{{0, 2 * keyReloadInterval}, {keyReloadInterval / 2, 2*keyReloadInterval - keyReloadInterval/2}, {2 * keyReloadInterval, 0}, {time.Hour, 0}} {
		if got := keyFileSettleWait(path, changed.Add(c.after)); got != c.want {
			t.Errorf("%s after the change: wait %s, want %s", c.after, got, c.want)
		}
	}
	if got := keyFileSettleWait(filepath.Join(t.TempDir(), "none"), time.Now()); got != 0 {
		t.Errorf("missing file: wait %s", got)
	}
}
