package collector

import (
	"github.com/gin-gonic/gin"

	"github.com/dotm-survey/dotm"
)

// record appends e to the audit trail: the one way a handler audits. It
// stamps e.Time (now, UTC) and fills Actor and Role from the signed-in
// user when they are empty.
//
// The policy, the same for every audited action: the entry is part of the
// action. A read (identifiers, a release file) is audited before anything
// leaves, and is refused when the entry cannot be written. A change
// (review, upload, draw, weights, release, user) is audited after it
// succeeded; when the entry cannot be written the request fails with the
// store's error (503 when the database is unavailable, else 500) and the
// server log has the cause, so the client knows the action is not on the
// record. The change itself stays: stores are append-only and have no
// transactions to roll back.
func record(c *gin.Context, a dotm.Auditor, e dotm.AuditEntry) error {
	e.Time = now()
	if e.Actor == "" {
		u := currentUser(c)
		e.Actor, e.Role = u.Name, u.Role
	}
	return a.Record(c.Request.Context(), e)
}
