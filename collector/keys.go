package collector

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
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
		return Key{}, fmt.Errorf("collector: generate key: %w", err)
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
			return nil, fmt.Errorf("collector: key %s: want 32 bytes, have %d", key.ID, len(key.Secret))
		}
		if key.ID == "" {
			key.ID = KeyID(key.Secret)
		}
		if _, dup := k.aeads[key.ID]; dup {
			return nil, fmt.Errorf("collector: key %s listed twice", key.ID)
		}
		block, err := aes.NewCipher(key.Secret)
		if err != nil {
			return nil, fmt.Errorf("collector: key %s: %w", key.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("collector: key %s: %w", key.ID, err)
		}
		k.aeads[key.ID] = aead
		k.keys = append(k.keys, key)
	}
	if _, ok := k.aeads[current]; !ok {
		return nil, fmt.Errorf("collector: current key %q is not in the keyring", current)
	}
	return k, nil
}

// ParseDataKey reads a key given as base64 of 32 bytes (DOTM_DATA_KEY).
func ParseDataKey(b64 string) (*Keyring, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return nil, errors.New("collector: data key is not base64")
	}
	if len(b) != 32 {
		return nil, fmt.Errorf("collector: data key has %d bytes, want 32 (base64 of 32 random bytes)", len(b))
	}
	id := KeyID(b)
	return NewKeyring(id, Key{ID: id, Secret: b})
}

// keyFile is the on-disk form of a keyring.
type keyFile struct {
	Current string `json:"current"`
	Keys    []Key  `json:"keys"`
}

// ReadKeyFile loads a keyring written by WriteKeyFile.
func ReadKeyFile(path string) (*Keyring, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("collector: key file: %w", err)
	}
	var f keyFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("collector: key file %s: %w", path, err)
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
	tmp, err := os.CreateTemp(filepath.Dir(path), ".dotm-key-*")
	if err != nil {
		return fmt.Errorf("collector: write key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("collector: write key file: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("collector: write key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("collector: write key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("collector: write key file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("collector: write key file: %w", err)
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
		return nil, fmt.Errorf("collector: key %s is the current key; rotate first", id)
	}
	keys := slices.DeleteFunc(slices.Clone(k.keys), func(key Key) bool { return key.ID == id })
	if len(keys) == len(k.keys) {
		return nil, fmt.Errorf("collector: no key %s in the keyring", id)
	}
	return NewKeyring(k.current, keys...)
}

// seal encrypts plaintext under the current key with a random nonce; aad is
// authenticated but not stored.
func (k *Keyring) seal(path string, plaintext, aad []byte) (SealedValue, error) {
	aead := k.aeads[k.current]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return SealedValue{}, fmt.Errorf("collector: nonce: %w", err)
	}
	return SealedValue{Path: path, KeyID: k.current, Nonce: nonce, Ciphertext: aead.Seal(nil, nonce, plaintext, aad)}, nil
}

// open decrypts v; the error never contains the value.
func (k *Keyring) open(v SealedValue, aad []byte) ([]byte, error) {
	aead, ok := k.aeads[v.KeyID]
	if !ok {
		return nil, fmt.Errorf("collector: value at %s is under key %s, which is not in the keyring", v.Path, v.KeyID)
	}
	if len(v.Nonce) != aead.NonceSize() {
		return nil, fmt.Errorf("collector: value at %s has a bad nonce", v.Path)
	}
	p, err := aead.Open(nil, v.Nonce, v.Ciphertext, aad)
	if err != nil {
		return nil, fmt.Errorf("collector: value at %s does not decrypt under key %s", v.Path, v.KeyID)
	}
	return p, nil
}
