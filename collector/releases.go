package collector

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dotm-survey/dotm/exports"
)

// Release is one anonymized release of a survey kept in the database, so
// that any API server can serve it. Its files never change once stored;
// publishing only makes it visible to researchers.
type Release struct {
	ID          string            `json:"id"` // a UUID
	Survey      string            `json:"survey"`
	Created     time.Time         `json:"created"`
	CreatedBy   string            `json:"created_by"`
	Profile     string            `json:"profile"` // the release profile as given (YAML or JSON)
	Manifest    *exports.Manifest `json:"manifest"`
	Report      *exports.Report   `json:"report"`
	Files       []ReleaseFile     `json:"files"` // every stored file, manifest.json included
	Published   bool              `json:"published"`
	PublishedAt *time.Time        `json:"published_at,omitempty"`
	PublishedBy string            `json:"published_by,omitempty"`
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

// ReleaseRequest asks [CreateRelease] for a release of a survey.
type ReleaseRequest struct {
	Survey  string
	Profile []byte // release profile, YAML or JSON (see exports.ParseProfile)
	By      string // who asks, for the record and the audit trail
	Version string // dotm version, written into the files
	// Dir, when set, is a folder (absent or empty) where the release folder
	// is written and kept; otherwise it is written to a temporary folder that
	// is removed once the files are stored.
	Dir string
	// Options of the anonymization (tests pass a seeded generator).
	Options exports.Options
	// Now stamps the release; zero means the current time.
	Now time.Time
}

// CreateRelease makes a release of a survey: it reads the survey's release
// tables from src, applies the profile's disclosure control and writes the
// release folder (exports.Create), then stores the record and every file.
// A profile that does not parse or fit the data is EUNPROCESSABL; a release
// that disclosure control refuses is EUNPROCESSABL with one problem per
// worst combination and wraps the *exports.RefusedError (its Report has the
// whole report). Nothing is stored then. The API and `dotm release create
// --survey` both call it; the caller writes the audit entry.
func CreateRelease(ctx context.Context, src exports.Source, store ReleaseStore, req ReleaseRequest) (Release, error) {
	profile, err := exports.ParseProfile(req.Profile)
	if err != nil {
		return Release{}, &Error{Code: EUNPROCESSABL, Message: "release profile: " + strings.TrimPrefix(err.Error(), "profile: "),
			Problems: []Problem{{Path: "profile", Code: "invalid", Message: strings.TrimPrefix(err.Error(), "profile: ")}}, Err: err}
	}
	ds, err := src.Dataset(ctx, req.Survey)
	if err != nil {
		return Release{}, err
	}
	created := req.Now
	if created.IsZero() {
		created = time.Now()
	}
	created = created.UTC().Truncate(time.Second)
	info := exports.Info{ID: uuid.NewString(), Survey: req.Survey, Created: created, Version: req.Version}
	dir := req.Dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "dotm-release-")
		if err != nil {
			return Release{}, fmt.Errorf("release of %s: %w", req.Survey, err)
		}
		defer os.RemoveAll(tmp)
		dir = filepath.Join(tmp, "release")
	}
	man, rep, err := exports.Create(ds, profile, dir, info, req.Options)
	var refused *exports.RefusedError
	switch {
	case errors.As(err, &refused):
		return Release{}, refusal(refused)
	case err != nil && isProfileMismatch(err):
		msg := strings.TrimPrefix(err.Error(), "profile: ")
		return Release{}, &Error{Code: EUNPROCESSABL, Message: "release profile does not fit the survey's tables: " + msg,
			Problems: []Problem{{Path: "profile", Code: "mismatch", Message: msg}}, Err: err}
	case err != nil:
		return Release{}, fmt.Errorf("release of %s: %w", req.Survey, err)
	}
	r := Release{ID: info.ID, Survey: req.Survey, Created: created, CreatedBy: req.By, Profile: string(req.Profile),
		Manifest: man, Report: rep}
	for _, f := range man.Files {
		r.Files = append(r.Files, ReleaseFile{Name: f.Name, Bytes: f.Bytes, SHA256: f.SHA256})
	}
	mf, err := describeFile(dir, exports.ManifestJSON)
	if err != nil {
		return Release{}, err
	}
	r.Files = append(r.Files, mf)
	if err := store.PutRelease(ctx, r, os.DirFS(dir)); err != nil {
		return Release{}, fmt.Errorf("store release %s: %w", r.ID, err)
	}
	return r, nil
}

// isProfileMismatch tells errors of a profile that does not fit the data
// (a column it names is in no table, a recode of a text column), which
// exports prefixes with "profile: ", from failures to write.
func isProfileMismatch(err error) bool {
	return strings.HasPrefix(err.Error(), "profile: ")
}

// refusal turns a disclosure-control refusal into a 422 whose problems are
// the worst combinations of each table.
func refusal(r *exports.RefusedError) *Error {
	e := &Error{Code: EUNPROCESSABL, Message: "disclosure control refused the release: " + strings.TrimPrefix(r.Error(), "exports: release refused: ") + "; nothing was stored", Err: r}
	for _, t := range r.Report.Tables {
		for _, p := range t.Problems {
			e.Problems = append(e.Problems, Problem{Path: "tables." + t.Table, Code: "disclosure", Message: p})
		}
		for _, c := range t.Worst {
			keys := make([]string, 0, len(c.Values))
			for k := range c.Values {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			parts := make([]string, len(keys))
			for i, k := range keys {
				parts[i] = k + "=" + c.Values[k]
			}
			e.Problems = append(e.Problems, Problem{Path: "tables." + t.Table + ".worst_combinations", Code: "k_anonymity",
				Message: fmt.Sprintf("%s: %d records, weighted frequency %.4g, risk %.4g", strings.Join(parts, ", "), c.Records, c.WeightedFrequency, c.Risk)})
		}
	}
	return e
}

// describeFile gives the size and SHA-256 of dir/name.
func describeFile(dir, name string) (ReleaseFile, error) {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return ReleaseFile{}, fmt.Errorf("release file: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return ReleaseFile{}, fmt.Errorf("release file %s: %w", name, err)
	}
	return ReleaseFile{Name: name, Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// ReleaseContentType is the media type a release file is served as.
func ReleaseContentType(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".parquet":
		return "application/vnd.apache.parquet"
	case ".json":
		return "application/json"
	case ".md":
		return "text/markdown; charset=utf-8"
	}
	return "application/octet-stream"
}
