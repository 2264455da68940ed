package mongodb

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dotm-survey/dotm"
)

// fillForBackup puts documents of every BSON type dotm stores (and more;
// the embedded server refuses arrays directly inside arrays)
// into several collections, through the store's API and directly, and a
// collection large enough to need several insert batches on restore.
func fillForBackup(t *testing.T, s *Store, bulk int) {
	t.Helper()
	ctx := context.Background()
	_, hash, err := dotm.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddUser(ctx, dotm.User{Name: "ana", Role: dotm.RoleEnumerator, Surveys: []string{"gh-2026"}}, hash); err != nil {
		t.Fatal(err)
	}
	if err := s.Record(ctx, dotm.AuditEntry{Actor: "ana", Role: dotm.RoleEnumerator, Action: "sign_in_failed", Target: "x"}); err != nil {
		t.Fatal(err)
	}
	oid := bson.NewObjectID()
	varied := []any{
		bson.D{{Key: "_id", Value: "types"},
			{Key: "s", Value: "Accra — ñ 日本"},
			{Key: "i32", Value: int32(-7)},
			{Key: "i64", Value: int64(math.MaxInt64)},
			{Key: "f", Value: 0.1},
			{Key: "negzero", Value: math.Copysign(0, -1)},
			{Key: "big", Value: 1e308},
			{Key: "b", Value: true},
			{Key: "null", Value: nil},
			{Key: "when", Value: bson.NewDateTimeFromTime(time.Date(2026, 3, 1, 10, 4, 5, 123e6, time.UTC))},
			{Key: "bin", Value: bson.Binary{Subtype: 0, Data: []byte{0, 1, 2, 255}}},
			{Key: "oid", Value: oid},
			{Key: "arr", Value: bson.A{int32(1), "two", bson.D{{Key: "three", Value: 3.0}, {Key: "inner", Value: bson.A{}}}}},
			{Key: "nested", Value: bson.D{{Key: "z", Value: 1.5}, {Key: "a", Value: bson.D{{Key: "deep", Value: bson.A{bson.D{{Key: "x", Value: bson.A{"y"}}}}}}}}},
			{Key: "empty", Value: ""},
		},
		bson.D{{Key: "_id", Value: oid}, {Key: "order", Value: bson.D{{Key: "b", Value: 1}, {Key: "a", Value: 2}}}},
		bson.D{{Key: "_id", Value: int32(42)}, {Key: "large", Value: strings.Repeat("é", 100_000)}},
		bson.D{{Key: "_id", Value: "sealed"}, {Key: "v", Value: bson.D{{Key: "kid", Value: "k1"}, {Key: "ct", Value: bson.Binary{Subtype: 0, Data: bytes.Repeat([]byte{0xAB}, 48)}}}}},
	}
	if _, err := s.collection("varied").InsertMany(ctx, varied); err != nil {
		t.Fatal(err)
	}
	docs := make([]any, bulk)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: fmt.Sprintf("inst-%05d", i)}, {Key: "n", Value: int64(i)}, {Key: "pad", Value: strings.Repeat("x", i%97)}}
	}
	if _, err := s.collection("bulk").InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	if _, err := s.collection("bulk").Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "n", Value: 1}}, Options: options.Index().SetUnique(true).SetName("n_unique")}); err != nil {
		t.Fatal(err)
	}
	if err := s.db.CreateCollection(ctx, "empty_col"); err != nil {
		t.Fatal(err)
	}
}

// rawDocs returns every document of every collection, as stored, keyed by
// collection and ordered by their bytes.
func rawDocs(t *testing.T, s *Store) map[string][][]byte {
	t.Helper()
	ctx := context.Background()
	names, err := s.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][][]byte{}
	for _, n := range names {
		cur, err := s.collection(n).Find(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		docs := [][]byte{}
		for cur.Next(ctx) {
			docs = append(docs, slices.Clone(cur.Current))
		}
		if err := cur.Err(); err != nil {
			t.Fatal(err)
		}
		cur.Close(ctx)
		slices.SortFunc(docs, bytes.Compare)
		out[n] = docs
	}
	return out
}

func indexNames(t *testing.T, s *Store, col string) []string {
	t.Helper()
	specs, err := s.collection(col).Indexes().ListSpecifications(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sp := range specs {
		names = append(names, fmt.Sprintf("%s unique=%v", sp.Name, sp.Unique != nil && *sp.Unique))
	}
	slices.Sort(names)
	return names
}

func TestBackupRestoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	src := openTestStore(t)
	fillForBackup(t, src, 600)
	before := rawDocs(t, src)

	created := time.Date(2026, 4, 2, 8, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	var progressed []string
	h, err := src.Backup(ctx, &buf, BackupOptions{Now: func() time.Time { return created }, Progress: func(c string, done, total int64) {
		if done == total {
			progressed = append(progressed, c)
		}
	}})
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	if h.Format != "dotm-backup" || h.Version != 1 || !h.Created.Equal(created) || h.Database != src.db.Name() {
		t.Fatalf("header %+v", h)
	}
	wantCounts := map[string]int64{}
	var total int64
	for name, docs := range before {
		wantCounts[name] = int64(len(docs))
		total += int64(len(docs))
	}
	gotCounts := map[string]int64{}
	for _, c := range h.Collections {
		gotCounts[c.Name] = c.Count
	}
	if fmt.Sprint(gotCounts) != fmt.Sprint(wantCounts) || h.Documents() != total {
		t.Fatalf("header counts %v, want %v", gotCounts, wantCounts)
	}
	if len(progressed) != len(h.Collections) {
		t.Errorf("progress reported the end of %v, want every collection", progressed)
	}
	// The file is gzip.
	if b := buf.Bytes(); len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("backup is not gzip-compressed")
	}
	hdr, err := ReadBackupHeader(bytes.NewReader(buf.Bytes()))
	if err != nil || fmt.Sprint(hdr) != fmt.Sprint(h) {
		t.Fatalf("ReadBackupHeader = %+v, %v; want %+v", hdr, err, h)
	}

	dst := openTestStore(t)
	rh, err := dst.Restore(ctx, bytes.NewReader(buf.Bytes()), BackupOptions{})
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if fmt.Sprint(rh.Collections) != fmt.Sprint(h.Collections) {
		t.Fatalf("restore header %+v, want %+v", rh.Collections, h.Collections)
	}
	after := rawDocs(t, dst)
	if len(after) != len(before) {
		t.Fatalf("restored collections %d, want %d", len(after), len(before))
	}
	for name, docs := range before {
		got := after[name]
		if len(got) != len(docs) {
			t.Fatalf("collection %s: %d documents restored, want %d", name, len(got), len(docs))
		}
		for i := range docs {
			if !bytes.Equal(got[i], docs[i]) {
				t.Fatalf("collection %s document %d differs:\n got %v\nwant %v", name, i, bson.Raw(got[i]), bson.Raw(docs[i]))
			}
		}
	}
	for _, col := range []string{"bulk", colAudit} {
		if a, b := indexNames(t, src, col), indexNames(t, dst, col); fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("indexes of %s: restored %v, want %v", col, b, a)
		}
	}
	// The restored store works through its API.
	users, err := dst.Users(ctx)
	if err != nil || len(users) != 1 || users[0].Name != "ana" {
		t.Fatalf("users after restore: %+v, %v", users, err)
	}
	// The unique index really guards the restored collection.
	if _, err := dst.collection("bulk").InsertOne(ctx, bson.D{{Key: "_id", Value: "other"}, {Key: "n", Value: int64(7)}}); err == nil {
		t.Errorf("restored unique index let a duplicate in")
	}
}

func TestRestoreRefusesNonEmptyStore(t *testing.T) {
	ctx := context.Background()
	src := openTestStore(t)
	fillForBackup(t, src, 3)
	var buf bytes.Buffer
	if _, err := src.Backup(ctx, &buf, BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	dst := openTestStore(t)
	if err := dst.Record(ctx, dotm.AuditEntry{Actor: "x", Action: "y"}); err != nil {
		t.Fatal(err)
	}
	_, err := dst.Restore(ctx, bytes.NewReader(buf.Bytes()), BackupOptions{})
	if !errors.Is(err, ErrNotEmpty) || !strings.Contains(err.Error(), "audit (1)") {
		t.Fatalf("restore onto a non-empty store: %v", err)
	}
	// Nothing was written.
	if n, _ := dst.collection("bulk").CountDocuments(ctx, bson.D{}); n != 0 {
		t.Fatalf("refused restore wrote %d documents", n)
	}
	// Restoring the same file twice is refused the second time.
	dst2 := openTestStore(t)
	if _, err := dst2.Restore(ctx, bytes.NewReader(buf.Bytes()), BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := dst2.Restore(ctx, bytes.NewReader(buf.Bytes()), BackupOptions{}); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("second restore: %v", err)
	}
}

// recompress gunzips b, changes it with f, and gzips it again.
func recompress(t *testing.T, b []byte, f func([]byte) []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(f(plain))
	zw.Close()
	return out.Bytes()
}

func TestRestoreRejectsDamagedFiles(t *testing.T) {
	ctx := context.Background()
	src := openTestStore(t)
	fillForBackup(t, src, 20)
	var buf bytes.Buffer
	if _, err := src.Backup(ctx, &buf, BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	trailer, err := bson.Marshal(trailerDoc{End: true, Counts: map[string]int64{}})
	if err != nil {
		t.Fatal(err)
	}
	_ = trailer
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"not gzip", []byte("hello, this is not a backup"), "not gzip"},
		{"gzip of something else", recompress(t, good, func([]byte) []byte { return []byte{5, 0, 0, 0, 0} }), "not a dotm backup"},
		{"empty gzip", recompress(t, good, func([]byte) []byte { return nil }), "header"},
		{"cut inside the stream", good[:len(good)/2], "record"},
		{"no trailer", recompress(t, good, func(p []byte) []byte {
			// Drop the last document (the trailer).
			return p[:lastDocStart(t, p)]
		}), "truncated"},
		{"document cut short", recompress(t, good, func(p []byte) []byte { return p[:len(p)-3] }), "truncated document"},
		{"garbage after trailer", recompress(t, good, func(p []byte) []byte { return append(slices.Clone(p), 5, 0, 0, 0, 0) }), "after the trailer"},
		{"wrong length", recompress(t, good, func(p []byte) []byte {
			q := slices.Clone(p)
			i := lastDocStart(t, q)
			q[i], q[i+1], q[i+2], q[i+3] = 0xff, 0xff, 0xff, 0x7f
			return q
		}), "invalid document length"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dst := openTestStore(t)
			_, err := dst.Restore(ctx, bytes.NewReader(tc.file), BackupOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("restore: %v, want an error containing %q", err, tc.want)
			}
			// Nothing of the damaged file stays behind: the store is as
			// empty as before, and a good file restores into it.
			if err := dst.checkEmpty(ctx); err != nil {
				t.Fatalf("after a failed restore: %v", err)
			}
			if _, err := dst.Restore(ctx, bytes.NewReader(good), BackupOptions{}); err != nil {
				t.Fatalf("restore of the good file after a failed one: %v", err)
			}
		})
	}
}

// lastDocStart finds where the last BSON document of a concatenation starts.
func lastDocStart(t *testing.T, p []byte) int {
	t.Helper()
	last := -1
	for i := 0; i < len(p); {
		n := int(int32(uint32(p[i]) | uint32(p[i+1])<<8 | uint32(p[i+2])<<16 | uint32(p[i+3])<<24))
		last = i
		i += n
	}
	if last < 0 {
		t.Fatal("no document")
	}
	return last
}

func TestBackupOfEmptyStore(t *testing.T) {
	ctx := context.Background()
	src := openTestStore(t)
	var buf bytes.Buffer
	h, err := src.Backup(ctx, &buf, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dst := openTestStore(t)
	rh, err := dst.Restore(ctx, &buf, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rh.Documents() != h.Documents() {
		t.Fatalf("restored %d documents, backup has %d", rh.Documents(), h.Documents())
	}
}
