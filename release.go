package dotm

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"time"
)

// Release is one anonymized release of a survey kept in the database, so
// that any API server can serve it. Its files never change once stored;
// publishing only makes it visible to researchers.
type Release struct {
	ID        string    `json:"id"` // a UUID
	Survey    string    `json:"survey"`
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"created_by"`
	Profile   string    `json:"profile"` // the release profile as given (YAML or JSON)
	// Manifest and Report are the release's manifest.json and disclosure
	// report as package exports writes them (exports.Manifest,
	// exports.Report; exports.ParseManifest and ParseReport read them).
	// The domain keeps them as documents so that it depends on no
	// statistics: exports computes replicate weights and key indicators.
	Manifest    json.RawMessage `json:"manifest"`
	Report      json.RawMessage `json:"report"`
	Files       []ReleaseFile   `json:"files"` // every stored file, manifest.json included
	Published   bool            `json:"published"`
	PublishedAt *time.Time      `json:"published_at,omitempty"`
	PublishedBy string          `json:"published_by,omitempty"`
}

// ReleaseFile is one stored file of a release.
type ReleaseFile struct {
	Name   string `json:"name"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"` // hex; the download's ETag
}

// File finds a file of the release by name.
func (r Release) File(name string) (ReleaseFile, bool) {
	for _, f := range r.Files {
		if f.Name == name {
			return f, true
		}
	}
	return ReleaseFile{}, false
}

// ReleaseStore keeps releases and their files. Nothing stored is ever
// changed: a release record and its files are inserted once, and
// publishing inserts a record of its own keyed by the release id, so a
// release is published at most once.
//
// PutRelease stores r and the content of each file in r.Files, read from
// files by name (ECONFLICT when r.ID exists); the record is written last,
// so a release is either whole or invisible. Release finds one by id
// (ENOTFOUND), with its publication. Releases lists the releases of survey
// (empty: all), oldest first. PublishRelease publishes release id
// (ENOTFOUND; ECONFLICT when already published). ReleaseFile opens a stored
// file for reading and seeking (ENOTFOUND for an unknown release or name).
type ReleaseStore interface {
	PutRelease(ctx context.Context, r Release, files fs.FS) error
	Release(ctx context.Context, id string) (Release, error)
	Releases(ctx context.Context, survey string) ([]Release, error)
	PublishRelease(ctx context.Context, id, by string, at time.Time) error
	ReleaseFile(ctx context.Context, id, name string) (io.ReadSeeker, error)
}
