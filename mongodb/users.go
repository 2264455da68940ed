package mongodb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/dotm-survey/dotm"
)

// Collections. Each document is keyed by the natural _id it is looked up by.
const (
	colUsers  = "users"  // _id: user name
	colTokens = "tokens" // _id: SHA-256 hex of a token → user name
	colAudit  = "audit"  // append-only
)

type userDoc struct {
	Name      string    `bson:"_id"`
	Role      string    `bson:"role"`
	Surveys   []string  `bson:"surveys"`
	TokenHash string    `bson:"token_sha256"`
	CreatedAt time.Time `bson:"created_at"`
	Revoked   bool      `bson:"revoked"`
	RevokedAt time.Time `bson:"revoked_at,omitempty"`
}

// tokenDoc maps a token's hash to its user. It carries a copy of the user's
// role and scope so that signing in is one _id lookup on every request; the
// copy cannot go stale because a user's role and scope never change and
// revocation deletes the token document. Token documents without the copy
// (written by older versions) fall back to reading the user.
type tokenDoc struct {
	Hash      string    `bson:"_id"`
	User      string    `bson:"user"`
	Role      string    `bson:"role,omitempty"`
	Surveys   []string  `bson:"surveys,omitempty"`
	CreatedAt time.Time `bson:"created_at,omitempty"`
}

func (d userDoc) user() dotm.User {
	return dotm.User{Name: d.Name, Role: dotm.Role(d.Role), Surveys: d.Surveys, CreatedAt: d.CreatedAt, Revoked: d.Revoked}
}

// AddUser stores a user and the hash of the user's token. A user of that name
// already there is an ECONFLICT.
func (s *Store) AddUser(ctx context.Context, u dotm.User, tokenHash string) error {
	if u.CreatedAt.IsZero() {
		u.CreatedAt = time.Now().UTC()
	}
	if u.Surveys == nil {
		u.Surveys = []string{}
	}
	doc := userDoc{Name: u.Name, Role: string(u.Role), Surveys: u.Surveys, TokenHash: tokenHash, CreatedAt: u.CreatedAt}
	if _, err := s.collection(colUsers).InsertOne(ctx, doc); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return dotm.Errorf(dotm.ECONFLICT, "user %q exists", u.Name)
		}
		return fmt.Errorf("mongodb: add user %s: %w", u.Name, err)
	}
	// The user is written first: a token never points at a missing user.
	if _, err := s.collection(colTokens).InsertOne(ctx, tokenDoc{Hash: tokenHash, User: u.Name, Role: string(u.Role), Surveys: u.Surveys, CreatedAt: u.CreatedAt}); err != nil {
		return fmt.Errorf("mongodb: add token of %s: %w", u.Name, err)
	}
	return nil
}

// UserByTokenHash implements collector.UserStore with two _id lookups.
func (s *Store) UserByTokenHash(ctx context.Context, hash string) (dotm.User, string, error) {
	var t tokenDoc
	if err := s.collection(colTokens).FindOne(ctx, bson.D{{Key: "_id", Value: hash}}).Decode(&t); err != nil {
		return dotm.User{}, "", notFound(err, "token")
	}
	if t.Role != "" {
		surveys := t.Surveys
		if surveys == nil {
			surveys = []string{}
		}
		return dotm.User{Name: t.User, Role: dotm.Role(t.Role), Surveys: surveys, CreatedAt: t.CreatedAt}, t.Hash, nil
	}
	var d userDoc
	if err := s.collection(colUsers).FindOne(ctx, bson.D{{Key: "_id", Value: t.User}}).Decode(&d); err != nil {
		return dotm.User{}, "", notFound(err, "user")
	}
	return d.user(), d.TokenHash, nil
}

// Users lists every user, sorted by name.
func (s *Store) Users(ctx context.Context) ([]dotm.User, error) {
	cur, err := s.collection(colUsers).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, unavailable(err, "list users")
	}
	var docs []userDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, unavailable(err, "list users")
	}
	users := make([]dotm.User, len(docs))
	for i, d := range docs {
		users[i] = d.user()
	}
	return users, nil
}

// RevokeUser marks a user revoked and deletes the token; ENOTFOUND if no such user.
func (s *Store) RevokeUser(ctx context.Context, name string) error {
	var d userDoc
	err := s.collection(colUsers).FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: name}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "revoked", Value: true}, {Key: "revoked_at", Value: time.Now().UTC()}}}}).Decode(&d)
	if err != nil {
		return notFound(err, "user "+name)
	}
	if _, err := s.collection(colTokens).DeleteOne(ctx, bson.D{{Key: "_id", Value: d.TokenHash}}); err != nil {
		return fmt.Errorf("mongodb: delete token of %s: %w", name, err)
	}
	return nil
}

// Record implements collector.Auditor: one insert per entry, never updated.
func (s *Store) Record(ctx context.Context, e dotm.AuditEntry) error {
	if _, err := s.collection(colAudit).InsertOne(ctx, auditDocOf(e)); err != nil {
		return unavailable(err, "write audit entry")
	}
	return nil
}

// auditDocOf is the stored form of an audit entry, with a new id (and the
// current time when e has none).
func auditDocOf(e dotm.AuditEntry) bson.D {
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	return bson.D{
		{Key: "_id", Value: bson.NewObjectID()},
		{Key: "time", Value: e.Time}, {Key: "actor", Value: e.Actor}, {Key: "role", Value: string(e.Role)},
		{Key: "action", Value: e.Action}, {Key: "survey", Value: e.Survey}, {Key: "target", Value: e.Target},
		{Key: "detail", Value: e.Detail},
	}
}

// EnsureIndexes creates dotm's secondary indexes; safe to call on every start.
//
// On the embedded server they are SQLite indexes that dotm's own queries use
// (embedded_index.go, embedded_query.go); FerretDB's createIndexes would
// make indexes its queries never use, so it is not called there. On
// MongoDB they are mongoIndexes.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	if s.embeddedDir != "" {
		if err := s.indexEmbeddedIDs(ctx, s.embeddedDir); err != nil {
			return err
		}
	}
	if s.embeddedDir == "" && !s.shared {
		for _, i := range mongoIndexes {
			if _, err := s.collection(i.col).Indexes().CreateOne(ctx, mongo.IndexModel{Keys: i.keys}); err != nil {
				return fmt.Errorf("mongodb: create index on %s: %w", i.col, err)
			}
		}
	}
	return s.migrateSubmissionBodies(ctx)
}

// mongoIndexes are the secondary indexes of a real MongoDB, one for each
// listing of the request path (docs/ARCHITECTURE.md lists them; the
// embedded store's listIndexes mirror them): every listing is an index
// scan in the listing's order that stops at its page size.
var mongoIndexes = []struct {
	col  string
	keys bson.D
}{
	{colSubmissions, bson.D{{Key: "survey", Value: 1}, {Key: "_id", Value: 1}}},
	{colSubmissions, bson.D{{Key: "survey", Value: 1}, {Key: "status", Value: 1}, {Key: "_id", Value: 1}}},
	{colSubmissions, bson.D{{Key: "status", Value: 1}, {Key: "_id", Value: 1}}},
	{colSubmissions, bson.D{{Key: "enumerator", Value: 1}, {Key: "_id", Value: 1}}},
	{colAudit, bson.D{{Key: "time", Value: 1}, {Key: "_id", Value: 1}}},
	{colAudit, bson.D{{Key: "action", Value: 1}, {Key: "time", Value: 1}, {Key: "_id", Value: 1}}},
	{colAudit, bson.D{{Key: "actor", Value: 1}, {Key: "time", Value: 1}, {Key: "_id", Value: 1}}},
	{colAudit, bson.D{{Key: "survey", Value: 1}, {Key: "time", Value: 1}, {Key: "_id", Value: 1}}},
	{colAssignments, bson.D{{Key: "survey", Value: 1}, {Key: "_id", Value: 1}}},
	{colAssignments, bson.D{{Key: "enumerator", Value: 1}, {Key: "_id", Value: 1}}},
	{colAssignmentMoves, bson.D{{Key: "assignment", Value: 1}}},
	{colAssignmentMoves, bson.D{{Key: "survey", Value: 1}}},
	{colListings, bson.D{{Key: "survey", Value: 1}, {Key: "_id", Value: 1}}},
	{colHouseholdSamples, bson.D{{Key: "survey", Value: 1}, {Key: "_id", Value: 1}}},
	{colReleases, bson.D{{Key: "survey", Value: 1}}},
	{colTallies, bson.D{{Key: "survey", Value: 1}, {Key: "psu", Value: 1}, {Key: "_id", Value: 1}}},
	{colTallies, bson.D{{Key: "survey", Value: 1}, {Key: "seq", Value: 1}}},
	{colAssignments, bson.D{{Key: "survey", Value: 1}, {Key: "psu", Value: 1}, {Key: "stratum", Value: 1}, {Key: "enumerator", Value: 1}}},
	{colAssignments, bson.D{{Key: "survey", Value: 1}, {Key: "seq", Value: 1}}},
}

// notFound turns ErrNoDocuments into collector's ENOTFOUND.
func notFound(err error, what string) error {
	if errors.Is(err, mongo.ErrNoDocuments) {
		return &dotm.Error{Code: dotm.ENOTFOUND, Message: what + " not found", Err: err}
	}
	return unavailable(err, "find "+what)
}

// unavailable marks errors of an unreachable server as EUNAVAILABLE (503)
// and leaves other errors as they are (500).
func unavailable(err error, what string) error {
	if err == nil {
		return nil
	}
	if mongo.IsTimeout(err) || mongo.IsNetworkError(err) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, mongo.ErrClientDisconnected) || isServerSelection(err) {
		return &dotm.Error{Code: dotm.EUNAVAILABLE, Message: "database unavailable", RetryAfter: 2, Err: fmt.Errorf("%s: %w", what, err)}
	}
	return fmt.Errorf("mongodb: %s: %w", what, err)
}

func isServerSelection(err error) bool {
	var sse topology.ServerSelectionError
	return errors.As(err, &sse)
}
