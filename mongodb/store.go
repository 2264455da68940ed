package mongodb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

// DefaultDatabase is the database dotm uses when the URI names none.
const DefaultDatabase = "dotm"

// uriFile is written into the data dir by the process that holds it, so that
// a second dotm process (a CLI command while `dotm serve` runs) can reach the
// same embedded server instead of opening the SQLite files a second time.
const uriFile = "mongo.uri"

// Config says which server to use.
type Config struct {
	// URI of a MongoDB server. Empty means the embedded server under DataDir.
	URI string
	// DataDir holds the embedded server's files. Ignored when URI is set.
	DataDir string
	// Database name; empty means the one in URI's path, else DefaultDatabase.
	Database string
	// Logger for the embedded server's errors; nil for silence.
	Logger *slog.Logger
	// ConnectTimeout bounds the first ping (default 10s).
	ConnectTimeout time.Duration
	// EmbeddedDir is the directory of an embedded server that URI points at
	// (one started with StartEmbedded, as tests do): Open then indexes its
	// _id lookups as it does for the embedded server it starts itself.
	EmbeddedDir string
}

// Store is an open connection to dotm's database.
type Store struct {
	embeddedDir string // SQLite files of the embedded server in use, if known
	client      *mongo.Client
	db          *mongo.Database
	embedded    *Embedded
	lock        *os.File
	uri         string
	shared      bool
	weightChunk int // households per weights chunk; 0 means weightChunkSize (tests set it lower)
	// sq reads listings straight from the embedded server's SQLite file
	// (embedded_query.go); nil on MongoDB and on a borrowed server.
	sq *embeddedSQL
	// views are the surveys' tallies in memory (tallies_view.go);
	// noTallyView (tests) reads them from the store at every request.
	views       tallyViews
	noTallyView bool
	// assigned are the surveys' assignment counts in memory
	// (progress_view.go).
	assigned assignedViews
}

// Open connects to the server cfg names and creates dotm's indexes.
//
// With no URI it starts the embedded server under cfg.DataDir, locking the
// directory so that no second process opens the same files. When another
// dotm process already holds the directory, Open connects to that process's
// embedded server (whose address it wrote in the directory) instead.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	s := &Store{}
	uri := cfg.URI
	if uri == "" {
		if cfg.DataDir == "" {
			cfg.DataDir = "data"
		}
		var err error
		uri, err = s.openEmbedded(ctx, cfg)
		if err != nil {
			return nil, err
		}
	}
	s.uri = uri
	if s.embedded != nil {
		s.embeddedDir = s.embedded.dir
	} else if cfg.EmbeddedDir != "" {
		if abs, err := filepath.Abs(cfg.EmbeddedDir); err == nil {
			s.embeddedDir = abs
		}
	}
	dbName := cfg.Database
	if dbName == "" {
		dbName = databaseFromURI(uri)
	}
	opts := options.Client().ApplyURI(uri).
		SetServerSelectionTimeout(cfg.ConnectTimeout).
		SetConnectTimeout(cfg.ConnectTimeout).
		SetAppName("dotm")
	if cfg.URI != "" && !strings.Contains(cfg.URI, "w=") {
		// Production: an acknowledged write must survive a primary failover.
		opts.SetWriteConcern(writeconcern.Majority())
	}
	client, err := mongo.Connect(opts)
	if err != nil {
		s.release()
		return nil, fmt.Errorf("mongodb: connect to %s: %w", redact(uri), err)
	}
	s.client = client
	s.db = client.Database(dbName)
	pctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	if err := client.Ping(pctx, readpref.Primary()); err != nil {
		_ = s.Close(context.Background())
		return nil, fmt.Errorf("mongodb: cannot reach %s within %s: %w", redact(uri), cfg.ConnectTimeout, err)
	}
	if err := s.EnsureIndexes(ctx); err != nil {
		_ = s.Close(context.Background())
		return nil, err
	}
	return s, nil
}

func (s *Store) openEmbedded(ctx context.Context, cfg Config) (string, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return "", fmt.Errorf("mongodb: create data dir: %w", err)
	}
	lockPath := filepath.Join(cfg.DataDir, "LOCK")
	f, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", fmt.Errorf("mongodb: open lock %s: %w", lockPath, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		// Another process holds the directory: use its server.
		b, rerr := os.ReadFile(filepath.Join(cfg.DataDir, uriFile))
		if rerr != nil || len(strings.TrimSpace(string(b))) == 0 {
			return "", fmt.Errorf("mongodb: data dir %s is in use by another dotm process that published no address; stop it or pass --mongo-uri", cfg.DataDir)
		}
		s.shared = true
		return strings.TrimSpace(string(b)), nil
	}
	s.lock = f
	e, err := StartEmbedded(ctx, filepath.Join(cfg.DataDir, "db"), cfg.Logger)
	if err != nil {
		s.release()
		return "", err
	}
	s.embedded = e
	if err := os.WriteFile(filepath.Join(cfg.DataDir, uriFile), []byte(e.URI()+"\n"), 0o600); err != nil {
		s.release()
		return "", fmt.Errorf("mongodb: write %s: %w", uriFile, err)
	}
	return e.URI(), nil
}

// URI is the address the store is connected to (credentials removed).
func (s *Store) URI() string { return redact(s.uri) }

// Embedded reports whether this store runs the embedded server itself.
func (s *Store) Embedded() bool { return s.embedded != nil }

// Shared reports whether this store borrowed another process's embedded server.
func (s *Store) Shared() bool { return s.shared }

// Ping checks that the database answers; readiness probes call it.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.client.Ping(ctx, readpref.Primary()); err != nil {
		return fmt.Errorf("mongodb: ping: %w", err)
	}
	return nil
}

// Close disconnects, stops the embedded server if this store started it, and
// releases the data dir.
func (s *Store) Close(ctx context.Context) error {
	var errs []error
	if s.sq != nil {
		if err := s.sq.close(); err != nil {
			errs = append(errs, fmt.Errorf("mongodb: close the embedded reader: %w", err))
		}
		s.sq = nil
	}
	if s.client != nil {
		if err := s.client.Disconnect(ctx); err != nil {
			errs = append(errs, fmt.Errorf("mongodb: disconnect: %w", err))
		}
	}
	s.release()
	return errors.Join(errs...)
}

func (s *Store) release() {
	if s.embedded != nil {
		_ = s.embedded.Close()
		s.embedded = nil
	}
	if s.lock != nil {
		_ = os.Remove(filepath.Join(filepath.Dir(s.lock.Name()), uriFile))
		_ = syscall.Flock(int(s.lock.Fd()), syscall.LOCK_UN)
		_ = s.lock.Close()
		s.lock = nil
	}
}

// Collection gives the named collection; for this package and its tests.
func (s *Store) collection(name string) *mongo.Collection { return s.db.Collection(name) }

// databaseFromURI reads the database name from a connection string's path.
// It does not use net/url, which refuses the percent-encoded Unix socket
// paths that MongoDB's connection strings allow as hosts
// (mongodb://%2Ftmp%2Fm.sock/survey): the hosts contain no literal slash, so
// the path starts at the first slash after the scheme.
func databaseFromURI(uri string) string {
	_, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return DefaultDatabase
	}
	rest, _, _ = strings.Cut(rest, "?")
	_, path, ok := strings.Cut(rest, "/")
	if !ok {
		return DefaultDatabase
	}
	name, err := url.PathUnescape(strings.Trim(path, "/"))
	if err != nil || name == "" {
		return DefaultDatabase
	}
	return name
}

// redact removes the password from a URI so that it can be shown.
func redact(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.User == nil {
		return uri
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
