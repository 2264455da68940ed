package mongodb

import (
	"context"
	"testing"
	"time"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/internal/odkcrypt"
)

// TestODKKeys: a survey's ODK keys are stored sealed, listed oldest first,
// counted as uses of their data key (so that the key is not retired under
// them), re-sealed by a rotation and still opened after it.
func TestODKKeys(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	old, err := dotm.GenerateKey(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	kr, err := dotm.NewKeyring(old.ID, old)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := odkcrypt.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	k1, err := dotm.SealODKKey(kr, "gh-2026", priv, "admin", t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutODKKey(ctx, k1); err != nil {
		t.Fatal(err)
	}
	if err := s.PutODKKey(ctx, k1); dotm.ErrorCode(err) != dotm.ECONFLICT {
		t.Fatalf("the same key twice: %v, want ECONFLICT", err)
	}
	priv2, _ := odkcrypt.GenerateKey()
	k2, _ := dotm.SealODKKey(kr, "gh-2026", priv2, "admin", t0.Add(time.Hour))
	other, _ := dotm.SealODKKey(kr, "sn-2026", priv2, "admin", t0)
	for _, k := range []dotm.ODKKey{k2, other} {
		if err := s.PutODKKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ODKKeys(ctx, "gh-2026")
	if err != nil || len(got) != 2 || got[0].Fingerprint != k1.Fingerprint || got[1].Fingerprint != k2.Fingerprint {
		t.Fatalf("ODKKeys = %+v, %v", got, err)
	}
	p, err := got[0].Open(kr)
	if err != nil || !p.Equal(priv) || got[0].PublicKey != odkcrypt.PublicKeyBase64(&priv.PublicKey) {
		t.Fatalf("open the stored key: %v", err)
	}
	// A sealed key moved to another survey does not open.
	moved := got[0]
	moved.Survey = "sn-2026"
	if _, err := moved.Open(kr); err == nil {
		t.Error("a key moved to another survey opened")
	}
	if use, err := s.KeyUse(ctx); err != nil || use[old.ID] != 3 {
		t.Fatalf("KeyUse = %v, %v; want 3 uses of %s", use, err, old.ID)
	}
	// Rotation re-seals them all; the old data key is then unused.
	nk, _ := dotm.GenerateKey(time.Now())
	both, err := kr.WithKey(nk)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := dotm.ReencryptODKKeys(ctx, s, both); err != nil || n != 3 {
		t.Fatalf("ReencryptODKKeys = %d, %v", n, err)
	}
	if n, err := dotm.ReencryptODKKeys(ctx, s, both); err != nil || n != 0 {
		t.Fatalf("again: %d, %v", n, err)
	}
	use, err := s.KeyUse(ctx)
	if err != nil || use[old.ID] != 0 || use[nk.ID] != 3 {
		t.Fatalf("after rotation KeyUse = %v, %v", use, err)
	}
	newOnly, _ := both.Without(old.ID)
	got, _ = s.ODKKeys(ctx, "gh-2026")
	if p, err := got[1].Open(newOnly); err != nil || !p.Equal(priv2) {
		t.Fatalf("open after rotation: %v", err)
	}
}
