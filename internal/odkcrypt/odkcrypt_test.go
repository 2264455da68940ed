package odkcrypt

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The golden submission in testdata/golden was encrypted as ODK Collect
// does by Node's OpenSSL (testdata/central/reference.js, which holds none
// of dotm's code); regenerate it with
//
//	node testdata/central/reference.js golden testdata/golden
//
// The key in it is a test key, made for these files only.

func readGolden(t *testing.T) (*rsa.PrivateKey, *Manifest, map[string][]byte) {
	t.Helper()
	dir := filepath.Join("testdata", "golden")
	pemBytes, err := os.ReadFile(filepath.Join(dir, "private.pem"))
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ParsePrivateKey(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(dir, "submission.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if !IsEncrypted(doc) {
		t.Fatal("IsEncrypted(golden manifest) = false")
	}
	m, err := ParseManifest(doc)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, n := range append(append([]string{}, m.Media...), m.XMLFile) {
		if files[n], err = os.ReadFile(filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	return priv, m, files
}

func plainGolden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "golden", name+".plain"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecryptGolden(t *testing.T) {
	priv, m, files := readGolden(t)
	pub, err := os.ReadFile(filepath.Join("testdata", "golden", "public.b64"))
	if err != nil {
		t.Fatal(err)
	}
	if got := PublicKeyBase64(&priv.PublicKey); got != strings.TrimSpace(string(pub)) {
		t.Errorf("PublicKeyBase64 = %s…, Node's SPKI export is %s…", got[:40], pub[:40])
	}
	if m.FormID != "enc_golden" || m.Version != "2026120401" || m.InstanceID != "uuid:5b0a3c2e-7f1d-4c8e-9a4b-2d6f8e1c0a9b" ||
		strings.Join(m.Media, ",") != "door.jpg.enc,note.txt.enc" || m.XMLFile != "submission.xml.enc" {
		t.Fatalf("manifest = %+v", m)
	}
	inst, media, err := Decrypt(priv, m, files)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(inst, plainGolden(t, "submission.xml")) {
		t.Errorf("instance = %q", inst)
	}
	if len(media) != 2 || media[0].Name != "door.jpg" || media[1].Name != "note.txt" {
		t.Fatalf("media = %v", media)
	}
	for _, f := range media {
		if !bytes.Equal(f.Data, plainGolden(t, f.Name)) {
			t.Errorf("%s differs from the plaintext Node encrypted", f.Name)
		}
	}
}

// TestDecryptRefuses: a wrong key, a changed byte in any file, a file
// swapped or missing, a changed manifest field: each is refused, with the
// error that says which.
func TestDecryptRefuses(t *testing.T) {
	priv, m, files := readGolden(t)
	other, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	clone := func() (*Manifest, map[string][]byte) {
		mm := *m
		mm.Media = append([]string{}, m.Media...)
		ff := map[string][]byte{}
		for k, v := range files {
			ff[k] = bytes.Clone(v)
		}
		return &mm, ff
	}
	cases := []struct {
		name   string
		key    *rsa.PrivateKey
		change func(*Manifest, map[string][]byte)
		want   error
		msg    string
	}{
		{"wrong key", other, func(*Manifest, map[string][]byte) {}, ErrWrongKey, ""},
		{"changed last byte of the instance", priv, func(_ *Manifest, f map[string][]byte) { f["submission.xml.enc"][len(f["submission.xml.enc"])-1] ^= 1 }, ErrTampered, ""},
		{"changed first byte of the instance", priv, func(_ *Manifest, f map[string][]byte) { f["submission.xml.enc"][0] ^= 1 }, ErrTampered, "signature"},
		{"changed byte of a photo", priv, func(_ *Manifest, f map[string][]byte) { f["door.jpg.enc"][100] ^= 0x80 }, ErrTampered, "signature"},
		{"truncated photo", priv, func(_ *Manifest, f map[string][]byte) { f["door.jpg.enc"] = f["door.jpg.enc"][:992] }, ErrTampered, ""},
		{"photos swapped", priv, func(mm *Manifest, _ map[string][]byte) { mm.Media[0], mm.Media[1] = mm.Media[1], mm.Media[0] }, ErrTampered, ""},
		{"photo missing", priv, func(_ *Manifest, f map[string][]byte) { delete(f, "door.jpg.enc") }, nil, "no file door.jpg.enc"},
		{"photo dropped from the manifest", priv, func(mm *Manifest, _ map[string][]byte) { mm.Media = mm.Media[1:] }, ErrTampered, ""},
		{"other instance id", priv, func(mm *Manifest, _ map[string][]byte) { mm.InstanceID = "uuid:other" }, ErrTampered, ""},
		{"other form version", priv, func(mm *Manifest, _ map[string][]byte) { mm.Version = "2" }, ErrTampered, "signature"},
		{"signature of another submission", priv, func(mm *Manifest, _ map[string][]byte) {
			b := []byte(mm.Signature)
			b[10] ^= 1
			mm.Signature = string(b)
		}, ErrTampered, "signature"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mm, ff := clone()
			c.change(mm, ff)
			_, _, err := Decrypt(c.key, mm, ff)
			if err == nil {
				t.Fatal("decrypted")
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("error %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q lacks %q", err, c.msg)
			}
		})
	}
}

func TestParseManifestRefuses(t *testing.T) {
	_, m, _ := readGolden(t)
	doc, err := os.ReadFile(filepath.Join("testdata", "golden", "submission.xml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ cut, want string }{
		{"<base64EncryptedKey>" + m.EncryptedKey + "</base64EncryptedKey>", "no base64EncryptedKey"},
		{"<encryptedXmlFile>submission.xml.enc</encryptedXmlFile>", "no encryptedXmlFile"},
		{"<base64EncryptedElementSignature>" + m.Signature + "</base64EncryptedElementSignature>", "no base64EncryptedElementSignature"},
		{"<orx:instanceID>" + m.InstanceID + "</orx:instanceID>", "no meta/instanceID"},
		{"door.jpg.enc", `file ""`},
	} {
		_, err := ParseManifest(bytes.Replace(doc, []byte(c.cut), nil, 1))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("without %.30s: error %v, want %q", c.cut, err, c.want)
		}
	}
	if _, err := ParseManifest(bytes.Replace(doc, []byte("door.jpg.enc"), []byte("../x.enc"), 1)); err == nil {
		t.Error("a file name with a path was accepted")
	}
}

// requireNode finds node: without it the reference tests skip, unless
// DOTM_REQUIRE_ODK is set (CI sets it), when they fail.
func requireNode(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("DOTM_REQUIRE_ODK") == "" {
			t.Skip("node is needed to run ODK Central's decryption (install nodejs; DOTM_REQUIRE_ODK=1 makes this a failure)")
		}
		t.Fatalf("DOTM_REQUIRE_ODK is set but node is missing: %v", err)
	}
	return p
}

// TestEncryptDecryptsInCentral: what Encrypt makes (as Collect does) is
// decrypted by ODK Central's own code, and its element signature verifies
// there, for attachments of sizes around the AES block and none at all.
func TestEncryptDecryptsInCentral(t *testing.T) {
	node := requireNode(t)
	priv, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pemKey := PrivateKeyPEM(priv)
	for _, sizes := range [][]int{nil, {0, 15, 16, 17}, {5000}} {
		var media []File
		for i, n := range sizes {
			b := make([]byte, n)
			for j := range b {
				b[j] = byte(i*31 + j*7)
			}
			media = append(media, File{Name: "m" + string(rune('a'+i)) + ".bin", Data: b})
		}
		inst := []byte(`<data id="f" version="3"><q>é ✓</q><meta><instanceID>uuid:1</instanceID></meta></data>`)
		manifest, files, err := Encrypt(&priv.PublicKey, "f", "3", "uuid:1", inst, media)
		if err != nil {
			t.Fatal(err)
		}
		req := map[string]any{"privateKeyPem": string(pemKey), "manifest": string(manifest)}
		enc := map[string]string{}
		for _, f := range files {
			enc[f.Name] = base64.StdEncoding.EncodeToString(f.Data)
		}
		req["files"] = enc
		in, _ := json.Marshal(req)
		cmd := exec.Command(node, filepath.Join("testdata", "central", "reference.js"), "decrypt")
		cmd.Stdin = bytes.NewReader(in)
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("sizes %v: node: %v\n%s", sizes, err, stderr)
		}
		var got struct {
			Instance []byte `json:"instance"`
			Media    []struct {
				Name string `json:"name"`
				Data []byte `json:"data"`
			} `json:"media"`
			SignatureValid bool `json:"signatureValid"`
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Instance, inst) {
			t.Errorf("sizes %v: Central decrypted the instance to %q", sizes, got.Instance)
		}
		if len(got.Media) != len(media) {
			t.Fatalf("sizes %v: Central decrypted %d files", sizes, len(got.Media))
		}
		for i, f := range got.Media {
			if f.Name != media[i].Name || !bytes.Equal(f.Data, media[i].Data) {
				t.Errorf("sizes %v: file %d: Central decrypted %s (%d bytes)", sizes, i, f.Name, len(f.Data))
			}
		}
		if !got.SignatureValid {
			t.Errorf("sizes %v: the element signature does not verify in the reference", sizes)
		}
		// and dotm's own decryption agrees
		m, err := ParseManifest(manifest)
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string][]byte{}
		for _, f := range files {
			byName[f.Name] = f.Data
		}
		if gi, _, err := Decrypt(priv, m, byName); err != nil || !bytes.Equal(gi, inst) {
			t.Errorf("sizes %v: Decrypt: %v", sizes, err)
		}
	}
}

func TestParseKeys(t *testing.T) {
	priv, _, _ := readGolden(t)
	for _, c := range []struct {
		name string
		in   []byte
		want string
	}{
		{"pkcs1", []byte(pemPKCS1(priv)), ""},
		{"pkcs8", PrivateKeyPEM(priv), ""},
		{"der", MarshalPrivateKey(priv), ""},
		{"encrypted", []byte("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n"), "passphrase"},
		{"garbage", []byte("hello"), "not an RSA private key"},
	} {
		k, err := ParsePrivateKey(c.in)
		switch {
		case c.want == "" && (err != nil || !k.Equal(priv)):
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	b64 := PublicKeyBase64(&priv.PublicKey)
	wrapped := "-----BEGIN PUBLIC KEY-----\n" + b64[:64] + "\n" + b64[64:] + "\n-----END PUBLIC KEY-----\n"
	for _, s := range []string{b64, wrapped, " " + b64 + "\n"} {
		pub, err := ParsePublicKey(s)
		if err != nil || !pub.Equal(&priv.PublicKey) {
			t.Errorf("ParsePublicKey(%.20q…): %v", s, err)
		}
	}
	if _, err := ParsePublicKey("not base64!"); err == nil {
		t.Error("ParsePublicKey accepted junk")
	}
	if f := Fingerprint(&priv.PublicKey); !strings.HasPrefix(f, "sha256:") || len(f) != 7+32 {
		t.Errorf("Fingerprint = %s", f)
	}
}

func pemPKCS1(k *rsa.PrivateKey) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}

// FuzzDecrypt: any manifest and file bytes a client sends are parsed and
// decrypted without panicking, and a changed golden submission never
// decrypts to anything but the golden instance.
func FuzzDecrypt(f *testing.F) {
	doc, err := os.ReadFile(filepath.Join("testdata", "golden", "submission.xml"))
	if err != nil {
		f.Fatal(err)
	}
	enc, err := os.ReadFile(filepath.Join("testdata", "golden", "submission.xml.enc"))
	if err != nil {
		f.Fatal(err)
	}
	pemBytes, err := os.ReadFile(filepath.Join("testdata", "golden", "private.pem"))
	if err != nil {
		f.Fatal(err)
	}
	priv, err := ParsePrivateKey(pemBytes)
	if err != nil {
		f.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "golden", "submission.xml.plain"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(doc, enc)
	f.Add([]byte(`<data encrypted="yes"><media><file>a.enc</file></media></data>`), []byte{})
	f.Fuzz(func(t *testing.T, doc, enc []byte) {
		_ = IsEncrypted(doc)
		m, err := ParseManifest(doc)
		if err != nil {
			return
		}
		files := map[string][]byte{m.XMLFile: enc}
		for _, n := range m.Media {
			files[n] = enc
		}
		inst, _, err := Decrypt(priv, m, files)
		if err == nil && !bytes.Equal(inst, want) {
			t.Fatalf("a changed submission decrypted to %q", inst)
		}
	})
}
