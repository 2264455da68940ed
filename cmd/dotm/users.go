package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/mongodb"
)

func runUsers(e *env, args []string) error {
	return dispatch(e, "users", []subcommand{
		{"add", "create a user and print its bearer token once", runUsersAdd},
		{"list", "list users", runUsersList},
		{"revoke", "revoke a user's token", runUsersRevoke},
	}, "", "dotm users add --name ana --role enumerator --survey gh-2026", args)
}

// surveyList collects repeated --survey flags.
type surveyList []string

func (s *surveyList) String() string     { return strings.Join(*s, ",") }
func (s *surveyList) Set(v string) error { *s = append(*s, v); return nil }

func runUsersAdd(e *env, args []string) error {
	fs := newFlags(e, "users add", "users add --name NAME --role ROLE [--survey ID]...",
		"dotm users add --name ana --role enumerator --survey gh-2026")
	name := fs.String("name", "", "user name (unique)")
	role := fs.String("role", "", "enumerator, supervisor, statistician, researcher or admin")
	var surveys surveyList
	fs.Var(&surveys, "survey", "survey the user may work on (repeat; none = all)")
	sf := addStoreFlags(e, fs)
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if *name == "" {
		return exitError{code: 2, msg: "users add: --name is required"}
	}
	r, err := dotm.ParseRole(*role)
	if err != nil {
		var de *dotm.Error
		if !errors.As(err, &de) {
			return err
		}
		return exitError{code: 2, msg: "users add: --role: " + de.Message}
	}
	return sf.with(e, func(store *mongodb.Store) error {
		problems, err := dotm.CheckScope(e.ctx, store, surveys)
		if err != nil {
			return fmt.Errorf("users add: %w", err)
		}
		if len(problems) > 0 {
			var msgs []string
			for _, p := range problems {
				var i int
				if _, err := fmt.Sscanf(p.Path, "surveys[%d]", &i); err != nil || i >= len(surveys) {
					return fmt.Errorf("users add: %s: %s", p.Path, p.Message)
				}
				msgs = append(msgs, fmt.Sprintf("--survey %q: %s", surveys[i], p.Message))
			}
			return exitError{code: 2, msg: "users add: " + strings.Join(msgs, "; ")}
		}
		token, hash, err := dotm.NewToken()
		if err != nil {
			return err
		}
		if err := store.AddUser(e.ctx, dotm.User{Name: *name, Role: r, Surveys: surveys}, hash); err != nil {
			return fmt.Errorf("users add: %w", err)
		}
		fmt.Fprintf(e.stderr, "user %s (%s) added; the token is shown only this once:\n", *name, r)
		fmt.Fprintln(e.stdout, token)
		return nil
	})
}

func runUsersList(e *env, args []string) error {
	fs := newFlags(e, "users list", "users list", "dotm users list --data-dir ./data")
	sf := addStoreFlags(e, fs)
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	return sf.with(e, func(store *mongodb.Store) error {
		users, err := store.Users(e.ctx)
		if err != nil {
			return fmt.Errorf("users list: %w", err)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tSURVEYS\tCREATED\tSTATUS")
		for _, u := range users {
			status, surveys := "active", strings.Join(u.Surveys, ",")
			if u.Revoked {
				status = "revoked"
			}
			if surveys == "" {
				surveys = "(all)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, surveys, u.CreatedAt.Format("2006-01-02 15:04"), status)
		}
		return tw.Flush()
	})
}

func runUsersRevoke(e *env, args []string) error {
	fs := newFlags(e, "users revoke", "users revoke NAME", "dotm users revoke ana")
	sf := addStoreFlags(e, fs)
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if fs.NArg() < 1 {
		return exitError{code: 2, msg: "users revoke: give exactly one user name"}
	}
	name := fs.Arg(0)
	// Flags may follow the name too: dotm users revoke ana --data-dir D.
	if err := parseFlags(e, fs, fs.Args()[1:]); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return exitError{code: 2, msg: "users revoke: give exactly one user name"}
	}
	return sf.with(e, func(store *mongodb.Store) error {
		if err := store.RevokeUser(e.ctx, name); err != nil {
			return fmt.Errorf("users revoke: %w", err)
		}
		fmt.Fprintf(e.stdout, "user %s revoked\n", name)
		return nil
	})
}
