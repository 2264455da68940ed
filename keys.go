package dotm

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/dotm-survey/dotm/internal/outfile"
)

// Key is one 256-bit data key. Keys live in a key file or the DOTM_DATA_KEY
// environment variable, never in the database.
type Key struct {
	ID      string    `json:"id"`
	Secret  []byte    `json:"key"` // 32 bytes; base64 in the key file
	Created time.Time `json:"created"`
}

// KeyID names a key by the first 8 bytes (hex) of SHA-256("dotm data key " ||
// secret): the same key has the same id whether it comes from a file or the
// environment, and the id reveals nothing usable about the key.
func KeyID(secret []byte) string {
	sum := sha256.Sum256(append([]byte("dotm data key "), secret...))
	return "k" + hex.EncodeToString(sum[:8])
}

// GenerateKey makes a new random key.
func GenerateKey(now time.Time) (Key, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return Key{}, fmt.Errorf("dotm: generate key: %w", err)
	}
	return Key{ID: KeyID(b), Secret: b, Created: now.UTC()}, nil
}

// Keyring holds the data keys: the current one encrypts, all of them
// decrypt, so that values written under an older key stay readable until it
// is retired.
type Keyring struct {
	current string
	keys    []Key
	aeads   map[string]cipher.AEAD
}

// NewKeyring makes a keyring of keys whose current (encrypting) key is the
// one with id current.
func NewKeyring(current string, keys ...Key) (*Keyring, error) {
	k := &Keyring{current: current, aeads: map[string]cipher.AEAD{}}
	for _, key := range keys {
		if len(key.Secret) != 32 {
			return nil, fmt.Errorf("dotm: key %s: want 32 bytes, have %d", key.ID, len(key.Secret))
		}
		if key.ID == "" {
			key.ID = KeyID(key.Secret)
		}
		if want := KeyID(key.Secret); key.ID != want {
			// A key's id is derived from its secret: a changed byte, or a
			// secret pasted under another key's id, shows here before any
			// identifier is sealed with a key that nothing can open.
			return nil, fmt.Errorf("dotm: key %s does not match its secret (the secret's id is %s): the key file is damaged or was edited; restore it from your safe copy", key.ID, want)
		}
		if _, dup := k.aeads[key.ID]; dup {
			return nil, fmt.Errorf("dotm: key %s listed twice", key.ID)
		}
		block, err := aes.NewCipher(key.Secret)
		if err != nil {
			return nil, fmt.Errorf("dotm: key %s: %w", key.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("dotm: key %s: %w", key.ID, err)
		}
		k.aeads[key.ID] = aead
		k.keys = append(k.keys, key)
	}
	if _, ok := k.aeads[current]; !ok {
		return nil, fmt.Errorf("dotm: current key %q is not in the keyring", current)
	}
	return k, nil
}

// ParseDataKey reads a key given as base64 of 32 bytes (DOTM_DATA_KEY).
func ParseDataKey(b64 string) (*Keyring, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return nil, errors.New("dotm: data key is not base64")
	}
	if len(b) != 32 {
		return nil, fmt.Errorf("dotm: data key has %d bytes, want 32 (base64 of 32 random bytes)", len(b))
	}
	id := KeyID(b)
	return NewKeyring(id, Key{ID: id, Secret: b})
}

// keyFile is the on-disk form of a keyring.
type keyFile struct {
	Current string `json:"current"`
	Keys    []Key  `json:"keys"`
}

// ReadKeyFile loads a keyring written by WriteKeyFile. A key file that
// group or others may read or write is refused: whoever reads it reads every
// identifier.
func ReadKeyFile(path string) (*Keyring, error) {
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("dotm: key file %s can be read or written by others (mode %04o); it must be the owner's alone: chmod 600 %s", path, st.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("dotm: key file: %w", err)
	}
	var f keyFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("dotm: key file %s: %w", path, err)
	}
	k, err := NewKeyring(f.Current, f.Keys...)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return k, nil
}

// WriteKeyFile writes the keyring to path (mode 0600) through a temporary
// file in the same directory, so that a crash never leaves half a key file.
func (k *Keyring) WriteKeyFile(path string) error {
	b, err := json.MarshalIndent(keyFile{Current: k.current, Keys: k.keys}, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := outfile.Temp(path, ".dotm-key-*")
	if err != nil {
		return fmt.Errorf("dotm: write key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("dotm: write key file: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("dotm: write key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("dotm: write key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("dotm: write key file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("dotm: write key file: %w", err)
	}
	return nil
}

// Current is the id of the key that encrypts.
func (k *Keyring) Current() string { return k.current }

// IDs lists the ids of every key, oldest first.
func (k *Keyring) IDs() []string {
	ids := make([]string, len(k.keys))
	for i, key := range k.keys {
		ids[i] = key.ID
	}
	return ids
}

// WithKey returns a keyring that has key too and encrypts with it.
func (k *Keyring) WithKey(key Key) (*Keyring, error) {
	return NewKeyring(key.ID, append(slices.Clone(k.keys), key)...)
}

// Without returns the keyring without key id; the current key cannot be retired.
func (k *Keyring) Without(id string) (*Keyring, error) {
	if id == k.current {
		return nil, fmt.Errorf("dotm: key %s is the current key; rotate first", id)
	}
	keys := slices.DeleteFunc(slices.Clone(k.keys), func(key Key) bool { return key.ID == id })
	if len(keys) == len(k.keys) {
		return nil, fmt.Errorf("dotm: no key %s in the keyring", id)
	}
	return NewKeyring(k.current, keys...)
}

// Seal encrypts plaintext under the current key with a random nonce; aad is
// authenticated but not stored.
func (k *Keyring) Seal(path string, plaintext, aad []byte) (SealedValue, error) {
	aead := k.aeads[k.current]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return SealedValue{}, fmt.Errorf("dotm: nonce: %w", err)
	}
	return SealedValue{Path: path, KeyID: k.current, Nonce: nonce, Ciphertext: aead.Seal(nil, nonce, plaintext, aad)}, nil
}

// Open decrypts v; the error never contains the value.
func (k *Keyring) Open(v SealedValue, aad []byte) ([]byte, error) {
	aead, ok := k.aeads[v.KeyID]
	if !ok {
		return nil, fmt.Errorf("dotm: value at %s is under key %s, which is not in the keyring", v.Path, v.KeyID)
	}
	if len(v.Nonce) != aead.NonceSize() {
		return nil, fmt.Errorf("dotm: value at %s has a bad nonce", v.Path)
	}
	p, err := aead.Open(nil, v.Nonce, v.Ciphertext, aad)
	if err != nil {
		return nil, fmt.Errorf("dotm: value at %s does not decrypt under key %s", v.Path, v.KeyID)
	}
	return p, nil
}

// KeyCheckStore keeps one check value per data key id that the store has
// used, so that a server started with the wrong key file is refused before
// it seals identifiers no one can open again. Keys themselves are never
// stored.
//
// KeyChecks lists the stored checks by key id. PutKeyCheck stores the check
// of a key id (an existing check of that id is left as it is).
// DeleteKeyCheck removes one (dotm keys retire). KeyUse counts the sealed
// values per key id (a scan: only for stores that predate the checks and
// for error messages).
type KeyCheckStore interface {
	KeyChecks(ctx context.Context) (map[string][]byte, error)
	PutKeyCheck(ctx context.Context, id string, check []byte) error
	DeleteKeyCheck(ctx context.Context, id string) error
	KeyUse(ctx context.Context) (map[string]int, error)
}

// keyCheckMessage is what a key's check value authenticates.
const keyCheckMessage = "dotm data key check v1"

// Check is the key's check value: HMAC-SHA-256 of a constant under the key,
// which tells whether a key is the one that was used and reveals nothing of
// it.
func (k *Keyring) Check(id string) ([]byte, bool) {
	for _, key := range k.keys {
		if key.ID == id {
			m := hmac.New(sha256.New, key.Secret)
			m.Write([]byte(keyCheckMessage))
			return m.Sum(nil), true
		}
	}
	return nil, false
}

// VerifyKeys checks a keyring against the store before it is used: every
// key the store has used must be in it (else values sealed under the
// missing key could never be opened: the wrong key file), and each key in it
// that the store knows must give the stored check value. Then it records
// the checks of the keyring's keys. A store that predates the checks is
// scanned once for the key ids of its sealed values.
func VerifyKeys(ctx context.Context, s KeyCheckStore, kr *Keyring) error {
	checks, err := s.KeyChecks(ctx)
	if err != nil {
		return fmt.Errorf("read key checks: %w", err)
	}
	if len(checks) == 0 {
		use, err := s.KeyUse(ctx)
		if err != nil {
			return fmt.Errorf("read the key ids of stored identifiers: %w", err)
		}
		for id, n := range use {
			if n > 0 {
				checks[id] = nil // used, check unknown: the key must be present
			}
		}
	}
	ids := make([]string, 0, len(checks))
	for id := range checks {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		got, ok := kr.Check(id)
		if !ok {
			return Errorf(EINVALID, "the store holds identifiers sealed under data key %s, which this key file does not have (it has %s): it is the wrong key file, or an old copy; start with the key file that has %s", id, strings.Join(kr.IDs(), ", "), id)
		}
		if want := checks[id]; want != nil && !hmac.Equal(got, want) {
			return Errorf(EINVALID, "data key %s does not verify against the store: the key file is damaged; restore it from your safe copy", id)
		}
	}
	for _, id := range kr.IDs() {
		if _, known := checks[id]; known && checks[id] != nil {
			continue
		}
		c, _ := kr.Check(id)
		if err := s.PutKeyCheck(ctx, id, c); err != nil {
			return fmt.Errorf("record the check of key %s: %w", id, err)
		}
	}
	return nil
}

// Fingerprint is a keyed hash (HMAC-SHA-256 under the current key, hex) of
// one kind of identifying value of a survey's household (its answers, its
// respondent, its phone), for finding duplicates without keeping or
// showing the value: equal values of one survey give equal fingerprints
// under one key, and without the key a fingerprint reveals nothing. After
// `dotm keys rotate` new fingerprints are under the new key, so a
// duplicate of a household received before the rotation is not found.
func (k *Keyring) Fingerprint(survey, kind string, value []byte) string {
	for _, key := range k.keys {
		if key.ID == k.current {
			m := hmac.New(sha256.New, key.Secret)
			m.Write([]byte("dotm fingerprint v1\x00" + survey + "\x00" + kind + "\x00"))
			m.Write(value)
			return hex.EncodeToString(m.Sum(nil))
		}
	}
	return ""
}
