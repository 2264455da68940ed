package mongodb

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// A backup file is a gzip stream of raw BSON documents laid end to end (each
// BSON document starts with its own length, as in mongodump's .bson files):
//
//	header   {format: "dotm-backup", version: 1, created, database,
//	          consistency, collections: [{name, count, indexes: [spec…]}]}
//	record   {c: collection name, d: the stored document, byte for byte}
//	…
//	trailer  {end: true, counts: {collection: n, …}}
//
// Records of one collection are contiguous and come in the header's order.
// The trailer lets restore tell a complete file from a truncated one.
// Documents are streamed one at a time in both directions: neither backup
// nor restore holds more than one insert batch in memory.
const (
	backupFormat  = "dotm-backup"
	backupVersion = 1
	// restoreBatchDocs and restoreBatchBytes bound one insertMany.
	restoreBatchDocs  = 500
	restoreBatchBytes = 4 << 20
	// maxRecordBytes is the largest record restore accepts: a 16 MiB
	// document (MongoDB's limit) plus its envelope.
	maxRecordBytes = 16<<20 + 1<<10
)

// Consistency names how a backup was kept consistent.
const (
	// ConsistencySnapshot: every collection was read at one cluster time
	// (a MongoDB replica set with snapshot reads).
	ConsistencySnapshot = "snapshot"
	// ConsistencyExclusive: this process held the embedded store's data dir,
	// so no other process could write while the backup ran.
	ConsistencyExclusive = "exclusive"
	// ConsistencyQuiescent: the server offers no snapshot reads, so the
	// backup checked that no collection's count changed while it ran and
	// failed otherwise. Stop collection while backing up such a server.
	ConsistencyQuiescent = "quiescent"
)

// BackupHeader describes a backup file; Backup writes it first and Restore
// reads it before any document.
type BackupHeader struct {
	// Format is "dotm-backup"; Version is the file format version (1).
	Format  string
	Version int
	// Created is when the backup started (UTC).
	Created time.Time
	// Database is the name of the database that was backed up.
	Database string
	// Consistency is one of the Consistency constants.
	Consistency string
	// Collections in file order, with the number of documents of each.
	Collections []BackupCollection
}

// BackupCollection is one collection of a backup.
type BackupCollection struct {
	Name  string
	Count int64
	// Indexes is the number of secondary indexes (besides _id) recreated by
	// restore.
	Indexes int
}

// Documents is the total number of documents in the backup.
func (h BackupHeader) Documents() int64 {
	var n int64
	for _, c := range h.Collections {
		n += c.Count
	}
	return n
}

// BackupOptions tunes Backup and Restore. The zero value is ready to use.
type BackupOptions struct {
	// Now gives the backup's creation time; nil means time.Now.
	Now func() time.Time
	// Progress, when set, is called after every 1,000 documents of a
	// collection and at its end, with the documents done and expected.
	Progress func(collection string, done, total int64)
}

type headerDoc struct {
	Format      string          `bson:"format"`
	Version     int             `bson:"version"`
	Created     time.Time       `bson:"created"`
	Database    string          `bson:"database"`
	Consistency string          `bson:"consistency"`
	Collections []collectionDoc `bson:"collections"`
}

type collectionDoc struct {
	Name    string     `bson:"name"`
	Count   int64      `bson:"count"`
	Indexes []bson.Raw `bson:"indexes"`
}

type recordDoc struct {
	C string   `bson:"c"`
	D bson.Raw `bson:"d"`
}

type trailerDoc struct {
	End    bool             `bson:"end"`
	Counts map[string]int64 `bson:"counts"`
}

// Backup writes every collection of the store's database to w as a
// gzip-compressed backup file (format above) and returns its header.
//
// Data keys are never in the database, so they are never in a backup; the
// tokens collection holds only SHA-256 hashes of tokens. The backup is
// consistent: with snapshot reads when the server offers them, by exclusive
// ownership of an embedded store, or else by checking that no collection
// changed size while it ran (ConsistencyQuiescent), failing if one did.
// Nothing is written to w's underlying file on error beyond what was already
// streamed: callers write to a temporary file and rename it on success.
func (s *Store) Backup(ctx context.Context, w io.Writer, opt BackupOptions) (BackupHeader, error) {
	now := time.Now
	if opt.Now != nil {
		now = opt.Now
	}
	h := headerDoc{Format: backupFormat, Version: backupVersion, Created: now().UTC().Truncate(time.Millisecond), Database: s.db.Name()}

	// Read in one snapshot when the server can; otherwise in a plain session.
	sess, consistency, err := s.snapshotSession(ctx)
	if err != nil {
		return BackupHeader{}, err
	}
	defer sess.EndSession(context.WithoutCancel(ctx))
	h.Consistency = consistency
	sctx := mongo.NewSessionContext(ctx, sess)

	// Catalogue commands take no snapshot read concern: list outside it.
	names, err := s.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return BackupHeader{}, unavailable(err, "backup: list collections")
	}
	names = slices.DeleteFunc(names, func(n string) bool { return strings.HasPrefix(n, "system.") })
	slices.Sort(names)
	for _, name := range names {
		col := s.db.Collection(name)
		n, err := col.CountDocuments(sctx, bson.D{})
		if err != nil {
			return BackupHeader{}, unavailable(err, "backup: count "+name)
		}
		idx, err := indexSpecs(ctx, col)
		if err != nil {
			return BackupHeader{}, err
		}
		h.Collections = append(h.Collections, collectionDoc{Name: name, Count: n, Indexes: idx})
	}

	zw := gzip.NewWriter(w)
	bw := bufio.NewWriterSize(zw, 256<<10)
	if err := writeDoc(bw, h); err != nil {
		return BackupHeader{}, fmt.Errorf("backup: write header: %w", err)
	}
	written := make(map[string]int64, len(h.Collections))
	for _, c := range h.Collections {
		n, err := s.dumpCollection(sctx, bw, c, opt.Progress)
		if err != nil {
			return BackupHeader{}, err
		}
		written[c.Name] = n
		if n != c.Count {
			return BackupHeader{}, fmt.Errorf("backup: collection %s changed while it was read (%d documents counted, %d read); stop writes and run the backup again", c.Name, c.Count, n)
		}
	}
	if consistency == ConsistencyQuiescent {
		// Without a snapshot, a write to a collection already dumped would be
		// missed: check that every count is still what was dumped.
		for _, c := range h.Collections {
			n, err := s.db.Collection(c.Name).CountDocuments(ctx, bson.D{})
			if err != nil {
				return BackupHeader{}, unavailable(err, "backup: recount "+c.Name)
			}
			if n != c.Count {
				return BackupHeader{}, fmt.Errorf("backup: collection %s changed while the backup ran (%d documents, now %d); this server offers no snapshot reads, so stop writes and run the backup again", c.Name, c.Count, n)
			}
		}
	}
	if err := writeDoc(bw, trailerDoc{End: true, Counts: written}); err != nil {
		return BackupHeader{}, fmt.Errorf("backup: write trailer: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return BackupHeader{}, fmt.Errorf("backup: write: %w", err)
	}
	if err := zw.Close(); err != nil {
		return BackupHeader{}, fmt.Errorf("backup: write: %w", err)
	}
	return h.public(), nil
}

// snapshotSession starts a session with snapshot reads when the server
// supports them (replica sets and sharded clusters of MongoDB 5.0+, wire
// version 13), else a plain one, and says which consistency the backup will
// have.
func (s *Store) snapshotSession(ctx context.Context) (*mongo.Session, string, error) {
	var hello struct {
		SetName        string `bson:"setName"`
		Msg            string `bson:"msg"`
		MaxWireVersion int    `bson:"maxWireVersion"`
	}
	if err := s.db.RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello); err != nil {
		return nil, "", unavailable(err, "backup: hello")
	}
	if (hello.SetName != "" || hello.Msg == "isdbgrid") && hello.MaxWireVersion >= 13 {
		sess, err := s.client.StartSession(options.Session().SetSnapshot(true))
		if err != nil {
			return nil, "", unavailable(err, "backup: start snapshot session")
		}
		return sess, ConsistencySnapshot, nil
	}
	sess, err := s.client.StartSession()
	if err != nil {
		return nil, "", unavailable(err, "backup: start session")
	}
	if s.embedded != nil {
		return sess, ConsistencyExclusive, nil
	}
	return sess, ConsistencyQuiescent, nil
}

// indexSpecs returns the specifications of col's secondary indexes, without
// the fields the server fills in itself.
func indexSpecs(ctx context.Context, col *mongo.Collection) ([]bson.Raw, error) {
	cur, err := col.Indexes().List(ctx)
	if err != nil {
		return nil, unavailable(err, "backup: list indexes of "+col.Name())
	}
	defer cur.Close(ctx)
	specs := []bson.Raw{}
	for cur.Next(ctx) {
		var spec bson.D
		if err := bson.Unmarshal(cur.Current, &spec); err != nil {
			return nil, fmt.Errorf("backup: index of %s: %w", col.Name(), err)
		}
		var name string
		kept := spec[:0]
		for _, e := range spec {
			switch e.Key {
			case "v", "ns":
				continue
			case "name":
				name, _ = e.Value.(string)
			}
			kept = append(kept, e)
		}
		if name == "_id_" {
			continue
		}
		raw, err := bson.Marshal(kept)
		if err != nil {
			return nil, fmt.Errorf("backup: index %s of %s: %w", name, col.Name(), err)
		}
		specs = append(specs, raw)
	}
	if err := cur.Err(); err != nil {
		return nil, unavailable(err, "backup: list indexes of "+col.Name())
	}
	return specs, nil
}

func (s *Store) dumpCollection(ctx context.Context, w io.Writer, c collectionDoc, progress func(string, int64, int64)) (int64, error) {
	cur, err := s.db.Collection(c.Name).Find(ctx, bson.D{}, options.Find().SetBatchSize(1000))
	if err != nil {
		return 0, unavailable(err, "backup: read "+c.Name)
	}
	defer cur.Close(ctx)
	var n int64
	for cur.Next(ctx) {
		if err := writeDoc(w, recordDoc{C: c.Name, D: cur.Current}); err != nil {
			return n, fmt.Errorf("backup: write %s document %d: %w", c.Name, n+1, err)
		}
		n++
		if progress != nil && n%1000 == 0 {
			progress(c.Name, n, c.Count)
		}
	}
	if err := cur.Err(); err != nil {
		return n, unavailable(err, "backup: read "+c.Name)
	}
	if progress != nil {
		progress(c.Name, n, c.Count)
	}
	return n, nil
}

func writeDoc(w io.Writer, v any) error {
	b, err := bson.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

func (h headerDoc) public() BackupHeader {
	p := BackupHeader{Format: h.Format, Version: h.Version, Created: h.Created, Database: h.Database, Consistency: h.Consistency}
	for _, c := range h.Collections {
		p.Collections = append(p.Collections, BackupCollection{Name: c.Name, Count: c.Count, Indexes: len(c.Indexes)})
	}
	return p
}

// ErrNotEmpty is returned (wrapped) by Restore when the target database
// already holds documents.
var ErrNotEmpty = errors.New("the store is not empty")

// Restore reads a backup file written by Backup and inserts every document
// into the store's database, which must be empty (no collection with a
// document in it; Restore refuses with ErrNotEmpty otherwise). Documents are
// inserted exactly as they were read, byte for byte, and each collection's
// secondary indexes are recreated. The whole file is checked as it is read:
// a truncated or corrupt file ends the restore with an error naming where,
// and the documents already inserted are deleted again, so that the store
// is as empty as it was (the error says so if that cleanup fails too).
func (s *Store) Restore(ctx context.Context, r io.Reader, opt BackupOptions) (BackupHeader, error) {
	if err := s.checkEmpty(ctx); err != nil {
		return BackupHeader{}, err
	}
	var touched []string // collections restore may have inserted into
	h, err := s.restore(ctx, r, opt, &touched)
	if err == nil {
		return h, nil
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
	defer cancel()
	for _, name := range touched {
		if _, derr := s.db.Collection(name).DeleteMany(cctx, bson.D{}); derr != nil {
			return BackupHeader{}, fmt.Errorf("%w; and the partial copy could not be removed (%v): drop database %s before the next attempt", err, derr, s.db.Name())
		}
	}
	return BackupHeader{}, err
}

// restore is Restore without the cleanup; it adds to touched each
// collection before its first insert.
func (s *Store) restore(ctx context.Context, r io.Reader, opt BackupOptions, touched *[]string) (BackupHeader, error) {
	h, br, err := readBackupHeader(r)
	if err != nil {
		return BackupHeader{}, err
	}
	// Indexes first, so that unique indexes guard the inserts.
	expected := make(map[string]int64, len(h.Collections))
	order := make(map[string]int, len(h.Collections))
	for i, c := range h.Collections {
		expected[c.Name] = c.Count
		order[c.Name] = i
		if err := s.db.CreateCollection(ctx, c.Name); err != nil && !isNamespaceExists(err) {
			return BackupHeader{}, unavailable(err, "restore: create collection "+c.Name)
		}
		if len(c.Indexes) > 0 {
			cmd := bson.D{{Key: "createIndexes", Value: c.Name}, {Key: "indexes", Value: c.Indexes}}
			if err := s.db.RunCommand(ctx, cmd).Err(); err != nil {
				return BackupHeader{}, unavailable(err, "restore: create indexes of "+c.Name)
			}
		}
	}

	got := make(map[string]int64, len(h.Collections))
	var (
		batch     []any
		batchCol  string
		batchSize int
		lastIdx   = -1
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if !slices.Contains(*touched, batchCol) {
			*touched = append(*touched, batchCol)
		}
		if _, err := s.db.Collection(batchCol).InsertMany(ctx, batch, options.InsertMany().SetOrdered(true)); err != nil {
			return unavailable(err, fmt.Sprintf("restore: insert into %s (documents up to %d)", batchCol, got[batchCol]))
		}
		if opt.Progress != nil {
			opt.Progress(batchCol, got[batchCol], expected[batchCol])
		}
		batch, batchSize = batch[:0], 0
		return nil
	}
	for rec := int64(1); ; rec++ {
		raw, err := readRawDoc(br)
		if err == io.EOF {
			return BackupHeader{}, fmt.Errorf("restore: the backup is truncated after %d records (no trailer)", rec-1)
		}
		if err != nil {
			return BackupHeader{}, fmt.Errorf("restore: record %d: %w", rec, err)
		}
		if _, err := raw.LookupErr("end"); err == nil {
			var t trailerDoc
			if err := bson.Unmarshal(raw, &t); err != nil {
				return BackupHeader{}, fmt.Errorf("restore: trailer: %w", err)
			}
			if err := flush(); err != nil {
				return BackupHeader{}, err
			}
			for _, c := range h.Collections {
				if got[c.Name] != c.Count || t.Counts[c.Name] != c.Count {
					return BackupHeader{}, fmt.Errorf("restore: collection %s: header says %d documents, trailer %d, file held %d", c.Name, c.Count, t.Counts[c.Name], got[c.Name])
				}
			}
			if _, err := readRawDoc(br); err != io.EOF {
				return BackupHeader{}, fmt.Errorf("restore: data after the trailer")
			}
			return h.public(), nil
		}
		var d recordDoc
		if err := bson.Unmarshal(raw, &d); err != nil {
			return BackupHeader{}, fmt.Errorf("restore: record %d: %w", rec, err)
		}
		i, ok := order[d.C]
		if !ok {
			return BackupHeader{}, fmt.Errorf("restore: record %d belongs to collection %q, which the header does not list", rec, d.C)
		}
		if i < lastIdx {
			return BackupHeader{}, fmt.Errorf("restore: record %d of collection %q is out of order", rec, d.C)
		}
		if err := d.D.Validate(); err != nil || len(d.D) == 0 {
			return BackupHeader{}, fmt.Errorf("restore: record %d of collection %q: invalid document", rec, d.C)
		}
		if d.C != batchCol || len(batch) >= restoreBatchDocs || batchSize+len(d.D) > restoreBatchBytes {
			if err := flush(); err != nil {
				return BackupHeader{}, err
			}
			batchCol = d.C
		}
		lastIdx = i
		got[d.C]++
		if got[d.C] > expected[d.C] {
			return BackupHeader{}, fmt.Errorf("restore: collection %s has more documents than the %d its header lists", d.C, expected[d.C])
		}
		// d.D aliases raw, which the next read reuses: keep a copy.
		batch = append(batch, bson.Raw(slices.Clone(d.D)))
		batchSize += len(d.D)
	}
}

// ReadBackupHeader reads and checks the header of a backup file without
// touching any store, for `dotm restore --dry-run` and listings.
func ReadBackupHeader(r io.Reader) (BackupHeader, error) {
	h, _, err := readBackupHeader(r)
	if err != nil {
		return BackupHeader{}, err
	}
	return h.public(), nil
}

func readBackupHeader(r io.Reader) (headerDoc, *bufio.Reader, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return headerDoc{}, nil, fmt.Errorf("restore: not a dotm backup (not gzip): %w", err)
	}
	br := bufio.NewReaderSize(zr, 256<<10)
	raw, err := readRawDoc(br)
	if err != nil {
		return headerDoc{}, nil, fmt.Errorf("restore: header: %w", err)
	}
	var h headerDoc
	if err := bson.Unmarshal(raw, &h); err != nil || h.Format != backupFormat {
		return headerDoc{}, nil, fmt.Errorf("restore: not a dotm backup (no %q header)", backupFormat)
	}
	if h.Version != backupVersion {
		return headerDoc{}, nil, fmt.Errorf("restore: backup format version %d; this dotm reads version %d", h.Version, backupVersion)
	}
	seen := map[string]bool{}
	for _, c := range h.Collections {
		if c.Name == "" || strings.HasPrefix(c.Name, "system.") || seen[c.Name] || c.Count < 0 {
			return headerDoc{}, nil, fmt.Errorf("restore: header lists an invalid collection %q", c.Name)
		}
		seen[c.Name] = true
	}
	return h, br, nil
}

// readRawDoc reads one length-prefixed BSON document; io.EOF only at a clean
// end between documents.
func readRawDoc(r *bufio.Reader) (bson.Raw, error) {
	var lb [4]byte
	if _, err := io.ReadFull(r, lb[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			return nil, errors.New("truncated document length")
		}
		return nil, err
	}
	n := int(int32(uint32(lb[0]) | uint32(lb[1])<<8 | uint32(lb[2])<<16 | uint32(lb[3])<<24))
	if n < 5 || n > maxRecordBytes {
		return nil, fmt.Errorf("invalid document length %d", n)
	}
	buf := make([]byte, n)
	copy(buf, lb[:])
	if _, err := io.ReadFull(r, buf[4:]); err != nil {
		return nil, fmt.Errorf("truncated document of %d bytes: %w", n, err)
	}
	raw := bson.Raw(buf)
	if err := raw.Validate(); err != nil {
		return nil, fmt.Errorf("corrupt document: %w", err)
	}
	return raw, nil
}

// checkEmpty refuses a database that holds any document.
func (s *Store) checkEmpty(ctx context.Context) error {
	names, err := s.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return unavailable(err, "restore: list collections")
	}
	slices.Sort(names)
	var full []string
	for _, name := range names {
		if strings.HasPrefix(name, "system.") {
			continue
		}
		n, err := s.db.Collection(name).CountDocuments(ctx, bson.D{})
		if err != nil {
			return unavailable(err, "restore: count "+name)
		}
		if n > 0 {
			full = append(full, fmt.Sprintf("%s (%d)", name, n))
		}
	}
	if len(full) > 0 {
		return fmt.Errorf("restore: %w: database %s holds documents in %s; restore only into an empty store (a new --data-dir or an empty database)", ErrNotEmpty, s.db.Name(), strings.Join(full, ", "))
	}
	return nil
}

func isNamespaceExists(err error) bool {
	var ce mongo.CommandError
	return errors.As(err, &ce) && (ce.Code == 48 || ce.Name == "NamespaceExists")
}
