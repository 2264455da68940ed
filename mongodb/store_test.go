package mongodb

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/dotm-survey/dotm"
)

// The store conformance suite: runs against the embedded server, and against
// a real MongoDB unchanged when DOTM_TEST_MONGO_URI is set.

func TestUsersLifecycle(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	_, hash, err := dotm.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	u := dotm.User{Name: "ana", Role: dotm.RoleEnumerator, Surveys: []string{"gh-2026"}}
	if err := s.AddUser(ctx, u, hash); err != nil {
		t.Fatalf("add: %v", err)
	}
	got, stored, err := s.UserByTokenHash(ctx, hash)
	if err != nil {
		t.Fatalf("lookup: %v", err)
	}
	if got.Name != "ana" || got.Role != dotm.RoleEnumerator || len(got.Surveys) != 1 || got.Surveys[0] != "gh-2026" || stored != hash || got.Revoked {
		t.Fatalf("lookup gave %+v, hash %q", got, stored)
	}
	// A second user of the same name is a conflict, and the first is intact.
	_, hash2, _ := dotm.NewToken()
	err = s.AddUser(ctx, dotm.User{Name: "ana", Role: dotm.RoleAdmin}, hash2)
	if dotm.ErrorCode(err) != dotm.ECONFLICT {
		t.Fatalf("duplicate user: got %v, want conflict", err)
	}
	if _, _, err := s.UserByTokenHash(ctx, hash2); dotm.ErrorCode(err) != dotm.ENOTFOUND {
		t.Fatalf("token of refused user: got %v, want not found", err)
	}
	if got, _, _ := s.UserByTokenHash(ctx, hash); got.Role != dotm.RoleEnumerator {
		t.Fatalf("first user changed: %+v", got)
	}
	users, err := s.Users(ctx)
	if err != nil || len(users) != 1 {
		t.Fatalf("list: %v %v", users, err)
	}
	if err := s.RevokeUser(ctx, "ana"); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if _, _, err := s.UserByTokenHash(ctx, hash); dotm.ErrorCode(err) != dotm.ENOTFOUND {
		t.Fatalf("revoked token: got %v, want not found", err)
	}
	if err := s.RevokeUser(ctx, "nobody"); dotm.ErrorCode(err) != dotm.ENOTFOUND {
		t.Fatalf("revoke unknown: got %v, want not found", err)
	}
	users, _ = s.Users(ctx)
	if !users[0].Revoked {
		t.Fatalf("list after revoke: %+v", users)
	}
}

func TestAuditIsAppendOnly(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	for i, a := range []string{"sign_in_failed", "read_identifiers"} {
		if err := s.Record(ctx, dotm.AuditEntry{Actor: "sup", Role: dotm.RoleSupervisor, Action: a, Target: "x"}); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	n, err := s.collection(colAudit).CountDocuments(ctx, bson.D{})
	if err != nil || n != 2 {
		t.Fatalf("audit count %d, %v", n, err)
	}
}

func TestIndexesAreIdempotent(t *testing.T) {
	s := openTestStore(t)
	for range 2 {
		if err := s.EnsureIndexes(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestEmbeddedRestartKeepsData opens the embedded store on a data dir, adds a
// user, closes it, opens it again and finds the user by the same token.
func TestEmbeddedRestartKeepsData(t *testing.T) {
	if os.Getenv("DOTM_TEST_MONGO_URI") != "" {
		t.Log("also runs with a real MongoDB configured: this test is about the embedded server")
	}
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Embedded() {
		t.Fatal("want embedded store")
	}
	token, hash, _ := dotm.NewToken()
	if err := s.AddUser(ctx, dotm.User{Name: "admin", Role: dotm.RoleAdmin}, hash); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, uriFile)); !os.IsNotExist(err) {
		t.Fatalf("%s left behind after close: %v", uriFile, err)
	}
	s2, err := Open(ctx, Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close(ctx)
	u, _, err := s2.UserByTokenHash(ctx, dotm.HashToken(token))
	if err != nil || u.Name != "admin" {
		t.Fatalf("after restart: %+v %v", u, err)
	}
}

// TestDataDirShared: a second Open on a data dir that a live store holds
// must not open the SQLite files again, but use the holder's server.
func TestDataDirShared(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	holder, err := Open(ctx, Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(ctx)
	second, err := Open(ctx, Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if second.Embedded() || !second.Shared() {
		t.Fatalf("second open: embedded=%v shared=%v, want a borrowed connection", second.Embedded(), second.Shared())
	}
	_, hash, _ := dotm.NewToken()
	if err := second.AddUser(ctx, dotm.User{Name: "x", Role: dotm.RoleAdmin}, hash); err != nil {
		t.Fatal(err)
	}
	if err := second.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// The holder still works and sees the write.
	if u, _, err := holder.UserByTokenHash(ctx, hash); err != nil || u.Name != "x" {
		t.Fatalf("holder after borrower closed: %+v %v", u, err)
	}
}

func TestUnreachableURIFailsFast(t *testing.T) {
	start := time.Now()
	_, err := Open(context.Background(), Config{URI: "mongodb://127.0.0.1:1", ConnectTimeout: 2 * time.Second})
	if err == nil {
		t.Fatal("want an error")
	}
	if !strings.Contains(err.Error(), "mongodb://127.0.0.1:1") {
		t.Fatalf("error does not name the URI: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("took %s", d)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"mongodb://u:secret@h:27017/db": "mongodb://u:xxxxx@h:27017/db",
		"mongodb://h:27017/":            "mongodb://h:27017/",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNotFoundMapping(t *testing.T) {
	s := openTestStore(t)
	_, _, err := s.UserByTokenHash(context.Background(), "nope")
	var e *dotm.Error
	if !errors.As(err, &e) || e.Code != dotm.ENOTFOUND {
		t.Fatalf("got %v", err)
	}
}
