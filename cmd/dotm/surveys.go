package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/mongodb"
)

func runSurveys(e *env, args []string) error {
	return dispatch(e, "surveys", []subcommand{
		{"create", "create a survey (one country round)", runSurveysCreate},
		{"list", "list surveys", runSurveysList},
	}, "", "dotm surveys create --id gh-2026 --country Ghana --language en", args)
}

func runSurveysCreate(e *env, args []string) error {
	fs := newFlags(e, "surveys create", "surveys create --id ID --country NAME --language CODE... [--title TITLE]",
		"dotm surveys create --id gh-2026 --country Ghana --language en --title \"Development on the Move: Ghana\"")
	id := fs.String("id", "", "survey id: letters, digits, '.', '_' or '-'")
	country := fs.String("country", "", "the country")
	title := fs.String("title", "", "a title")
	var langs surveyList
	fs.Var(&langs, "language", "a language code of the interviews (repeat, or comma-separated)")
	sf := addStoreFlags(e, fs)
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	var languages []string
	for _, l := range langs {
		for _, p := range strings.Split(l, ",") {
			if p = strings.TrimSpace(p); p != "" {
				languages = append(languages, p)
			}
		}
	}
	sv, err := dotm.NewSurvey(*id, *country, *title, languages, cliActor(e), time.Now())
	if err != nil {
		var ce *dotm.Error
		if !errors.As(err, &ce) {
			return err
		}
		// The flag that sets each field of the survey.
		flagOf := map[string]string{"id": "--id", "country": "--country", "title": "--title", "languages": "--language"}
		var msgs []string
		for _, p := range ce.Problems {
			msgs = append(msgs, flagOf[p.Field()]+": "+p.Message)
		}
		return exitError{code: 2, msg: "surveys create: " + strings.Join(msgs, "; ")}
	}
	return sf.with(e, func(store *mongodb.Store) error {
		if err := store.CreateSurvey(e.ctx, sv); err != nil {
			return fmt.Errorf("surveys create: %w", err)
		}
		fmt.Fprintf(e.stdout, "survey %s (%s, %s) created\n", sv.ID, sv.Country, strings.Join(sv.Languages, ","))
		return nil
	})
}

func runSurveysList(e *env, args []string) error {
	fs := newFlags(e, "surveys list", "surveys list", "dotm surveys list --data-dir ./data")
	sf := addStoreFlags(e, fs)
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	return sf.with(e, func(store *mongodb.Store) error {
		list, err := store.Surveys(e.ctx)
		if err != nil {
			return fmt.Errorf("surveys list: %w", err)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tCOUNTRY\tLANGUAGES\tTITLE\tCREATED")
		for _, s := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.ID, s.Country, strings.Join(s.Languages, ","), s.Title, s.CreatedAt.Format("2006-01-02"))
		}
		return tw.Flush()
	})
}
