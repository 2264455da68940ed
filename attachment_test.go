package dotm

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func testKeyring(t *testing.T) *Keyring {
	t.Helper()
	k, err := GenerateKey(time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	kr, err := NewKeyring(k.ID, k)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// TestSealAttachment: files of 0, 1, one chunk's, one chunk's + 1 and
// several chunks' bytes come back whole; no chunk holds the plaintext;
// chunks are at most 255 KiB; a reordered, dropped or altered chunk, a
// record changed in the database (size, hash, chunk count, name,
// submission) or another key file is refused.
func TestSealAttachment(t *testing.T) {
	kr := testKeyring(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 1, AttachmentChunkBytes, AttachmentChunkBytes + 1, 3*AttachmentChunkBytes + 17} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(rng.IntN(256))
		}
		a, chunks, err := SealAttachment(kr, Attachment{Submission: "s1", Survey: "sv", Name: "photo.jpg", ContentType: "image/jpeg"}, data)
		if err != nil {
			t.Fatal(err)
		}
		m := md5.Sum(data)
		if a.Bytes != int64(size) || a.Chunks != len(chunks) || a.MD5 != hex.EncodeToString(m[:]) || a.Key.KeyID != kr.Current() {
			t.Fatalf("size %d: record %+v, %d chunks", size, a, len(chunks))
		}
		for n, c := range chunks {
			if len(c) > 255<<10 {
				t.Errorf("size %d: chunk %d has %d bytes", size, n, len(c))
			}
			if start := n * AttachmentChunkBytes; size-start >= 32 && bytes.Contains(c, data[start:start+32]) {
				t.Errorf("size %d: chunk %d holds plaintext", size, n)
			}
		}
		get := func(cs [][]byte) func(int) ([]byte, error) {
			return func(n int) ([]byte, error) {
				if n >= len(cs) {
					return nil, fmt.Errorf("no chunk %d", n)
				}
				return cs[n], nil
			}
		}
		got, err := OpenAttachment(kr, a, get(chunks))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("size %d: open: %v (%d bytes)", size, err, len(got))
		}
		if len(chunks) < 2 {
			continue
		}
		swapped := [][]byte{chunks[1], chunks[0]}
		swapped = append(swapped, chunks[2:]...)
		altered := append([][]byte{}, chunks...)
		altered[1] = bytes.Clone(altered[1])
		altered[1][7] ^= 1
		for name, cs := range map[string][][]byte{"swapped": swapped, "altered": altered} {
			if _, err := OpenAttachment(kr, a, get(cs)); err == nil {
				t.Errorf("size %d: %s chunks opened", size, name)
			}
		}
		for name, change := range map[string]func(*Attachment){
			"fewer chunks": func(b *Attachment) { b.Chunks-- },
			"size":         func(b *Attachment) { b.Bytes-- },
			"sha256":       func(b *Attachment) { b.SHA256 = strings.Repeat("0", 64) },
			"name":         func(b *Attachment) { b.Name = "other.jpg" },
			"submission":   func(b *Attachment) { b.Submission = "s2" },
		} {
			b := a
			change(&b)
			if _, err := OpenAttachment(kr, b, get(chunks)); err == nil {
				t.Errorf("size %d: record with changed %s opened", size, name)
			}
		}
		if _, err := OpenAttachment(testKeyring(t), a, get(chunks)); err == nil {
			t.Errorf("size %d: opened under another key", size)
		}
	}
}
