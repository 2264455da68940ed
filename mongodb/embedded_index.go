package mongodb

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"

	"go.mongodb.org/mongo-driver/v2/mongo"

	_ "modernc.org/sqlite" // the driver FerretDB's SQLite handler registers; named here because this file uses it too
)

// collections lists every collection dotm keeps, so that the embedded
// server's tables exist (and get their _id index) before the first write.
var collections = []string{
	colUsers, colTokens, colAudit, colSurveys, colForms, colAssignments, colAssignmentMoves,
	colSubmissions, colDecisions, colCorrections, colListings,
	colPSUSamples, colHouseholdSamples, colWeights, colWeightChunks, "releases", "release_published", "release_files", colKeyChecks, colClaims,
	colTallies, colFingerprints, colODKKeys, colAttachments, colAttachmentChunks,
}

// indexEmbeddedIDs makes _id lookups on the embedded server use an index.
//
// FerretDB v1.24's SQLite handler finds a document by _id with the SQL
// expression _ferretdb_sjson->'$._id', but indexes _id as
// _ferretdb_sjson->"_id"; SQLite matches an index only to the identical
// expression, so every find, update and delete by _id scanned the table and
// parsed each document's JSON (measured: O(collection bytes) per lookup,
// 170 ms per update with 300 interviews). This adds, in the same SQLite
// file, an index on the exact expression the lookups use, for every
// collection table. FerretDB does not know the index; SQLite maintains it,
// and dropping a collection drops it with the table.
//
// It adds the indexes of the listings (listIndexes) the same way and opens
// the read-only reader that uses them (embedded_query.go).
func (s *Store) indexEmbeddedIDs(ctx context.Context, dataDir string) error {
	for _, name := range collections {
		err := s.db.CreateCollection(ctx, name)
		var ce mongo.CommandError
		if err != nil && !(asCommandError(err, &ce) && ce.Code == 48) { // 48: NamespaceExists
			return fmt.Errorf("mongodb: create collection %s: %w", name, err)
		}
	}
	path := filepath.Join(dataDir, s.db.Name()+".sqlite")
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("mongodb: embedded database file: %w", err)
	}
	db, err := openWritable(path)
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT name, table_name FROM "_ferretdb_collections"`)
	if err != nil {
		return fmt.Errorf("mongodb: list tables of %s: %w", path, err)
	}
	tables := map[string]string{} // collection → table
	for rows.Next() {
		var c, t string
		if err := rows.Scan(&c, &t); err != nil {
			rows.Close()
			return err
		}
		tables[c] = t
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, t := range tables {
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->'$._id')`, t+"_dotm_id_lookup", t)
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("mongodb: index _id lookups of %s: %w", t, err)
		}
	}
	if err := createListIndexes(ctx, db, tables); err != nil {
		return err
	}
	if s.sq == nil {
		if s.sq, err = openEmbeddedSQL(path); err != nil {
			return err
		}
	}
	return nil
}

// openWritable opens the embedded server's SQLite file beside the server,
// to add indexes.
func openWritable(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(20000)")
	if err != nil {
		return nil, fmt.Errorf("mongodb: open %s: %w", path, err)
	}
	return db, nil
}

func asCommandError(err error, ce *mongo.CommandError) bool {
	for e := err; e != nil; {
		if c, ok := e.(mongo.CommandError); ok {
			*ce = c
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}
