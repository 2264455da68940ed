package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/dotm-survey/dotm/loadtest"
)

func runLoadtest(e *env, args []string) error {
	if len(args) > 0 && args[0] == "scale" {
		return runLoadtestScale(e, args[1:])
	}
	fs := newFlags(e, "loadtest", "loadtest --url http://127.0.0.1:PORT --token-file FILE --enumerators N --duration D",
		"dotm serve --addr 127.0.0.1:8080 --data-dir ./data-load --insecure-dev-key &\n"+
			"dotm users add --data-dir ./data-load --name load-admin --role admin > admin.token\n"+
			"dotm loadtest --url http://127.0.0.1:8080 --token-file admin.token --enumerators 32 --duration 30s\n"+
			"# with an admin token, loadtest creates the survey \"loadtest\", uploads the household form\n"+
			"# and adds one enumerator per simulated enumerator; a file of enumerator tokens is used as is")
	url := fs.String("url", "", "base URL of a dotm API on this machine (loopback addresses only)")
	tokenFile := fs.String("token-file", "", "file of bearer tokens, one per line: enumerators' tokens, or one admin token")
	n := fs.Int("enumerators", 8, fmt.Sprintf("concurrent simulated enumerators (1 to %d)", loadtest.MaxEnumerators))
	dur := fs.Duration("duration", 30*time.Second, "how long to start new submissions (at most 1h)")
	maxSubs := fs.Int("max-submissions", loadtest.DefaultMaxCount, "stop after this many submissions")
	share := fs.Float64("batch-share", 0.2, "share of posts sent as a batch (0 to 1; negative for none)")
	size := fs.Int("batch-size", 20, "submissions per batch (1 to 500)")
	retry := fs.Duration("retry-window", 30*time.Second, "how long an unacknowledged post is retried")
	seed := fs.Uint64("seed", 1, "seed of the generated submissions")
	survey := fs.String("survey", "loadtest", "survey to set up when the token is an admin's")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if *url == "" || *tokenFile == "" || fs.NArg() > 0 {
		return exitError{code: 2, msg: "loadtest: give --url and --token-file"}
	}
	if err := loadtest.CheckURL(*url); err != nil {
		return exitError{code: 2, msg: err.Error()}
	}
	if *share == 0 {
		*share = -1 // the flag's 0 means none; the package's 0 means its default
	}
	b, err := os.ReadFile(*tokenFile)
	if err != nil {
		return fmt.Errorf("loadtest: %w", err)
	}
	tokens := strings.Fields(string(b))
	if len(tokens) == 0 {
		return exitError{code: 2, msg: "loadtest: " + *tokenFile + " holds no token"}
	}
	role, err := loadtest.Role(e.ctx, nil, *url, tokens[0])
	if err != nil {
		return err
	}
	switch role {
	case "admin":
		prefix := fmt.Sprintf("lt%d", time.Now().Unix())
		fmt.Fprintf(e.stderr, "admin token: setting up survey %s with %d enumerators %s-001…\n", *survey, *n, prefix)
		tokens, err = loadtest.Setup(e.ctx, nil, *url, tokens[0], *survey, prefix, *n)
		if err != nil {
			return err
		}
	case "enumerator":
	default:
		return exitError{code: 2, msg: fmt.Sprintf("loadtest: the first token belongs to a %s; give enumerators' tokens or an admin's", role)}
	}
	if isTerminal(e.stderr) {
		fmt.Fprintf(e.stderr, "loadtest: %d enumerators for %s against %s…\n", *n, *dur, *url)
	}
	rep, err := loadtest.Run(e.ctx, loadtest.Config{
		URL: *url, Tokens: tokens, Enumerators: *n, Duration: *dur, MaxSubmissions: *maxSubs,
		BatchShare: *share, BatchSize: *size, RetryWindow: *retry, Seed: *seed,
	})
	if err != nil {
		return exitError{code: 2, msg: err.Error()}
	}
	rep.Write(e.stdout)
	if rep.ServerErrors > 0 || rep.Unacknowledged > 0 || rep.Rejected > 0 {
		return exitError{code: 1, msg: fmt.Sprintf("loadtest: %d server errors, %d submissions unacknowledged, %d rejected", rep.ServerErrors, rep.Unacknowledged, rep.Rejected)}
	}
	return nil
}
