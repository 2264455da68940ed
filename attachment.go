package dotm

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
)

// Attachment is a file sent with a submission (a photo, a recording, a
// file or an audit log that a media question of the form names), as
// stored: its bytes are cut into chunks, each sealed with AES-256-GCM
// under a key of its own, and that key is sealed under the data key (Key),
// so no plaintext of the file is stored and key rotation re-seals one small
// value per file.
type Attachment struct {
	Submission  string // the submission's instance id
	Survey      string
	Name        string // the file name the instance gives as the question's answer
	ContentType string // as the client declared it
	Bytes       int64  // plaintext size
	// SHA256 and MD5 are hex digests of the plaintext, for the client's
	// checks (ODK Central shows md5 hashes); they reveal nothing of the
	// content.
	SHA256, MD5 string
	Chunks      int         // number of sealed chunks
	Key         SealedValue // the file's key, sealed under the data key
	// Blob names the stored chunks; the store sets it.
	Blob       string
	ReceivedAt time.Time
}

// AttachmentChunkBytes is the plaintext size of a chunk: sealed, with its
// 16-byte tag, a chunk is 255 KiB, GridFS's default chunk size.
const AttachmentChunkBytes = 255<<10 - 16

// AttachmentStore keeps submission attachments.
//
// PutAttachment stores the sealed chunks of a and then its record, which
// makes the attachment visible: when it fails nothing is visible (the
// chunks it wrote are deleted or left unreferenced). An attachment is
// stored once: a second one of the same submission and name is ECONFLICT.
// Attachment returns the record of one (ENOTFOUND when none was stored).
// AttachmentChunk returns sealed chunk n of a (ENOTFOUND when missing).
type AttachmentStore interface {
	PutAttachment(ctx context.Context, a Attachment, chunks [][]byte) error
	Attachment(ctx context.Context, submission, name string) (Attachment, error)
	AttachmentChunk(ctx context.Context, a Attachment, n int) ([]byte, error)
}

// attachmentAAD binds a file's sealed key to the submission, the file
// name and what the record says of the plaintext, so that a record
// changed in the database no longer opens.
func attachmentAAD(a Attachment) []byte {
	return []byte("dotm/attachment/v1\x00" + a.Submission + "\x00" + a.Name + "\x00" + strconv.FormatInt(a.Bytes, 10) + "\x00" +
		a.SHA256 + "\x00" + strconv.Itoa(a.Chunks))
}

// chunkNonce is chunk n's nonce: the file's key seals nothing else, so
// the chunk number is a unique nonce.
func chunkNonce(n int) []byte {
	nonce := make([]byte, 12)
	binary.BigEndian.PutUint64(nonce[4:], uint64(n))
	return nonce
}

// chunkAAD binds a chunk to its place and to the number of chunks, so that
// chunks cannot be reordered, dropped or added.
func chunkAAD(n, total int) []byte {
	return []byte("dotm/attachment-chunk/v1\x00" + strconv.Itoa(n) + "\x00" + strconv.Itoa(total))
}

func fileAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// SealAttachment seals data, the file a of a submission (Submission,
// Survey, Name, ContentType and ReceivedAt set), with a fresh random key
// that it seals under keys' current key. It returns a with its sizes,
// digests and sealed key filled in, and the sealed chunks to store.
func SealAttachment(keys *Keyring, a Attachment, data []byte) (Attachment, [][]byte, error) {
	sum, m := sha256.Sum256(data), md5.Sum(data)
	a.Bytes, a.SHA256, a.MD5 = int64(len(data)), hex.EncodeToString(sum[:]), hex.EncodeToString(m[:])
	a.Chunks = (len(data) + AttachmentChunkBytes - 1) / AttachmentChunkBytes
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return Attachment{}, nil, fmt.Errorf("dotm: attachment key: %w", err)
	}
	defer clear(key)
	aead, err := fileAEAD(key)
	if err != nil {
		return Attachment{}, nil, err
	}
	chunks := make([][]byte, a.Chunks)
	for n := range chunks {
		end := min((n+1)*AttachmentChunkBytes, len(data))
		chunks[n] = aead.Seal(nil, chunkNonce(n), data[n*AttachmentChunkBytes:end], chunkAAD(n, a.Chunks))
	}
	if a.Key, err = keys.Seal(a.Name, key, attachmentAAD(a)); err != nil {
		return Attachment{}, nil, err
	}
	return a, chunks, nil
}

// OpenAttachment reads and decrypts the file of a, chunk by chunk through
// chunk, and checks it against the record's size and SHA-256. Its errors
// never hold the content.
func OpenAttachment(keys *Keyring, a Attachment, chunk func(n int) ([]byte, error)) ([]byte, error) {
	key, err := keys.Open(a.Key, attachmentAAD(a))
	if err != nil {
		return nil, fmt.Errorf("attachment %s of submission %s: %w", a.Name, a.Submission, err)
	}
	defer clear(key)
	aead, err := fileAEAD(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, a.Bytes)
	for n := 0; n < a.Chunks; n++ {
		sealed, err := chunk(n)
		if err != nil {
			return nil, err
		}
		if out, err = aead.Open(out, chunkNonce(n), sealed, chunkAAD(n, a.Chunks)); err != nil {
			return nil, fmt.Errorf("attachment %s of submission %s: chunk %d does not decrypt", a.Name, a.Submission, n)
		}
	}
	sum := sha256.Sum256(out)
	if int64(len(out)) != a.Bytes || hex.EncodeToString(sum[:]) != a.SHA256 {
		return nil, fmt.Errorf("attachment %s of submission %s: %d bytes do not match the record", a.Name, a.Submission, len(out))
	}
	return out, nil
}
