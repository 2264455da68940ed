package outfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTemp(t *testing.T) {
	dir := t.TempDir()
	f, err := Temp(filepath.Join(dir, "out.csv"), ".out.csv.*.tmp")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if filepath.Dir(f.Name()) != dir || !strings.HasPrefix(filepath.Base(f.Name()), ".out.csv.") {
		t.Errorf("temporary file %s, want .out.csv.* in %s", f.Name(), dir)
	}

	missing := filepath.Join(dir, "missing", "dir")
	_, err = Temp(filepath.Join(missing, "file.csv"), ".file.csv.*.tmp")
	if want := "output folder " + missing + " does not exist (create it first)"; err == nil || err.Error() != want {
		t.Errorf("missing folder: err = %v, want %s", err, want)
	}

	file := filepath.Join(dir, "plain")
	os.WriteFile(file, nil, 0o644)
	_, err = Temp(filepath.Join(file, "x.csv"), ".x.*")
	if want := "output folder " + file + " is a file, not a folder"; err == nil || err.Error() != want {
		t.Errorf("file as folder: err = %v, want %s", err, want)
	}
}
