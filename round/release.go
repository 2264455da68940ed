package round

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/exports"
)

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
func CreateRelease(ctx context.Context, src exports.Source, store dotm.ReleaseStore, req ReleaseRequest) (dotm.Release, error) {
	profile, err := exports.ParseProfile(req.Profile)
	if err != nil {
		return dotm.Release{}, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "release profile: " + strings.TrimPrefix(err.Error(), "profile: "),
			Problems: []dotm.Problem{{Path: "profile", Code: "invalid", Message: strings.TrimPrefix(err.Error(), "profile: ")}}, Err: err}
	}
	ds, err := src.Dataset(ctx, req.Survey)
	if err != nil {
		return dotm.Release{}, err
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
			return dotm.Release{}, fmt.Errorf("release of %s: %w", req.Survey, err)
		}
		defer os.RemoveAll(tmp)
		dir = filepath.Join(tmp, "release")
	}
	man, rep, err := exports.Create(ds, profile, dir, info, req.Options)
	var refused *exports.RefusedError
	switch {
	case errors.As(err, &refused):
		return dotm.Release{}, Refusal(refused)
	case err != nil && isProfileMismatch(err):
		msg := strings.TrimPrefix(err.Error(), "profile: ")
		return dotm.Release{}, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "release profile does not fit the survey's tables: " + msg,
			Problems: []dotm.Problem{{Path: "profile", Code: "mismatch", Message: msg}}, Err: err}
	case err != nil:
		return dotm.Release{}, fmt.Errorf("release of %s: %w", req.Survey, err)
	}
	manJSON, err := json.Marshal(man)
	if err != nil {
		return dotm.Release{}, err
	}
	repJSON, err := json.Marshal(rep)
	if err != nil {
		return dotm.Release{}, err
	}
	r := dotm.Release{ID: info.ID, Survey: req.Survey, Created: created, CreatedBy: req.By, Profile: string(req.Profile),
		Manifest: manJSON, Report: repJSON}
	for _, f := range man.Files {
		r.Files = append(r.Files, dotm.ReleaseFile{Name: f.Name, Bytes: f.Bytes, SHA256: f.SHA256})
	}
	mf, err := describeFile(dir, exports.ManifestJSON)
	if err != nil {
		return dotm.Release{}, err
	}
	r.Files = append(r.Files, mf)
	if err := store.PutRelease(ctx, r, os.DirFS(dir)); err != nil {
		return dotm.Release{}, fmt.Errorf("store release %s: %w", r.ID, err)
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
func Refusal(r *exports.RefusedError) *dotm.Error {
	e := &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "disclosure control refused the release: " + strings.TrimPrefix(r.Error(), "exports: release refused: ") + "; nothing was stored", Err: r}
	for _, t := range r.Report.Tables {
		for _, p := range t.Problems {
			e.Problems = append(e.Problems, dotm.Problem{Path: "tables." + t.Table, Code: "disclosure", Message: p})
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
			e.Problems = append(e.Problems, dotm.Problem{Path: "tables." + t.Table + ".worst_combinations", Code: "k_anonymity",
				Message: fmt.Sprintf("%s: %d records, weighted frequency %.4g, risk %.4g", strings.Join(parts, ", "), c.Records, c.WeightedFrequency, c.Risk)})
		}
	}
	return e
}

// describeFile gives the size and SHA-256 of dir/name.
func describeFile(dir, name string) (dotm.ReleaseFile, error) {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return dotm.ReleaseFile{}, fmt.Errorf("release file: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return dotm.ReleaseFile{}, fmt.Errorf("release file %s: %w", name, err)
	}
	return dotm.ReleaseFile{Name: name, Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}
