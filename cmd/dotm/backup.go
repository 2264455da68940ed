package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/dotm-survey/dotm/internal/outfile"
	"github.com/dotm-survey/dotm/mongodb"
)

func runBackup(e *env, args []string) error {
	fs := newFlags(e, "backup", "backup --out FILE [--data-dir DIR | --mongo-uri URI]",
		"dotm backup --data-dir ./data --out dotm-2026-04-02.backup.gz\n"+
			"# every collection of the dotm database, gzip-compressed; data keys are never in it:\n"+
			"# keep the key file (dotm keys) in a separate safe place")
	out := fs.String("out", "", "backup file to write (replaced only when the backup is complete)")
	sf := addStoreFlags(e, fs)
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		return exitError{code: 2, msg: "backup: give --out FILE and no other arguments"}
	}
	return sf.with(e, func(store *mongodb.Store) error {

		// Write beside the target and rename, so that a failed backup never
		// leaves a half-written file under the final name.
		tmp, err := outfile.Temp(*out, "."+filepath.Base(*out)+".tmp-*")
		if err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		defer os.Remove(tmp.Name())
		h, err := store.Backup(e.ctx, tmp, mongodb.BackupOptions{Progress: progressTo(e, "backup")})
		if err != nil {
			tmp.Close()
			return err
		}
		if err := tmp.Sync(); err != nil {
			tmp.Close()
			return fmt.Errorf("backup: %w", err)
		}
		if err := tmp.Close(); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		if err := os.Chmod(tmp.Name(), 0o600); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		if err := os.Rename(tmp.Name(), *out); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		fmt.Fprintf(e.stderr, "backup of %s written to %s (%s)\n", h.Database, *out, h.Consistency)
		printBackupHeader(e.stdout, h)
		return nil
	})
}

func runRestore(e *env, args []string) error {
	fs := newFlags(e, "restore", "restore [--data-dir DIR | --mongo-uri URI] [--dry-run] FILE",
		"dotm restore --data-dir ./data-restored dotm-2026-04-02.backup.gz\n"+
			"# the target store must be empty; then start dotm serve on it with the same key file")
	dry := fs.Bool("dry-run", false, "only read and check the file's header and print what it holds")
	sf := addStoreFlags(e, fs)
	// Flags may come before or after the file name.
	var files []string
	for rest := args; ; {
		if err := parseFlags(e, fs, rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) != 1 {
		return exitError{code: 2, msg: "restore: give exactly one backup file"}
	}
	path := files[0]
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	if *dry {
		h, err := mongodb.ReadBackupHeader(f)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		printBackupHeader(e.stdout, h)
		return nil
	}
	return sf.with(e, func(store *mongodb.Store) error {
		h, err := store.Restore(e.ctx, f, mongodb.BackupOptions{Progress: progressTo(e, "restore")})
		if err != nil {
			if errors.Is(err, mongodb.ErrNotEmpty) {
				return exitError{code: 1, msg: err.Error()}
			}
			return fmt.Errorf("%s: %w", path, err)
		}
		fmt.Fprintf(e.stderr, "restored %d documents from %s (backup of %s taken %s)\n", h.Documents(), path, h.Database, h.Created.Format(time.RFC3339))
		printBackupHeader(e.stdout, h)
		return nil
	})
}

func printBackupHeader(w io.Writer, h mongodb.BackupHeader) {
	fmt.Fprintf(w, "format\t%s v%d\ncreated\t%s\ndatabase\t%s\nconsistency\t%s\n", h.Format, h.Version, h.Created.Format(time.RFC3339Nano), h.Database, h.Consistency)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "collection\tdocuments\tindexes\t")
	for _, c := range h.Collections {
		fmt.Fprintf(tw, "%s\t%d\t%d\t\n", c.Name, c.Count, c.Indexes)
	}
	fmt.Fprintf(tw, "total\t%d\t\t\n", h.Documents())
	tw.Flush()
}

// progressTo reports per-collection progress on a terminal, nothing otherwise.
func progressTo(e *env, verb string) func(string, int64, int64) {
	if !isTerminal(e.stderr) {
		return nil
	}
	return func(col string, done, total int64) {
		fmt.Fprintf(e.stderr, "\r%s %s: %d/%d   ", verb, col, done, total)
		if done >= total {
			fmt.Fprintln(e.stderr)
		}
	}
}
