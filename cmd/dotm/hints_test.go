package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// dotmMention is "dotm" followed by words, as a hint or an example names a
// command: "dotm weights base", "./dotm serve --addr", "(dotm surveys list".
var dotmMention = regexp.MustCompile(`(?:^|[^A-Za-z0-9_.-])dotm((?: +[a-z][a-z0-9-]*)+)( +--?[a-z])?`)

// hintsInSources returns every string literal of the module's Go sources
// (tests excluded) that mentions dotm followed by words, with where it is.
func hintsInSources(t *testing.T) map[string][]string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	found := map[string][]string{} // literal text → positions
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil || !dotmMention.MatchString(s) {
				return true
			}
			pos := fset.Position(lit.Pos())
			rel, _ := filepath.Rel(root, pos.Filename)
			found[s] = append(found[s], rel+":"+strconv.Itoa(pos.Line))
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// usageWords is what a command's --help says may follow its name: the
// subcommands of a group ("base|nonresponse|…") or a fixed word ("synth
// households"); nil when flags or arguments follow.
func usageWords(t *testing.T, cmd string) []string {
	t.Helper()
	out, _, err := runDotm(t, cmd, "--help")
	if err != nil {
		t.Fatalf("dotm %s --help: %v", cmd, err)
	}
	first, _, _ := strings.Cut(out, "\n")
	rest, ok := strings.CutPrefix(first, "Usage: dotm "+cmd+" ")
	if !ok {
		return nil
	}
	word, _, _ := strings.Cut(rest, " ")
	if !regexp.MustCompile(`^[a-z][a-z0-9-]*(\|[a-z][a-z0-9-]*)*$`).MatchString(word) {
		return nil
	}
	return strings.Split(word, "|")
}

// TestHintsNameRealCommands: every string in the sources that names a
// dotm command (error hints, usage examples, summaries) names one that
// exists: `dotm PATH --help` succeeds and prints PATH's usage. "dotm"
// followed by a word that is not a command is prose ("a dotm process"),
// unless flags follow it, which makes it a command that does not exist.
func TestHintsNameRealCommands(t *testing.T) {
	top := map[string]bool{}
	for _, c := range commands() {
		top[c.name] = true
	}
	subs := map[string][]string{}
	for name := range top {
		subs[name] = usageWords(t, name)
	}
	paths := map[string][]string{} // command path → where it is named
	var prose []string
	for s, where := range hintsInSources(t) {
		for _, m := range dotmMention.FindAllStringSubmatch(s, -1) {
			words := strings.Fields(m[1])
			if !top[words[0]] {
				if m[2] != "" && len(words) == 1 { // "dotm nope --flag"
					paths[words[0]] = append(paths[words[0]], where...)
				} else {
					prose = append(prose, "dotm"+m[1])
				}
				continue
			}
			path := words[0]
			if len(subs[path]) > 0 && len(words) > 1 {
				path += " " + words[1]
			}
			paths[path] = append(paths[path], where...)
		}
	}
	var names []string
	for p := range paths {
		names = append(names, p)
	}
	sort.Strings(names)
	if len(names) < 20 {
		t.Errorf("found only %d command paths in the sources: %v", len(names), names)
	}
	for _, p := range names {
		words := strings.Fields(p)
		out, _, err := runDotm(t, append(words, "--help")...)
		if err != nil || !strings.Contains(out, "Usage: dotm "+p) {
			t.Errorf("dotm %s (named at %s) is not a command: --help gave %v\n%s", p, strings.Join(paths[p], ", "), err, out)
		}
	}
	sort.Strings(prose)
	t.Logf("command paths named in the sources (%d): %s", len(names), strings.Join(names, "; "))
	t.Logf("prose, not commands: %q", prose)
}
