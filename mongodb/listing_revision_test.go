package mongodb

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dotm-survey/dotm"
)

// A listing stored on condition of a revision is refused when another
// listing of the PSU came first: the permission checked on the old revision
// does not carry over to the new one.
func TestPutListingIfRevision(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	at := time.Now().UTC().Truncate(time.Millisecond)
	listing := func(by string) dotm.Listing {
		return dotm.Listing{Survey: "rev-test", PSU: "psu-7", Stratum: "s", SubmittedBy: by, SubmittedAt: at,
			Households: []dotm.ListedHousehold{{HouseholdID: "h-" + by, Class: dotm.NonMigrant}}}
	}
	// ana checked "nobody listed psu-7" (revision 0); kofi lists it first.
	if rev, err := s.PutListing(ctx, listing("kofi"), 0); err != nil || rev != 1 {
		t.Fatalf("first listing: revision %d, %v", rev, err)
	}
	_, err := s.PutListing(ctx, listing("ana"), 0)
	var de *dotm.Error
	if !errors.As(err, &de) || de.Code != dotm.ECONFLICT {
		t.Fatalf("listing on a stale revision: %v, want a conflict", err)
	}
	ls, err := s.Listings(ctx, "rev-test")
	if err != nil || len(ls) != 1 || ls[0].SubmittedBy != "kofi" || ls[0].Revision != 1 {
		t.Fatalf("after the refused replacement: %+v, %v", ls, err)
	}
	// On the revision it read, the replacement goes through; AnyRevision
	// (a supervisor's correction) replaces whatever is there.
	if rev, err := s.PutListing(ctx, listing("kofi"), 1); err != nil || rev != 2 {
		t.Fatalf("correction on revision 1: %d, %v", rev, err)
	}
	if rev, err := s.PutListing(ctx, listing("sup"), dotm.AnyRevision); err != nil || rev != 3 {
		t.Fatalf("supervisor's correction: %d, %v", rev, err)
	}
}

// Corrections of one PSU's listing sent at once each get their own
// revision: none overwrites another that it did not read.
func TestPutListingConcurrentCorrections(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	at := time.Now().UTC().Truncate(time.Millisecond)
	l := dotm.Listing{Survey: "race", PSU: "psu-1", Stratum: "s", SubmittedBy: "sup", SubmittedAt: at,
		Households: []dotm.ListedHousehold{{HouseholdID: "h1", Class: dotm.NonMigrant}}}
	if _, err := s.PutListing(ctx, l, dotm.AnyRevision); err != nil {
		t.Fatal(err)
	}
	const n = 6
	revs := make(chan int, n)
	errs := make(chan error, n)
	for range n {
		go func() {
			rev, err := s.PutListing(ctx, l, dotm.AnyRevision)
			revs <- rev
			errs <- err
		}()
	}
	seen := map[int]bool{}
	for range n {
		if err := <-errs; err != nil {
			var de *dotm.Error
			if !errors.As(err, &de) || de.Code != dotm.ECONFLICT {
				t.Fatal(err)
			}
		}
		if rev := <-revs; rev != 0 {
			if seen[rev] {
				t.Fatalf("revision %d written twice", rev)
			}
			seen[rev] = true
		}
	}
	ls, err := s.Listings(ctx, "race")
	if err != nil || len(ls) != 1 || ls[0].Revision != 1+len(seen) {
		t.Fatalf("final listing %+v (%v), %d corrections stored", ls, err, len(seen))
	}
}
