package mongodb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/dotm-survey/dotm"
)

// TestReleaseStoreChunks stores a file over several chunks and reads it
// back whole and from arbitrary offsets.
func TestReleaseStoreChunks(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	const chunk = 1000
	data := make([]byte, 2*chunk+123)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.IntN(256))
	}
	sum := sha256.Sum256(data)
	id := uuid.NewString()
	r := dotm.Release{ID: id, Survey: "s", Created: time.Now().UTC().Truncate(time.Second), Manifest: json.RawMessage(`{"release_id":"` + id + `"}`), Report: json.RawMessage(`{}`),
		Files: []dotm.ReleaseFile{{Name: "big.parquet", Bytes: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}, {Name: "empty.json", SHA256: "e3b0"}}}
	if err := s.putRelease(ctx, r, fstest.MapFS{"big.parquet": {Data: data}, "empty.json": {Data: nil}}, chunk); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRelease(ctx, r, fstest.MapFS{"big.parquet": {Data: data}, "empty.json": {Data: nil}}); dotm.ErrorCode(err) != dotm.ECONFLICT {
		t.Fatalf("second put: %v", err)
	}
	if n, err := s.collection(colReleaseFiles).CountDocuments(ctx, bson.D{{Key: "release", Value: id}}); err != nil || n != 3 {
		t.Fatalf("%d chunks stored, want 3 (%v)", n, err)
	}
	for _, c := range []struct {
		off, n int64
	}{{0, int64(len(data))}, {chunk - 5, 10}, {2*chunk + 1, 100}, {int64(len(data)) - 3, 3}, {chunk, chunk}} {
		rs, err := s.ReleaseFile(ctx, id, "big.parquet")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rs.Seek(c.off, 0); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, c.n)
		if _, err := readFull(rs, buf); err != nil {
			t.Fatalf("read %d at %d: %v", c.n, c.off, err)
		}
		if !bytes.Equal(buf, data[c.off:c.off+c.n]) {
			t.Fatalf("bytes %d..%d differ", c.off, c.off+c.n)
		}
	}
	rs, err := s.ReleaseFile(ctx, id, "empty.json")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := rs.Read(make([]byte, 10)); n != 0 || err == nil {
		t.Fatalf("empty file: %d %v", n, err)
	}
	if _, err := s.ReleaseFile(ctx, id, "nope"); dotm.ErrorCode(err) != dotm.ENOTFOUND {
		t.Fatalf("unknown file: %v", err)
	}
	if err := s.PublishRelease(ctx, "no-such-release", "admin", time.Now()); dotm.ErrorCode(err) != dotm.ENOTFOUND {
		t.Fatalf("publish unknown: %v", err)
	}
	if err := s.PublishRelease(ctx, id, "admin", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.PublishRelease(ctx, id, "admin", time.Now()); dotm.ErrorCode(err) != dotm.ECONFLICT {
		t.Fatalf("second publish: %v", err)
	}
	got, err := s.Releases(ctx, "s")
	if err != nil || len(got) != 1 || !got[0].Published || got[0].PublishedBy != "admin" || len(got[0].Files) != 2 {
		t.Fatalf("releases: %+v %v", got, err)
	}
	if other, err := s.Releases(ctx, "other"); err != nil || len(other) != 0 {
		t.Fatalf("releases of another survey: %+v %v", other, err)
	}
}

func readFull(r interface{ Read([]byte) (int, error) }, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := r.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// TestReleaseStoreFailureLeavesNoChunks: a release whose storing fails
// after some of its chunks are in (here the second file is shorter than
// its record says) leaves neither a record nor a chunk behind, and the same
// release stores afterwards.
func TestReleaseStoreFailureLeavesNoChunks(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	id := uuid.NewString()
	files := fstest.MapFS{"a.parquet": {Data: bytes.Repeat([]byte("a"), 2500)}, "b.json": {Data: []byte("{}")}}
	r := dotm.Release{ID: id, Survey: "s", Created: time.Now().UTC().Truncate(time.Second), Manifest: json.RawMessage(`{"release_id":"` + id + `"}`), Report: json.RawMessage(`{}`),
		Files: []dotm.ReleaseFile{{Name: "a.parquet", Bytes: 2500}, {Name: "b.json", Bytes: 99}}}
	if err := s.putRelease(ctx, r, files, 1000); err == nil {
		t.Fatal("a release with a wrong file size was stored")
	}
	if n, err := s.collection(colReleaseFiles).CountDocuments(ctx, bson.D{{Key: "release", Value: id}}); err != nil || n != 0 {
		t.Fatalf("%d chunks left behind (%v)", n, err)
	}
	if _, err := s.Release(ctx, id); dotm.ErrorCode(err) != dotm.ENOTFOUND {
		t.Fatalf("record after a failed store: %v", err)
	}
	r.Files[1].Bytes = 2
	if err := s.putRelease(ctx, r, files, 1000); err != nil {
		t.Fatalf("storing the release again: %v", err)
	}
}
