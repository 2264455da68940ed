package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/internal/odkcrypt"
	"github.com/dotm-survey/dotm/mongodb"
)

// TestFormsKeysCommands: dotm forms keys generate prints the public key of
// a key pair it stores sealed; import takes an openssl-style PEM, once; a
// data key rotation re-seals the ODK keys, so that the old data key can be
// retired and the private keys still open.
func TestFormsKeysCommands(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "data.key")
	dataDir := filepath.Join(dir, "data")
	store := []string{"--data-dir", dataDir}
	must := func(args ...string) string {
		t.Helper()
		out, stderr, err := runKeysCLI(t, nil, args...)
		if err != nil {
			t.Fatalf("dotm %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
		return out
	}
	must("keys", "generate", "--out", keyFile)
	must(append([]string{"surveys", "create", "--id", "gh-2026", "--country", "Ghana", "--language", "en"}, store...)...)

	out := must(append([]string{"forms", "keys", "generate", "--survey", "gh-2026", "--key-file", keyFile}, store...)...)
	generated, err := odkcrypt.ParsePublicKey(strings.TrimSpace(out))
	if err != nil || generated.N.BitLen() != 2048 {
		t.Fatalf("generate printed %q: %v", out, err)
	}

	own, err := odkcrypt.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pemFile := filepath.Join(dir, "odk-private.pem")
	if err := os.WriteFile(pemFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(own)}), 0o600); err != nil {
		t.Fatal(err)
	}
	imp := append([]string{"forms", "keys", "import", "--survey", "gh-2026", "--private-key", pemFile, "--key-file", keyFile}, store...)
	if out := must(imp...); strings.TrimSpace(out) != odkcrypt.PublicKeyBase64(&own.PublicKey) {
		t.Fatalf("import printed %q", out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{imp, "already"},
		{append([]string{"forms", "keys", "import", "--survey", "zz-2026", "--private-key", pemFile, "--key-file", keyFile}, store...), "zz-2026"},
		{append([]string{"forms", "keys", "import", "--survey", "gh-2026", "--private-key", keyFile, "--key-file", keyFile}, store...), "data.key: odkcrypt: not an RSA private key"},
		{append([]string{"forms", "keys", "generate", "--key-file", keyFile}, store...), "--survey is required"},
	} {
		if _, _, err := runKeysCLI(t, nil, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("dotm %s: %v, want an error with %q", strings.Join(c.args[:3], " "), err, c.want)
		}
	}
	list := must(append([]string{"forms", "keys", "list", "--survey", "gh-2026"}, store...)...)
	lines := strings.Split(strings.TrimSpace(list), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], odkcrypt.Fingerprint(generated)) || !strings.Contains(lines[2], odkcrypt.Fingerprint(&own.PublicKey)) || !strings.Contains(lines[2], " yes ") {
		t.Fatalf("list:\n%s", list)
	}

	old, err := dotm.ReadKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if out := must(append([]string{"keys", "rotate", "--key-file", keyFile}, store...)...); !strings.Contains(out, "re-encrypted 0 submission(s) and file(s) and 2 ODK private key(s)") {
		t.Errorf("rotate: %q", out)
	}
	must(append([]string{"keys", "retire", "--key-file", keyFile, "--id", old.Current()}, store...)...)
	kr, err := dotm.ReadKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := mongodb.Open(ctx, mongodb.Config{DataDir: dataDir, ConnectTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	keys, err := s.ODKKeys(ctx, "gh-2026")
	if err != nil || len(keys) != 2 {
		t.Fatalf("stored keys: %v %v", keys, err)
	}
	priv, err := keys[1].Open(kr)
	if err != nil || !priv.Equal(own) || keys[1].Private.KeyID != kr.Current() {
		t.Fatalf("the imported key after rotation and retirement: %v", err)
	}
}
