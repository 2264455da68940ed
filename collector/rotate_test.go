package collector_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/dotm-survey/dotm"
)

// TestKeyRotation: values written under key A are re-encrypted to key B;
// while A is in the ring both read; after rotation a server with B alone
// reads every identifier, and nothing is left under A.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAPIEnv(t)
	var ids []string
	for i := range 5 {
		id := uuid.NewString()
		a.mustDo("ana", "POST", "/api/v1/submissions", a.envelope(id, "", validAnswers("rot"+string(rune('a'+i)))), 201)
		ids = append(ids, id)
	}
	keyA := a.keys.Current()
	kB, err := dotm.GenerateKey(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	both, err := a.keys.WithKey(kB)
	if err != nil {
		t.Fatal(err)
	}
	// A server that has both keys encrypts new values with B and reads A's.
	ab := newAPIEnvOn(t, a.store, both, false)
	ab.tokens = a.tokens
	late := uuid.NewString()
	ab.mustDo("ana", "POST", "/api/v1/submissions", ab.envelope(late, "", validAnswers("late")), 201)
	s := decode[submissionJSON](t, ab.mustDo("sup", "GET", "/api/v1/submissions/"+ids[0]+"?include=identifiers", nil, 200))
	if s.Answers["respondent_name"] != "rota respondent" {
		t.Fatalf("old value under the new ring: %+v", s.Answers)
	}

	use, err := a.store.KeyUse(ctx)
	if err != nil || use[keyA] != 5*5 || use[kB.ID] != 5 {
		t.Fatalf("key use before rotation: %v %v", use, err)
	}
	n, err := dotm.Reencrypt(ctx, a.store, both)
	if err != nil || n != 5 {
		t.Fatalf("re-encrypted %d, %v; want 5", n, err)
	}
	if use, _ = a.store.KeyUse(ctx); use[keyA] != 0 || use[kB.ID] != 30 {
		t.Fatalf("key use after rotation: %v", use)
	}
	// Running it again changes nothing.
	if n, err := dotm.Reencrypt(ctx, a.store, both); err != nil || n != 0 {
		t.Fatalf("second run: %d %v", n, err)
	}
	onlyB, err := both.Without(keyA)
	if err != nil {
		t.Fatal(err)
	}
	b := newAPIEnvOn(t, a.store, onlyB, false)
	b.tokens = a.tokens
	for i, id := range append(ids, late) {
		s := decode[submissionJSON](t, b.mustDo("sup", "GET", "/api/v1/submissions/"+id+"?include=identifiers", nil, 200))
		name, _ := s.Answers["respondent_name"].(string)
		if !strings.HasSuffix(name, " respondent") || (i < 5 && name != "rot"+string(rune('a'+i))+" respondent") {
			t.Fatalf("after rotation %s: %+v", id, s.Answers)
		}
	}
	// The retired key alone no longer reads anything: a 500 without detail.
	old := newAPIEnvOn(t, a.store, a.keys, false)
	old.tokens = a.tokens
	st, body, _ := old.do("sup", "GET", "/api/v1/submissions/"+ids[0]+"?include=identifiers", nil)
	if st != 500 || strings.Contains(string(body), "rota") || strings.Contains(string(body), kB.ID) {
		t.Fatalf("read with the retired key: %d %s", st, body)
	}
	// A retry of a submission written before the rotation is still a retry.
	a2 := newAPIEnvOn(t, a.store, onlyB, false)
	a2.tokens = a.tokens
	a2.mustDo("ana", "POST", "/api/v1/submissions", a2.envelope(ids[1], "", validAnswers("rotb")), 200)
}

// TestSetKeysWhileServing: a running server given a new keyring (its key
// file changed) encrypts new values with the new current key at once and
// reads values under both keys, without a restart.
func TestSetKeysWhileServing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAPIEnv(t)
	before := uuid.NewString()
	a.mustDo("ana", "POST", "/api/v1/submissions", a.envelope(before, "", validAnswers("before")), 201)
	kB, err := dotm.GenerateKey(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	both, err := a.keys.WithKey(kB)
	if err != nil {
		t.Fatal(err)
	}
	a.api.SetKeys(both)
	a.api.SetKeys(nil) // ignored
	if a.api.Keys() != both {
		t.Fatal("SetKeys did not take the new keyring")
	}
	after := uuid.NewString()
	a.mustDo("ana", "POST", "/api/v1/submissions", a.envelope(after, "", validAnswers("after")), 201)
	use, err := a.store.KeyUse(ctx)
	if err != nil || use[a.keys.Current()] != 5 || use[kB.ID] != 5 {
		t.Fatalf("key use: %v %v (want 5 values under each key)", use, err)
	}
	for id, who := range map[string]string{before: "before", after: "after"} {
		s := decode[submissionJSON](t, a.mustDo("sup", "GET", "/api/v1/submissions/"+id+"?include=identifiers", nil, 200))
		if s.Answers["respondent_name"] != who+" respondent" {
			t.Fatalf("%s: %+v", who, s.Answers)
		}
	}
}
