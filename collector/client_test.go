package collector_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/client"
)

// TestClient drives the API through package client, the one Go client the
// demo, the load test and the CLI use: typed calls round-trip the domain's
// types, and each problem answer comes back as the *dotm.Error the server
// mapped, with its code and problems.
func TestClient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newAPIEnv(t)
	admin := client.New(a.srv.URL, a.tokens["admin"], nil)

	me, err := admin.Me(ctx)
	if err != nil || me.Name != "admin" || me.Role != dotm.RoleAdmin {
		t.Fatalf("Me: %+v, %v", me, err)
	}
	sv, err := admin.CreateSurvey(ctx, client.SurveyRequest{ID: "cl-2026", Country: "Kenya", Languages: []string{"en", "sw"}})
	if err != nil || sv.ID != "cl-2026" || sv.Country != "Kenya" || len(sv.Languages) != 2 {
		t.Fatalf("CreateSurvey: %+v, %v", sv, err)
	}
	// The same id again: 409 comes back as ECONFLICT.
	_, err = admin.CreateSurvey(ctx, client.SurveyRequest{ID: "cl-2026", Country: "Kenya", Languages: []string{"en"}})
	if code := dotm.ErrorCode(err); code != dotm.ECONFLICT {
		t.Fatalf("duplicate survey: code %s (%v), want conflict", code, err)
	}
	// An invalid survey: 422 with a problem per field.
	_, err = admin.CreateSurvey(ctx, client.SurveyRequest{ID: "bad id", Languages: []string{"EN!"}})
	var de *dotm.Error
	if !errors.As(err, &de) || de.Code != dotm.EUNPROCESSABL {
		t.Fatalf("invalid survey: %v, want unprocessable", err)
	}
	fields := map[string]bool{}
	for _, p := range de.Problems {
		fields[p.Field()] = true
	}
	for _, f := range []string{"id", "country", "languages"} {
		if !fields[f] {
			t.Errorf("invalid survey: no problem about %s in %+v", f, de.Problems)
		}
	}

	// Requests that validate themselves: problems at the item's path.
	_, err = admin.CreateAssignments(ctx, "cl-2026", dotm.AssignmentsRequest{Assignments: []dotm.AssignmentItem{
		{Enumerator: "ana", HouseholdID: "hh-1"}, {Enumerator: "ana", HouseholdID: "bad id"}}})
	if !errors.As(err, &de) || de.Code != dotm.EUNPROCESSABL || len(de.Problems) != 1 || de.Problems[0].Path != "assignments[1].household_id" {
		t.Fatalf("invalid assignments: %v %+v", err, de)
	}
	made, err := admin.CreateAssignments(ctx, "cl-2026", dotm.AssignmentsRequest{Assignments: []dotm.AssignmentItem{{Enumerator: "ana", HouseholdID: "hh-1"}}})
	if err != nil || len(made) != 1 || made[0].ID == "" || made[0].Status != dotm.AssignmentAssigned {
		t.Fatalf("CreateAssignments: %+v, %v", made, err)
	}
	sup := admin.As(a.tokens["sup"])
	listing := dotm.ListingRequest{PSU: "p9", Households: []dotm.ListedHousehold{{HouseholdID: "h1", Class: dotm.NonMigrant}, {HouseholdID: "h1", Class: "migrant"}}}
	err = sup.PostListing(ctx, a.survey, listing)
	if !errors.As(err, &de) || len(de.Problems) != 2 {
		t.Fatalf("invalid listing: %v %+v", err, de)
	}
	listing.Households = listing.Households[:1]
	if err := sup.PostListing(ctx, a.survey, listing); err != nil {
		t.Fatalf("PostListing: %v", err)
	}

	// An enumerator submits: 201 is created, the same content again is an
	// acknowledged retry, a batch answers per item.
	ana := admin.As(a.tokens["ana"])
	env := dotm.Envelope{InstanceID: uuid.NewString(), FormID: a.form, FormVersion: a.ver,
		StartedAt: "2026-03-01T09:00:00Z", EndedAt: "2026-03-01T10:02:03.5Z", Answers: validAnswers("cl"), AssignmentID: "a-ana-1"}
	if created, err := ana.Submit(ctx, env); err != nil || !created {
		t.Fatalf("Submit: created %v, %v", created, err)
	}
	if created, err := ana.Submit(ctx, env); err != nil || created {
		t.Fatalf("Submit again: created %v, %v; want an acknowledged retry", created, err)
	}
	bad := env
	bad.InstanceID = uuid.NewString()
	bad.Answers = map[string]any{"consent": "maybe"}
	_, err = ana.Submit(ctx, bad)
	if !errors.As(err, &de) || de.Code != dotm.EUNPROCESSABL || len(de.Problems) == 0 {
		t.Fatalf("invalid submission: %v, want unprocessable with problems", err)
	}
	ans, err := ana.SubmitBatch(ctx, []dotm.Envelope{env, bad})
	if err != nil || len(ans.Results) != 2 {
		t.Fatalf("SubmitBatch: %+v, %v", ans, err)
	}
	if ans.Results[0].Result != dotm.ResultDuplicate || ans.Results[1].Result != dotm.ResultInvalid || ans.Results[1].Status != http.StatusUnprocessableEntity {
		t.Fatalf("batch results %+v", ans.Results)
	}
	assigned, err := ana.Assignments(ctx, dotm.AssignmentSubmitted)
	if err != nil || len(assigned) != 1 || assigned[0].ID != "a-ana-1" {
		t.Fatalf("Assignments(submitted): %+v, %v", assigned, err)
	}

	// Roles and tokens: 403 and 401 map back too.
	if err := ana.Review(ctx, env.InstanceID, dotm.ReviewRequest{Decision: "approve"}); dotm.ErrorCode(err) != dotm.EFORBIDDEN {
		t.Fatalf("enumerator reviews: %v, want forbidden", err)
	}
	if _, err := admin.As("dotm_not-a-token").Me(ctx); dotm.ErrorCode(err) != dotm.EUNAUTHORIZED {
		t.Fatalf("bad token: %v, want unauthorized", err)
	}
	if err := sup.Review(ctx, env.InstanceID, dotm.ReviewRequest{Decision: "reject"}); dotm.ErrorCode(err) != dotm.EUNPROCESSABL {
		t.Fatalf("reject without comment: %v, want unprocessable", err)
	}
	if err := sup.Review(ctx, env.InstanceID, dotm.ReviewRequest{Decision: "reject", Comment: "ask the age again"}); err != nil {
		t.Fatalf("Review: %v", err)
	}
	returned, err := ana.Assignments(ctx, dotm.AssignmentReturned)
	if err != nil || len(returned) != 1 || returned[0].Comment != "ask the age again" {
		t.Fatalf("returned assignments %+v, %v", returned, err)
	}
}

// TestClientError: an answer without a problem document (a proxy's page,
// say) still maps to the code of its status, with its text as message.
func TestClientError(t *testing.T) {
	for _, c := range []struct {
		r    client.Response
		code dotm.Code
		msg  string
	}{
		{client.Response{Status: 502, Body: []byte("<html>Bad Gateway</html>")}, dotm.EINTERNAL, "<html>Bad Gateway</html>"},
		{client.Response{Status: 503, RetryAfter: 7e9}, dotm.EUNAVAILABLE, "HTTP 503 Service Unavailable"},
		{client.Response{Status: 404, Body: []byte(`{"type":"urn:dotm:problem:not_found","detail":"no survey x"}`)}, dotm.ENOTFOUND, "no survey x"},
		{client.Response{Status: 400, Body: []byte(`{"type":"urn:dotm:problem:too_large","detail":"big"}`)}, dotm.ETOOLARGE, "big"},
	} {
		e := client.Error(c.r)
		if e.Code != c.code || e.Message != c.msg {
			t.Errorf("Error(%d %q) = %s %q, want %s %q", c.r.Status, c.r.Body, e.Code, e.Message, c.code, c.msg)
		}
		if c.r.RetryAfter > 0 && e.RetryAfter != 7 {
			t.Errorf("Retry-After: %d, want 7", e.RetryAfter)
		}
	}
}
