package mongodb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/dotm-survey/dotm"
)

// Releases are kept as inserts only, because on the embedded server every
// update or delete scans its collection while a find or insert by _id does
// not:
const (
	colReleases         = "releases"          // _id: release id; the record, written after its files
	colReleaseFiles     = "release_files"     // _id: release + "/" + file + "/" + chunk number
	colReleasePublished = "release_published" // _id: release id; inserted once to publish
)

// ReleaseChunkBytes is the size of the chunks a release file is stored in
// (the last chunk of a file may be shorter). Well below MongoDB's 16 MiB
// document limit.
const ReleaseChunkBytes = 4 << 20

type releaseFileDoc struct {
	Name   string `bson:"name"`
	Bytes  int64  `bson:"bytes"`
	SHA256 string `bson:"sha256"`
	Chunks int    `bson:"chunks"`
}

type releaseDoc struct {
	ID        string           `bson:"_id"`
	Survey    string           `bson:"survey"`
	Created   time.Time        `bson:"created"`
	CreatedBy string           `bson:"created_by"`
	Profile   string           `bson:"profile"`
	Manifest  string           `bson:"manifest"` // manifest.json as stored in the release
	Report    string           `bson:"report"`   // the disclosure report as JSON
	ChunkSize int64            `bson:"chunk_size"`
	Files     []releaseFileDoc `bson:"files"`
}

type releaseChunkDoc struct {
	ID      string `bson:"_id"`
	Release string `bson:"release"`
	File    string `bson:"file"`
	N       int    `bson:"n"`
	Data    []byte `bson:"data"`
}

type releasePublishedDoc struct {
	ID string    `bson:"_id"`
	By string    `bson:"by"`
	At time.Time `bson:"at"`
}

func chunkID(release, file string, n int) string {
	return release + "/" + file + "/" + strconv.Itoa(n)
}

// PutRelease implements collector.ReleaseStore. Chunks go first and the
// record last: a release whose writing fails half-way has no record and is
// never listed or served (its chunks are left behind, keyed by a fresh
// UUID that nothing else uses).
func (s *Store) PutRelease(ctx context.Context, r dotm.Release, files fs.FS) error {
	return s.putRelease(ctx, r, files, ReleaseChunkBytes)
}

// putRelease stores r with files cut into chunks of chunkSize bytes (the
// size is kept in the record; tests use small ones).
func (s *Store) putRelease(ctx context.Context, r dotm.Release, files fs.FS, chunkSize int) error {
	if _, err := s.Release(ctx, r.ID); err == nil {
		return dotm.Errorf(dotm.ECONFLICT, "release %s exists; a release is stored once", r.ID)
	} else if dotm.ErrorCode(err) != dotm.ENOTFOUND {
		return err
	}
	man, rep := r.Manifest, r.Report
	if !json.Valid(man) || !json.Valid(rep) {
		return fmt.Errorf("mongodb: release %s: manifest or report is not JSON", r.ID)
	}
	d := releaseDoc{ID: r.ID, Survey: r.Survey, Created: r.Created, CreatedBy: r.CreatedBy, Profile: r.Profile,
		Manifest: string(man), Report: string(rep), ChunkSize: int64(chunkSize)}
	buf := make([]byte, chunkSize)
	var written []string // chunk ids this call inserted
	err := func() error {
		for _, f := range r.Files {
			n, size, err := s.putReleaseFile(ctx, r.ID, f.Name, files, buf, &written)
			if err != nil {
				return err
			}
			if size != f.Bytes {
				return fmt.Errorf("mongodb: release %s file %s: read %d bytes, the record says %d", r.ID, f.Name, size, f.Bytes)
			}
			d.Files = append(d.Files, releaseFileDoc{Name: f.Name, Bytes: f.Bytes, SHA256: f.SHA256, Chunks: n})
		}
		if _, err := s.collection(colReleases).InsertOne(ctx, d); err != nil {
			if mongo.IsDuplicateKeyError(err) {
				return dotm.Errorf(dotm.ECONFLICT, "release %s exists; a release is stored once", r.ID)
			}
			return unavailable(err, "store release "+r.ID)
		}
		return nil
	}()
	if err != nil && len(written) > 0 {
		// No record points at these chunks: delete them (by _id, which the
		// embedded server finds without a scan), even if ctx has ended.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		for _, id := range written {
			if _, derr := s.collection(colReleaseFiles).DeleteOne(cctx, bson.D{{Key: "_id", Value: id}}); derr != nil {
				return fmt.Errorf("%w (and %d stored chunks of the release could not be deleted: %v)", err, len(written), derr)
			}
		}
	}
	return err
}

// putReleaseFile stores one file in chunks and returns how many chunks and
// bytes it wrote; it adds the id of each chunk it inserts to written.
func (s *Store) putReleaseFile(ctx context.Context, release, name string, files fs.FS, buf []byte, written *[]string) (int, int64, error) {
	f, err := files.Open(name)
	if err != nil {
		return 0, 0, fmt.Errorf("mongodb: release %s: %w", release, err)
	}
	defer f.Close()
	var size int64
	n := 0
	for {
		k, err := io.ReadFull(f, buf)
		if k > 0 {
			doc := releaseChunkDoc{ID: chunkID(release, name, n), Release: release, File: name, N: n, Data: buf[:k]}
			if _, err := s.collection(colReleaseFiles).InsertOne(ctx, doc); err != nil {
				return 0, 0, unavailable(err, fmt.Sprintf("store release %s file %s chunk %d", release, name, n))
			}
			*written = append(*written, doc.ID)
			n++
			size += int64(k)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return n, size, nil
		}
		if err != nil {
			return 0, 0, fmt.Errorf("mongodb: release %s: read %s: %w", release, name, err)
		}
	}
}

// Release implements collector.ReleaseStore.
func (s *Store) Release(ctx context.Context, id string) (dotm.Release, error) {
	var d releaseDoc
	if err := s.collection(colReleases).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return dotm.Release{}, notFound(err, "release "+id)
	}
	r, err := d.release()
	if err != nil {
		return dotm.Release{}, err
	}
	var p releasePublishedDoc
	err = s.collection(colReleasePublished).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&p)
	switch {
	case err == nil:
		p.apply(&r)
	case !errors.Is(err, mongo.ErrNoDocuments):
		return dotm.Release{}, unavailable(err, "find publication of release "+id)
	}
	return r, nil
}

// Releases implements collector.ReleaseStore. Both collections hold one
// small document per release, so they are read whole and joined here.
func (s *Store) Releases(ctx context.Context, survey string) ([]dotm.Release, error) {
	filter := bson.D{}
	if survey != "" {
		filter = bson.D{{Key: "survey", Value: survey}}
	}
	var docs []releaseDoc
	cur, err := s.collection(colReleases).Find(ctx, filter)
	if err != nil {
		return nil, unavailable(err, "list releases")
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, unavailable(err, "list releases")
	}
	var pubs []releasePublishedDoc
	cur, err = s.collection(colReleasePublished).Find(ctx, bson.D{})
	if err != nil {
		return nil, unavailable(err, "list published releases")
	}
	if err := cur.All(ctx, &pubs); err != nil {
		return nil, unavailable(err, "list published releases")
	}
	published := map[string]releasePublishedDoc{}
	for _, p := range pubs {
		published[p.ID] = p
	}
	out := make([]dotm.Release, 0, len(docs))
	for _, d := range docs {
		r, err := d.release()
		if err != nil {
			return nil, err
		}
		if p, ok := published[d.ID]; ok {
			p.apply(&r)
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// PublishRelease implements collector.ReleaseStore.
func (s *Store) PublishRelease(ctx context.Context, id, by string, at time.Time) error {
	if _, err := s.Release(ctx, id); err != nil {
		return err
	}
	if _, err := s.collection(colReleasePublished).InsertOne(ctx, releasePublishedDoc{ID: id, By: by, At: at.UTC()}); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return dotm.Errorf(dotm.ECONFLICT, "release %s is already published", id)
		}
		return unavailable(err, "publish release "+id)
	}
	return nil
}

// ReleaseFile implements collector.ReleaseStore: the reader fetches one
// chunk at a time by _id, so a range request reads only the chunks it needs.
func (s *Store) ReleaseFile(ctx context.Context, id, name string) (io.ReadSeeker, error) {
	var d releaseDoc
	if err := s.collection(colReleases).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return nil, notFound(err, "release "+id)
	}
	for _, f := range d.Files {
		if f.Name == name {
			return &chunkReader{ctx: ctx, s: s, release: id, name: name, size: f.Bytes, chunkSize: d.ChunkSize, chunks: f.Chunks, cur: -1}, nil
		}
	}
	return nil, dotm.Errorf(dotm.ENOTFOUND, "release %s has no file %s", id, name)
}

// chunkReader reads a stored release file.
type chunkReader struct {
	ctx       context.Context
	s         *Store
	release   string
	name      string
	size      int64
	chunkSize int64
	chunks    int
	off       int64
	cur       int    // number of the chunk in data, -1 for none
	data      []byte // chunk cur
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if c.off >= c.size {
		return 0, io.EOF
	}
	n := int(c.off / c.chunkSize)
	if n != c.cur {
		var d releaseChunkDoc
		err := c.s.collection(colReleaseFiles).FindOne(c.ctx, bson.D{{Key: "_id", Value: chunkID(c.release, c.name, n)}}).Decode(&d)
		if err != nil {
			if errors.Is(err, mongo.ErrNoDocuments) {
				return 0, fmt.Errorf("mongodb: release %s file %s: chunk %d of %d is missing", c.release, c.name, n, c.chunks)
			}
			return 0, unavailable(err, fmt.Sprintf("read release %s file %s chunk %d", c.release, c.name, n))
		}
		c.cur, c.data = n, d.Data
	}
	start := c.off - int64(n)*c.chunkSize
	if start >= int64(len(c.data)) {
		return 0, fmt.Errorf("mongodb: release %s file %s: chunk %d is shorter than recorded", c.release, c.name, n)
	}
	k := copy(p, c.data[start:])
	c.off += int64(k)
	return k, nil
}

func (c *chunkReader) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = c.off + offset
	case io.SeekEnd:
		abs = c.size + offset
	default:
		return 0, errors.New("mongodb: release file: invalid whence")
	}
	if abs < 0 {
		return 0, errors.New("mongodb: release file: negative position")
	}
	c.off = abs
	return abs, nil
}

func (d releaseDoc) release() (dotm.Release, error) {
	r := dotm.Release{ID: d.ID, Survey: d.Survey, Created: d.Created.UTC(), CreatedBy: d.CreatedBy, Profile: d.Profile}
	r.Manifest, r.Report = json.RawMessage(d.Manifest), json.RawMessage(d.Report)
	if !json.Valid(r.Manifest) || !json.Valid(r.Report) {
		return r, fmt.Errorf("mongodb: release %s: stored manifest or report is not JSON", d.ID)
	}
	for _, f := range d.Files {
		r.Files = append(r.Files, dotm.ReleaseFile{Name: f.Name, Bytes: f.Bytes, SHA256: f.SHA256})
	}
	return r, nil
}

func (p releasePublishedDoc) apply(r *dotm.Release) {
	at := p.At.UTC()
	r.Published, r.PublishedAt, r.PublishedBy = true, &at, p.By
}
