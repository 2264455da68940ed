package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dotm-survey/dotm/mongodb"
)

// env is what every command gets from run: no globals.
type env struct {
	ctx    context.Context
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
}

// command is one `dotm NAME` subcommand. Commands with subcommands of their
// own (users add, users list) dispatch inside run.
type command struct {
	name    string
	summary string
	run     func(e *env, args []string) error
}

// exitError ends the program with a given status (and an optional message),
// for commands whose exit status carries meaning (forms check: 1 = invalid).
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return fmt.Sprintf("exit %d: %s", e.code, e.msg) }

// commands lists every subcommand; keep it sorted by name.
func commands() []command {
	cmds := []command{
		{"analyze", "design-based estimates from a YAML plan, or the migrant indicator report", runAnalyze},
		{"synth", "write a synthetic household survey file (CSV or Parquet)", runSynth},
		{"demo", "run a whole survey round on the embedded store and print a summary", runDemo},
		{"forms", "validate a form (XLSForm, YAML, JSON), check a submission against it, convert it", runForms},
		{"backup", "write every collection to one gzip-compressed backup file (data keys excluded)", runBackup},
		{"restore", "load a backup file into an empty store", runRestore},
		{"loadtest", "simulate enumerators posting submissions to a local dotm serve and report latency", runLoadtest},
		{"dev-mongo", "development only: run the embedded MongoDB-wire server as its own process", runDevMongo},
		{"release", "anonymize tables into a Parquet release with codebook and disclosure report", runRelease},
		{"sample", "allocate and select PSUs (PPS systematic) and households by screening quotas", runSample},
		{"serve", "start the HTTP API (and the embedded store unless --mongo-uri is set)", runServe},
		{"weights", "base weights, nonresponse adjustment, calibration, trimming and the weights report", runWeights},
		{"keys", "generate, rotate or retire the data keys that encrypt identifiers", runKeys},
		{"surveys", "create or list surveys (one country round each)", runSurveys},
		{"users", "add, list or revoke users and their bearer tokens", runUsers},
		{"version", "print dotm's version", runVersion},
	}
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].name < cmds[j].name })
	return cmds
}

// run is the whole program; main only calls it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e := &env{ctx: ctx, getenv: getenv, stdout: stdout, stderr: stderr}
	if len(args) < 2 || args[1] == "help" || args[1] == "-h" || args[1] == "--help" {
		if len(args) >= 3 && args[1] == "help" {
			return run(ctx, []string{args[0], args[2], "--help"}, getenv, stdout, stderr)
		}
		usage(stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == args[1] {
			if err := c.run(e, args[2:]); err != errHelp {
				return err
			}
			return nil
		}
	}
	usage(stderr)
	return exitError{code: 2, msg: fmt.Sprintf("unknown command %q", args[1])}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "dotm runs a household migration survey end to end.")
	fmt.Fprintln(w, "\nUsage: dotm COMMAND [flags]   (dotm COMMAND --help for its flags and an example)")
	fmt.Fprintln(w, "\nCommands:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range commands() {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
}

// subcommand is one `dotm GROUP NAME` command (users add, sample psus, …).
type subcommand struct {
	name    string
	summary string
	run     func(e *env, args []string) error
}

// dispatch runs the subcommand of group that args[0] names. Without
// arguments, or with --help, it prints the group's usage: each subcommand
// with its summary, an optional note and the examples.
func dispatch(e *env, group string, subs []subcommand, note, example string, args []string) error {
	names := make([]string, len(subs))
	for i, s := range subs {
		names[i] = s.name
	}
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" || args[0] == "help" {
		fmt.Fprintf(e.stdout, "Usage: dotm %s %s [flags]   (dotm %s SUBCOMMAND --help for its flags)\n\n", group, strings.Join(names, "|"), group)
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		for _, s := range subs {
			fmt.Fprintf(tw, "  %s\t%s\n", s.name, s.summary)
		}
		tw.Flush()
		if note != "" {
			fmt.Fprintf(e.stdout, "\n%s\n", note)
		}
		fmt.Fprintf(e.stdout, "\nExample:\n  %s\n", strings.ReplaceAll(example, "\n", "\n  "))
		return nil
	}
	for _, s := range subs {
		if s.name == args[0] {
			return s.run(e, args[1:])
		}
	}
	return exitError{code: 2, msg: fmt.Sprintf("%s: unknown subcommand %q (%s)", group, args[0], strings.Join(names, ", "))}
}

// newFlags makes a flag set whose --help prints what the command does, its
// flags and an example.
func newFlags(e *env, name, synopsis, example string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: dotm %s\n\n", synopsis)
		fmt.Fprintln(out, "Flags:")
		fs.PrintDefaults()
		if example != "" {
			fmt.Fprintf(out, "\nExample:\n  %s\n", strings.ReplaceAll(example, "\n", "\n  "))
		}
	}
	return fs
}

// parseFlags parses args; --help prints usage to stdout and ends the command
// successfully (errHelp), a bad flag is a usage error (exit 2).
func parseFlags(e *env, fs *flag.FlagSet, args []string) error {
	// The flag package prints the usage itself, on --help and on a bad
	// flag: catch it, then send it to stdout (help asked for) or stderr
	// (a mistake), once.
	var buf bytes.Buffer
	out := fs.Output()
	fs.SetOutput(&buf)
	err := fs.Parse(args)
	fs.SetOutput(out)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			e.stdout.Write(buf.Bytes())
			return errHelp
		}
		out.Write(buf.Bytes())
		return exitError{code: 2}
	}
	return nil
}

// errHelp ends a command after --help; run's callers treat it as success.
var errHelp = exitError{code: 0}

// storeFlags are the flags of every command that touches the store.
type storeFlags struct {
	dataDir  string
	mongoURI string
}

func addStoreFlags(e *env, fs *flag.FlagSet) *storeFlags {
	sf := &storeFlags{}
	fs.StringVar(&sf.dataDir, "data-dir", envOr(e, "DOTM_DATA_DIR", "data"), "directory of the embedded store (env DOTM_DATA_DIR)")
	fs.StringVar(&sf.mongoURI, "mongo-uri", e.getenv("DOTM_MONGO_URI"), "MongoDB URI; empty starts the embedded store (env DOTM_MONGO_URI)")
	return sf
}

func (sf *storeFlags) open(e *env) (*mongodb.Store, error) {
	return mongodb.Open(e.ctx, mongodb.Config{URI: sf.mongoURI, DataDir: sf.dataDir, ConnectTimeout: 10 * time.Second})
}

func envOr(e *env, key, def string) string {
	if v := e.getenv(key); v != "" {
		return v
	}
	return def
}

// isTerminal reports whether w is a terminal, for progress output.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// with opens the store, runs fn with it and closes it: the one preamble of
// every command that works on the store.
func (sf *storeFlags) with(e *env, fn func(*mongodb.Store) error) error {
	store, err := sf.open(e)
	if err != nil {
		return err
	}
	defer store.Close(e.ctx)
	return fn(store)
}
