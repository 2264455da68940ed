// Package outfile creates the temporary file beside an output path that
// dotm's atomic writers fill and rename into place, with errors that name
// the output's folder (which the user chose) rather than the temporary
// file (which the user never sees). It does not write or rename.
package outfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Temp is os.CreateTemp(filepath.Dir(path), pattern). When the folder does
// not exist, is not a folder, or cannot be written to, the error says so
// and names the folder.
func Temp(path, pattern string) (*os.File, error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, pattern)
	if err == nil {
		return f, nil
	}
	st, serr := os.Stat(dir)
	switch {
	case errors.Is(serr, fs.ErrNotExist):
		return nil, fmt.Errorf("output folder %s does not exist (create it first)", dir)
	case serr == nil && !st.IsDir():
		return nil, fmt.Errorf("output folder %s is a file, not a folder", dir)
	case errors.Is(err, fs.ErrPermission):
		return nil, fmt.Errorf("output folder %s cannot be written to (permission denied)", dir)
	}
	return nil, fmt.Errorf("write %s: %w", path, err)
}
