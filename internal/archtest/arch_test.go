package archtest

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/dotm-survey/dotm"

type listed struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// goList runs `go list -json -deps=false` on the whole module and returns
// each package's direct imports and its transitive dependencies.
func goList(t *testing.T) map[string]listed {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", module+"/...")
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]listed{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p listed
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs[strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")] = p
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages in the module; expected the whole module", len(pkgs))
	}
	return pkgs
}

func hasPrefix(list []string, prefix string) string {
	for _, s := range list {
		if s == prefix || strings.HasPrefix(s, prefix+"/") {
			return s
		}
	}
	return ""
}

// TestArchitectureImports checks the import rules of docs/ARCHITECTURE.md.
func TestArchitectureImports(t *testing.T) {
	pkgs := goList(t)
	const (
		gin     = "github.com/gin-gonic/gin"
		driver  = "go.mongodb.org/mongo-driver"
		ferret  = "github.com/FerretDB/FerretDB"
		plotPkg = "gonum.org/v1/plot"
	)
	// Pure packages: neither gin nor the driver nor FerretDB anywhere in
	// their dependencies.
	for _, name := range []string{"", "round", "client", "questionnaire", "sampling", "analysis", "exports", "synth", "fieldsim", "dataset", "quality"} {
		p, ok := pkgs[name]
		if !ok {
			t.Errorf("package %s is gone: update docs/ARCHITECTURE.md and this test", pkgName(name))
			continue
		}
		for _, banned := range []string{gin, driver, ferret} {
			if d := hasPrefix(p.Deps, banned); d != "" {
				t.Errorf("%s depends on %s; it must stay free of HTTP and storage code", pkgName(name), d)
			}
		}
	}
	// Only mongodb (and its test harness) imports the driver or FerretDB directly.
	for name, p := range pkgs {
		for _, banned := range []string{driver, ferret} {
			if d := hasPrefix(p.Imports, banned); d != "" && name != "mongodb" && name != "mongodb/mongotest" {
				t.Errorf("%s imports %s; only package mongodb may", name, d)
			}
		}
		if d := hasPrefix(p.Imports, gin); d != "" && name != "collector" && name != "cmd/dotm" && name != "webclient" {
			t.Errorf("%s imports %s; only collector, webclient (its middleware) and cmd/dotm may", name, d)
		}
	}
	// The store implements the domain's interfaces and knows nothing of HTTP:
	// no gin, no HTTP edge, no web client anywhere in its dependencies.
	for _, name := range []string{"", "mongodb"} {
		for _, banned := range []string{gin, module + "/collector", module + "/webclient", module + "/round"} {
			if d := hasPrefix(pkgs[name].Deps, banned); d != "" {
				t.Errorf("%s depends on %s; storage and domain must not know the HTTP edge", pkgName(name), d)
			}
		}
	}
	// The domain draws no charts and computes no statistics.
	for _, banned := range []string{plotPkg, module + "/analysis", module + "/questionnaire"} {
		if d := hasPrefix(pkgs[""].Deps, banned); d != "" {
			t.Errorf("the domain package dotm depends on %s", d)
		}
	}
	// sampling and questionnaire do not draw charts.
	for _, name := range []string{"sampling", "questionnaire"} {
		if d := hasPrefix(pkgs[name].Deps, plotPkg); d != "" {
			t.Errorf("%s depends on %s", name, d)
		}
	}
}

// pkgName names a package by its path in the module; "" is the root, dotm.
func pkgName(name string) string {
	if name == "" {
		return "dotm (the module root)"
	}
	return name
}
