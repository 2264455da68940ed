package dotm

// MayRead says whether u may see submission s at all: enumerators their
// own, supervisors, statisticians and admins those of their surveys.
func MayRead(u User, s Submission) error {
	switch u.Role {
	case RoleEnumerator:
		if s.Enumerator == u.Name {
			return nil
		}
		return Errorf(EFORBIDDEN, "submission %s is not yours", s.ID)
	case RoleSupervisor, RoleStatistician, RoleAdmin:
		if u.InSurvey(s.Survey) {
			return nil
		}
		return Errorf(EFORBIDDEN, "submission %s belongs to survey %s, which is not in your scope", s.ID, s.Survey)
	}
	return Errorf(EFORBIDDEN, "role %s sees no submissions", u.Role)
}

// MayReadIdentifiers: supervisors of the survey, and the enumerator who
// entered them until the submission is approved. Never statisticians,
// researchers or admins.
func MayReadIdentifiers(u User, s Submission) error {
	switch {
	case u.Role == RoleSupervisor && u.InSurvey(s.Survey):
		return nil
	case u.Role == RoleEnumerator && s.Enumerator == u.Name && s.Status != SubmissionApproved:
		return nil
	}
	return Errorf(EFORBIDDEN, "role %s may not read the identifiers of submission %s", u.Role, s.ID)
}
