package collector

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dotm-survey/dotm"
)

func testKeyring(t testing.TB) *dotm.Keyring {
	t.Helper()
	k, err := dotm.GenerateKey(time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	kr, err := dotm.NewKeyring(k.ID, k)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func TestSealRoundTrip(t *testing.T) {
	kr := testKeyring(t)
	direct := map[string]bool{"name": true, "member_name": true, "gps": true}
	answers := map[string]any{
		"name":   "Ama Mensah",
		"region": "north",
		"gps":    map[string]any{"lat": 5.6, "lon": -0.2},
		"members": []any{
			map[string]any{"member_name": "Kofi", "age": 40.0, "trips": []any{map[string]any{"member_name": "nested", "year": 2019.0}}},
			map[string]any{"age": 3.0},
			"not a map",
		},
		"empty": nil,
	}
	original, err := jsonPlain(answers) // a deep copy: sealing removes the direct answers in place
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := dotm.SealAnswers(kr, "id-1", answers, direct)
	if err != nil {
		t.Fatal(err)
	}
	plain := answers
	js, _ := json.Marshal(plain)
	for _, secret := range []string{"Ama", "Kofi", "nested", "5.6"} {
		if strings.Contains(string(js), secret) {
			t.Fatalf("plain part holds %q: %s", secret, js)
		}
	}
	var paths []string
	for _, s := range sealed {
		paths = append(paths, s.Path)
		if s.KeyID != kr.Current() || len(s.Nonce) != 12 {
			t.Fatalf("sealed value %+v", s)
		}
	}
	want := []string{"gps", "members[0].member_name", "members[0].trips[0].member_name", "name"}
	if !reflect.DeepEqual(paths, want) {
		t.Fatalf("paths %v, want %v", paths, want)
	}
	back, err := dotm.UnsealAnswers(kr, "id-1", plain, sealed)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, original) {
		t.Fatalf("round trip:\n got %#v\nwant %#v", back, original)
	}

	// A value moved to another path or another submission does not open.
	moved := append([]dotm.SealedValue(nil), sealed...)
	moved[0].Path, moved[3].Path = moved[3].Path, moved[0].Path
	if _, err := dotm.UnsealAnswers(kr, "id-1", map[string]any{}, moved[:1]); err == nil {
		t.Fatal("a value moved to another path decrypted")
	}
	if _, err := dotm.UnsealAnswers(kr, "id-2", map[string]any{}, sealed[3:]); err == nil {
		t.Fatal("a value moved to another submission decrypted")
	}
	// Another key does not open it, and the error never shows the value.
	_, err = dotm.UnsealAnswers(testKeyring(t), "id-1", map[string]any{}, sealed)
	if err == nil || strings.Contains(err.Error(), "Ama") {
		t.Fatalf("foreign key: %v", err)
	}
	// Flipped ciphertext bits are caught.
	bad := sealed[3]
	bad.Ciphertext = bytes.Clone(bad.Ciphertext)
	bad.Ciphertext[0] ^= 1
	if _, err := dotm.UnsealAnswers(kr, "id-1", map[string]any{}, []dotm.SealedValue{bad}); err == nil {
		t.Fatal("tampered ciphertext decrypted")
	}
	// Two seals of one value differ (random nonce).
	again, _ := dotm.SealAnswers(kr, "id-1", original, direct)
	if bytes.Equal(again[3].Ciphertext, sealed[3].Ciphertext) {
		t.Fatal("the same value sealed twice gives the same ciphertext")
	}
}

func TestKeyring(t *testing.T) {
	dir := t.TempDir()
	kr := testKeyring(t)
	path := filepath.Join(dir, "data.key")
	if err := kr.WriteKeyFile(path); err != nil {
		t.Fatal(err)
	}
	back, err := dotm.ReadKeyFile(path)
	if err != nil || back.Current() != kr.Current() {
		t.Fatalf("read back: %v %v", back, err)
	}
	k2, _ := dotm.GenerateKey(time.Unix(0, 0))
	both, err := kr.WithKey(k2)
	if err != nil || both.Current() != k2.ID || len(both.IDs()) != 2 {
		t.Fatalf("with key: %v %v", both, err)
	}
	if _, err := both.Without(k2.ID); err == nil {
		t.Fatal("retired the current key")
	}
	old, err := both.Without(kr.Current())
	if err != nil || len(old.IDs()) != 1 {
		t.Fatalf("without: %v", err)
	}
	if _, err := both.WithKey(k2); err == nil {
		t.Fatal("the same key twice")
	}
	// DOTM_DATA_KEY: base64 of exactly 32 bytes; the id is the same as in a file.
	secret := bytes.Repeat([]byte{7}, 32)
	env, err := dotm.ParseDataKey(base64.StdEncoding.EncodeToString(secret))
	if err != nil || env.Current() != dotm.KeyID(secret) {
		t.Fatalf("data key: %v", err)
	}
	for _, bad := range []string{"", "not base64!", base64.StdEncoding.EncodeToString(secret[:16])} {
		if _, err := dotm.ParseDataKey(bad); err == nil {
			t.Errorf("ParseDataKey(%q) accepted", bad)
		} else if bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("error shows the key: %v", err)
		}
	}
	if _, err := dotm.NewKeyring("nope", k2); err == nil {
		t.Fatal("current key not in the ring")
	}
}

// FuzzEnvelope feeds arbitrary bytes to the envelope decoder and, for what
// decodes, checks that sealing and unsealing the answers gives them back.
func FuzzEnvelope(f *testing.F) {
	f.Add([]byte(`{"instance_id":"0b6e1c2a-8f7d-4f5e-9a1b-2c3d4e5f6a7b","form_id":"f","form_version":"1","started_at":"2026-01-01T00:00:00Z","ended_at":"2026-01-01T01:00:00Z","answers":{"name":"x","r":[{"name":"y","a":1}]}}`))
	f.Add([]byte(`{"answers":{"name":{"name":[1,2,{"name":null}]}}}`))
	f.Add([]byte(`{"instance_id":5}`))
	f.Add([]byte(`[]`))
	kr := testKeyring(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := decodeEnvelope(data)
		if err != nil {
			if dotm.ErrorCode(err) == dotm.EINTERNAL {
				t.Fatalf("decode error without a client code: %v", err)
			}
			return
		}
		if env.Answers == nil {
			return
		}
		answers, err := jsonPlain(env.Answers)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(dropNil(answers))
		sealed, err := dotm.SealAnswers(kr, "id", answers, map[string]bool{"name": true})
		if err != nil {
			t.Fatal(err)
		}
		// Nested direct values are sealed whole: only the outermost counts.
		back, err := dotm.UnsealAnswers(kr, "id", answers, sealed)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(back)
		if !bytes.Equal(want, got) {
			t.Fatalf("round trip\n got %s\nwant %s", got, want)
		}
	})
}

// dropNil removes direct ("name") keys whose value is null, which sealing
// drops: an unanswered identifier is not stored.
func dropNil(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if k == "name" { // sealed whole, inner structure and all
			if v != nil {
				out[k] = v
			}
			continue
		}
		switch x := v.(type) {
		case map[string]any:
			v = dropNil(x)
		case []any:
			items := make([]any, len(x))
			for i, it := range x {
				if im, ok := it.(map[string]any); ok {
					items[i] = dropNil(im)
				} else {
					items[i] = it
				}
			}
			v = items
		}
		out[k] = v
	}
	return out
}
