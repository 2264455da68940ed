package dotm

import (
	"context"
	"time"
)

// AuditEntry is one line of the append-only audit trail: who did what, when.
type AuditEntry struct {
	ID     string    `json:"id,omitempty"` // set by the store; orders entries of one instant
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`            // user name; empty for an unknown caller
	Role   Role      `json:"role,omitempty"`   // the actor's role
	Action string    `json:"action"`           // sign_in_failed, read_identifiers, review, form_upload, key_rotate, release_publish, …
	Survey string    `json:"survey,omitempty"` // survey concerned, if any
	Target string    `json:"target,omitempty"` // submission id, form id, client address, …
	Detail string    `json:"detail,omitempty"` // short, never an answer value
}

// Auditor appends to the audit trail. Record must not return before the
// entry is durably written: a read of identifiers is refused when it fails.
type Auditor interface {
	Record(ctx context.Context, e AuditEntry) error
}
