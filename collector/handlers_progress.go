package collector

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/dotm-survey/dotm"
)

// handleProgress: GET /api/v1/surveys/{id}/progress[?points=true]
// (supervisor, statistician, admin of the survey). The progress summary in
// one answer (dotm.ComputeProgress): per stratum, EA and enumerator, from
// the submissions' tallies and the listings, household draws and
// assignments counted by the store, never the answers. A store that keeps
// the tallies' part of the summary up to date itself
// (dotm.ProgressSummarizer, the MongoDB store) answers it in time of the
// answer's size. With points=true a supervisor also gets
// the interview locations and EA centroids for the map; locations are
// direct identifiers, so only supervisors may ask, and the read is audited
// before the answer leaves.
func handleProgress(surveys dotm.SurveyStore, tallies dotm.ProgressStore, audit dotm.Auditor) gin.HandlerFunc {
	return func(c *gin.Context) {
		sv, ok := surveyInScope(c, surveys)
		if !ok {
			return
		}
		if tallies == nil {
			fail(c, &dotm.Error{Code: dotm.EUNAVAILABLE, Message: "this server keeps no progress tallies"})
			return
		}
		ctx := c.Request.Context()
		u := currentUser(c)
		points := false
		switch c.Query("points") {
		case "", "false":
		case "true":
			if u.Role != dotm.RoleSupervisor {
				fail(c, dotm.Errorf(dotm.EFORBIDDEN, "role %s may not see interview locations: they are direct identifiers", u.Role))
				return
			}
			points = true
		default:
			fail(c, dotm.Errorf(dotm.EINVALID, "points=%s: true or false", c.Query("points")))
			return
		}
		in := dotm.ProgressInput{Survey: sv.ID, WithPoints: points}
		var err error
		if in.Listed, err = tallies.ListedCounts(ctx, sv.ID); err != nil {
			fail(c, err)
			return
		}
		if in.Selections, err = tallies.Selections(ctx, sv.ID); err != nil {
			fail(c, err)
			return
		}
		if in.Sampled, err = tallies.SampledPSUs(ctx, sv.ID); err != nil {
			fail(c, err)
			return
		}
		var p dotm.Progress
		if ps, ok := tallies.(dotm.ProgressSummarizer); ok {
			// The store keeps the tallies' part up to date itself.
			if p, err = ps.SurveyProgress(ctx, in); err != nil {
				fail(c, err)
				return
			}
		} else {
			if in.Tallies, err = tallies.Tallies(ctx, dotm.TallyFilter{Survey: sv.ID}); err != nil {
				fail(c, err)
				return
			}
			if in.Assigned, err = tallies.AssignedCounts(ctx, sv.ID); err != nil {
				fail(c, err)
				return
			}
			p = dotm.ComputeProgress(in)
		}
		if points {
			if err := record(c, audit, dotm.AuditEntry{Action: "read_locations", Survey: sv.ID, Detail: strconv.Itoa(len(p.Points)) + " points"}); err != nil {
				fail(c, err)
				return
			}
		}
		c.JSON(http.StatusOK, p)
	}
}
