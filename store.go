package dotm

import (
	"context"
	"time"
)

// This file declares the records the API keeps and the small storage
// interfaces it needs; package mongodb implements them. A method returns an
// *Error with ENOTFOUND for a missing record and ECONFLICT for a duplicate key.

// Survey is one country round of the survey.
type Survey struct {
	ID        string    `json:"id"`
	Country   string    `json:"country"`
	Title     string    `json:"title,omitempty"`
	Languages []string  `json:"languages"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by,omitempty"`
}

// SurveyStore keeps surveys.
//
// CreateSurvey stores a new survey (ECONFLICT when the id exists); Survey
// finds one by id (ENOTFOUND); Surveys lists all, sorted by id.
type SurveyStore interface {
	CreateSurvey(ctx context.Context, s Survey) error
	Survey(ctx context.Context, id string) (Survey, error)
	Surveys(ctx context.Context) ([]Survey, error)
}

// FormVersion is one uploaded, immutable version of a form.
type FormVersion struct {
	FormID     string    `json:"form_id"`
	Version    string    `json:"version"`
	Survey     string    `json:"survey"`
	Title      string    `json:"title,omitempty"`
	Format     string    `json:"format"` // what was uploaded: xlsx, yaml or json
	JSON       []byte    `json:"-"`      // the form as JSON, what clients download
	ETag       string    `json:"etag"`   // quoted SHA-256 of JSON
	UploadedAt time.Time `json:"uploaded_at"`
	UploadedBy string    `json:"uploaded_by"`
	// Media are the files uploaded with the version that the form reads
	// (select_one_from_file, pulldata(), csv-external, label images), in
	// name order; they are part of the immutable version.
	Media []MediaFile `json:"media,omitempty"`
	// MissingMedia names files the form reads that were not uploaded: the
	// version is accepted (as ODK Central accepts a form whose
	// attachments are missing), but ODK Collect cannot open the questions
	// that read them.
	MissingMedia []string `json:"missing_media,omitempty"`
}

// MediaFile is one media file of a form version.
type MediaFile struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	MD5         string `json:"md5"` // hex MD5 of Data, as OpenRosa manifests give it
	Size        int    `json:"size"`
	Data        []byte `json:"-"`
}

// FormStore keeps form versions; a stored version never changes.
//
// AddFormVersion stores a version (ECONFLICT when form id and version exist);
// FormVersion finds one (ENOTFOUND); FormVersions lists the versions of a
// form (formID set) or of a survey's forms (survey set), oldest upload first,
// their media listed without Data (FormVersion gives the files' bytes).
type FormStore interface {
	AddFormVersion(ctx context.Context, v FormVersion) error
	FormVersion(ctx context.Context, formID, version string) (FormVersion, error)
	FormVersions(ctx context.Context, formID, survey string) ([]FormVersion, error)
}

// AssignmentStatus is where an assignment stands.
type AssignmentStatus string

// The assignment statuses.
const (
	AssignmentAssigned  AssignmentStatus = "assigned"  // waiting for the interview
	AssignmentSubmitted AssignmentStatus = "submitted" // a submission waits for review
	AssignmentReturned  AssignmentStatus = "returned"  // rejected: needs a correction
	AssignmentApproved  AssignmentStatus = "approved"  // done
)

// Assignment is one household an enumerator must interview.
type Assignment struct {
	ID           string           `json:"id"`
	Survey       string           `json:"survey"`
	Enumerator   string           `json:"enumerator"`
	Supervisor   string           `json:"supervisor,omitempty"`
	HouseholdID  string           `json:"household_id"`
	Stratum      string           `json:"stratum,omitempty"`
	PSU          string           `json:"psu,omitempty"`
	FormID       string           `json:"form_id,omitempty"`
	Status       AssignmentStatus `json:"status"`
	Comment      string           `json:"comment,omitempty"`       // the last review comment
	SubmissionID string           `json:"submission_id,omitempty"` // the latest submission
	CreatedAt    time.Time        `json:"created_at"`
	UpdatedAt    time.Time        `json:"updated_at"`
}

// AssignmentFilter selects assignments; empty fields match everything.
type AssignmentFilter struct {
	Surveys    []string // any of these surveys (scope)
	Survey     string
	Enumerator string
	Status     AssignmentStatus
	After      string // only ids greater than this (pagination)
	Limit      int    // at most this many, 0 = no limit
}

// AssignmentStore keeps assignments.
//
// AddAssignments inserts many at once (the sampling step creates a whole
// sample this way): every assignment whose id is new is stored, and the
// result is an ECONFLICT naming the ids that already existed, if any.
// Assignment finds one by id (ENOTFOUND). Assignments lists those matching f,
// sorted by id. MoveAssignment sets status, submission id and comment of
// assignment id if its status is one of from (ECONFLICT otherwise).
type AssignmentStore interface {
	AddAssignments(ctx context.Context, as []Assignment) error
	Assignment(ctx context.Context, id string) (Assignment, error)
	Assignments(ctx context.Context, f AssignmentFilter) ([]Assignment, error)
	MoveAssignment(ctx context.Context, id string, from []AssignmentStatus, to AssignmentStatus, submissionID, comment string) error
}

// SubmissionStatus is where a submission stands in review.
type SubmissionStatus string

// The submission statuses.
const (
	SubmissionReceived SubmissionStatus = "received" // waiting for review
	SubmissionApproved SubmissionStatus = "approved"
	SubmissionRejected SubmissionStatus = "rejected"
)

// SealedValue is one encrypted answer to a direct question: AES-256-GCM of
// the value's JSON under key KeyID, with the submission id and Path as
// additional data so that a value cannot be moved to another place.
type SealedValue struct {
	Path       string // e.g. "respondent_name" or "members[2].member_name"
	KeyID      string
	Nonce      []byte
	Ciphertext []byte
}

// Review is one supervisor decision on a submission.
type Review struct {
	Decision string    `json:"decision"` // approve or reject
	Comment  string    `json:"comment,omitempty"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
}

// Submission is a stored interview. Answers holds every answer except those
// to direct questions, which are only in Sealed.
type Submission struct {
	ID           string // the instance id
	Survey       string
	FormID       string
	FormVersion  string
	AssignmentID string
	Enumerator   string
	Supersedes   string // the rejected submission this one corrects
	SupersededBy string // the correction of this one, once there is one
	StartedAt    time.Time
	EndedAt      time.Time
	ReceivedAt   time.Time
	Status       SubmissionStatus
	Answers      map[string]any
	Sealed       []SealedValue
	Reviews      []Review // oldest first
	// Flags are the quality flags found when it was received (the Flag*
	// constants).
	Flags []string
}

// SubmissionFilter selects submissions; empty fields match everything.
type SubmissionFilter struct {
	Surveys    []string // any of these surveys (scope)
	Survey     string
	Status     SubmissionStatus
	Enumerator string
	FormID     string
	After      string // only ids greater than this (pagination)
	Limit      int    // at most this many, 0 = no limit
}

// SubmissionStore keeps submissions. Submissions are keyed by instance id,
// so a second insert of the same id fails whatever the timing.
//
// InsertSubmission stores s once the database acknowledges it (ECONFLICT
// when s.ID exists). InsertSubmissions does the same for many, in one round
// trip, and answers one error (nil, ECONFLICT or other) per item. Submission
// finds one by id (ENOTFOUND). Submissions lists those matching f in id
// order, without Answers and Sealed. ReviewSubmission appends r and moves a
// submission from received to status, returning it (ENOTFOUND, or ECONFLICT
// when it is not waiting for review). MarkSuperseded records that id was
// corrected by newID.
type SubmissionStore interface {
	InsertSubmission(ctx context.Context, s Submission) error
	InsertSubmissions(ctx context.Context, ss []Submission) []error
	Submission(ctx context.Context, id string) (Submission, error)
	Submissions(ctx context.Context, f SubmissionFilter) ([]Submission, error)
	ReviewSubmission(ctx context.Context, id string, r Review, status SubmissionStatus) (Submission, error)
	MarkSuperseded(ctx context.Context, id, newID string) error
}

// Resealer lets key rotation walk the encrypted values.
//
// SealedSubmissions calls fn with the id and sealed values of every
// submission that has a value under a key other than keep; Reseal replaces
// the sealed values of submission id. SealedAttachments calls fn with
// every attachment record whose key is sealed under a key other than keep;
// ResealAttachment replaces the sealed key of one (ENOTFOUND when gone).
type Resealer interface {
	SealedSubmissions(ctx context.Context, keep string, fn func(id string, sealed []SealedValue) error) error
	Reseal(ctx context.Context, id string, sealed []SealedValue) error
	SealedAttachments(ctx context.Context, keep string, fn func(a Attachment) error) error
	ResealAttachment(ctx context.Context, a Attachment, key SealedValue) error
}

// HouseholdClass is the screening result of a listed household.
type HouseholdClass string

// The screening classes (DESIGN.md, "Sampling and weights").
const (
	CurrentMigrant HouseholdClass = "current_migrant" // a member now abroad
	ReturnMigrant  HouseholdClass = "return_migrant"  // a member came back
	NonMigrant     HouseholdClass = "non_migrant"
)

// ListedHousehold is one household found when listing a PSU.
type ListedHousehold struct {
	HouseholdID string         `json:"household_id"`
	Class       HouseholdClass `json:"class"`
}

// Listing is the screened household listing of one PSU.
type Listing struct {
	Survey      string            `json:"survey"`
	PSU         string            `json:"psu"`
	Stratum     string            `json:"stratum,omitempty"`
	Households  []ListedHousehold `json:"households"`
	SubmittedBy string            `json:"submitted_by"`
	SubmittedAt time.Time         `json:"submitted_at"`
	Revision    int               `json:"revision"`            // 1 for the first listing, +1 per correction
	ListedBy    string            `json:"listed_by,omitempty"` // who made revision 1 (set by the store)
}

// AnyRevision tells PutListing to replace whatever revision is stored.
const AnyRevision = -1

// ListingStore keeps one listing per survey and PSU.
//
// PutListing stores l, replacing an earlier listing of the same PSU and
// returning the stored revision. When ifRevision is not AnyRevision, it
// stores l only if the PSU's current revision is ifRevision (0: not listed
// yet) and answers ECONFLICT otherwise, so that a permission checked on one
// revision cannot be used to replace another. Listings returns a survey's
// listings by PSU.
type ListingStore interface {
	PutListing(ctx context.Context, l Listing, ifRevision int) (int, error)
	Listings(ctx context.Context, survey string) ([]Listing, error)
}

// AuditFilter selects audit entries; empty fields match everything.
type AuditFilter struct {
	Action  string
	Actor   string
	Survey  string
	Surveys []string  // only entries of these surveys (a scope); empty: all
	Before  time.Time // only entries older (pagination) …
	// … or, with BeforeID, as old and with a smaller id: entries recorded
	// in the same instant are neither skipped nor repeated across pages.
	BeforeID string
	Limit    int
}

// AuditLog reads the audit trail, newest first.
type AuditLog interface {
	AuditEntries(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
}

// AssignmentID is the id of the assignment of a sampled household:
// survey:psu:household. ':' is in none of the three ids (IDPattern), so the
// id is unambiguous across surveys and PSUs, and no hand-made assignment id
// (IDPattern too) can take it. Ids drawn before were survey.household; they
// are still read and accepted (assignmentIDPattern).
func AssignmentID(survey, psu, household string) string { return survey + ":" + psu + ":" + household }
