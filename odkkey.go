package dotm

import (
	"context"
	"crypto/rsa"
	"fmt"
	"time"

	"github.com/dotm-survey/dotm/internal/odkcrypt"
)

// ODKKey is one RSA key pair of a survey for ODK encrypted forms
// (docs.getodk.org, "Encrypted forms"): ODK Collect encrypts each interview
// of a form whose XForm carries the public key, and dotm decrypts it on
// receipt with the private key, which the database holds only sealed under
// the data key (like the answers to direct questions), so that a copy of
// the database alone opens no interview.
//
// A survey's newest key is the one dotm writes into the XForms of its
// forms that carry no public_key setting of their own; a form whose
// XLSForm settings carry a public_key keeps it, and its interviews decrypt
// with the survey's key of that public key (imported with dotm forms keys
// import). Older keys stay, so that interviews still on tablets decrypt.
type ODKKey struct {
	Survey      string
	Fingerprint string      // odkcrypt.Fingerprint of the public key
	PublicKey   string      // base64 of the SubjectPublicKeyInfo, as in base64RsaPublicKey
	Private     SealedValue // the private key, PKCS#8 DER, sealed under a data key
	Created     time.Time
	CreatedBy   string
}

// odkKeyAAD binds a sealed private key to its survey and fingerprint, so
// that it cannot be moved to another survey or public key in the database.
func odkKeyAAD(survey, fingerprint string) []byte {
	return []byte("dotm odk key v1\x00" + survey + "\x00" + fingerprint)
}

// SealODKKey makes the ODKKey of a private key, sealed under keys' current
// data key.
func SealODKKey(keys *Keyring, survey string, priv *rsa.PrivateKey, by string, now time.Time) (ODKKey, error) {
	if priv.N.BitLen() < 2048 {
		return ODKKey{}, Errorf(EINVALID, "the RSA key has %d bits; ODK encryption needs at least 2048", priv.N.BitLen())
	}
	fp := odkcrypt.Fingerprint(&priv.PublicKey)
	der := odkcrypt.MarshalPrivateKey(priv)
	defer clear(der)
	sv, err := keys.Seal("odk_key", der, odkKeyAAD(survey, fp))
	if err != nil {
		return ODKKey{}, err
	}
	return ODKKey{Survey: survey, Fingerprint: fp, PublicKey: odkcrypt.PublicKeyBase64(&priv.PublicKey), Private: sv, Created: now.UTC(), CreatedBy: by}, nil
}

// Open decrypts the private key.
func (k ODKKey) Open(keys *Keyring) (*rsa.PrivateKey, error) {
	der, err := keys.Open(k.Private, odkKeyAAD(k.Survey, k.Fingerprint))
	if err != nil {
		return nil, fmt.Errorf("odk key %s of survey %s: %w", k.Fingerprint, k.Survey, err)
	}
	defer clear(der)
	priv, err := odkcrypt.ParsePrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("odk key %s of survey %s: %w", k.Fingerprint, k.Survey, err)
	}
	if odkcrypt.Fingerprint(&priv.PublicKey) != k.Fingerprint {
		return nil, fmt.Errorf("odk key %s of survey %s: the private key is not the one of the fingerprint", k.Fingerprint, k.Survey)
	}
	return priv, nil
}

// ODKKeyStore keeps the surveys' ODK keys.
//
// PutODKKey stores a key (ECONFLICT when the survey has that key already).
// ODKKeys lists a survey's keys, oldest first (none: an empty list).
// AllODKKeys lists every survey's keys and ResealODKKey replaces the
// sealed private key of one (data key rotation).
type ODKKeyStore interface {
	PutODKKey(ctx context.Context, k ODKKey) error
	ODKKeys(ctx context.Context, survey string) ([]ODKKey, error)
	AllODKKeys(ctx context.Context) ([]ODKKey, error)
	ResealODKKey(ctx context.Context, survey, fingerprint string, sealed SealedValue) error
}

// ReencryptODKKeys re-seals every ODK private key that is not under keys'
// current data key (dotm keys rotate) and returns how many it changed.
func ReencryptODKKeys(ctx context.Context, store ODKKeyStore, keys *Keyring) (int, error) {
	all, err := store.AllODKKeys(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, k := range all {
		if k.Private.KeyID == keys.Current() {
			continue
		}
		aad := odkKeyAAD(k.Survey, k.Fingerprint)
		p, err := keys.Open(k.Private, aad)
		if err != nil {
			return n, fmt.Errorf("odk key %s of survey %s: %w", k.Fingerprint, k.Survey, err)
		}
		sv, err := keys.Seal(k.Private.Path, p, aad)
		clear(p)
		if err != nil {
			return n, err
		}
		if err := store.ResealODKKey(ctx, k.Survey, k.Fingerprint, sv); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
