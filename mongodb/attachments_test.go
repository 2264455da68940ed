package mongodb

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/dotm-survey/dotm"
)

// TestAttachmentStore stores a sealed file over several chunks and reads it
// back through the domain's OpenAttachment; a second file of the same
// submission and name is ECONFLICT and leaves no chunk of its own behind
// (the chunks come first; the record that failed to insert takes them
// back); KeyUse counts the file's key.
func TestAttachmentStore(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	k, _ := dotm.GenerateKey(time.Now())
	kr, err := dotm.NewKeyring(k.ID, k)
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("photo of the house "), 40000) // 760 kB: 3 chunks
	sub := uuid.NewString()
	a, chunks, err := dotm.SealAttachment(kr, dotm.Attachment{Submission: sub, Survey: "sv", Name: "1.jpg", ContentType: "image/jpeg", ReceivedAt: time.Now()}, data)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutAttachment(ctx, a, chunks); err != nil {
		t.Fatal(err)
	}
	countChunks := func() int64 {
		n, err := s.collection(colAttachmentChunks).CountDocuments(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := countChunks(); n != 3 {
		t.Fatalf("%d chunks stored, want 3", n)
	}
	got, err := s.Attachment(ctx, sub, "1.jpg")
	if err != nil || got.Bytes != int64(len(data)) || got.SHA256 != a.SHA256 || got.Blob == "" {
		t.Fatalf("record: %+v %v", got, err)
	}
	back, err := dotm.OpenAttachment(kr, got, func(n int) ([]byte, error) { return s.AttachmentChunk(ctx, got, n) })
	if err != nil || !bytes.Equal(back, data) {
		t.Fatalf("read back: %v (%d bytes)", err, len(back))
	}
	if err := s.PutAttachment(ctx, a, chunks); dotm.ErrorCode(err) != dotm.ECONFLICT {
		t.Fatalf("second put: %v, want conflict", err)
	}
	if n := countChunks(); n != 3 {
		t.Fatalf("%d chunks after a refused put, want 3", n)
	}
	if _, err := s.Attachment(ctx, sub, "2.jpg"); dotm.ErrorCode(err) != dotm.ENOTFOUND {
		t.Fatalf("unknown attachment: %v", err)
	}

	use, err := s.KeyUse(ctx)
	if err != nil || use[k.ID] != 1 {
		t.Fatalf("key use %v %v, want 1 for %s", use, err, k.ID)
	}
}
