package dotm

// This file declares, once, what a tablet and the API exchange about
// submissions: the server decodes these types, and package client (and
// through it the demo and the load test) encodes them.

// Envelope is what a tablet posts: the questionnaire's submission envelope
// plus the collector's own fields. The server refuses unknown fields.
type Envelope struct {
	InstanceID   string         `json:"instance_id"`
	FormID       string         `json:"form_id"`
	FormVersion  string         `json:"form_version"`
	StartedAt    string         `json:"started_at"`
	EndedAt      string         `json:"ended_at"`
	Answers      map[string]any `json:"answers"`
	AssignmentID string         `json:"assignment_id,omitempty"`
	Supersedes   string         `json:"supersedes,omitempty"` // the rejected submission this corrects
}

// Receipt answers a stored submission (201 the first time, 200 for a retry
// of the same content).
type Receipt struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// The outcome of one envelope, as the batch endpoint reports it per item.
const (
	ResultCreated   = "created"
	ResultDuplicate = "duplicate" // stored before with the same content: acknowledged
	ResultConflict  = "conflict"  // the instance id exists with other content
	ResultInvalid   = "invalid"
	ResultForbidden = "forbidden"
)

// BatchResult is the outcome of one envelope of a batch.
type BatchResult struct {
	Index      int       `json:"index"`
	InstanceID string    `json:"instance_id,omitempty"`
	Result     string    `json:"result"` // one of the Result constants
	Status     int       `json:"status"` // the status POST /api/v1/submissions would have answered
	Detail     string    `json:"detail,omitempty"`
	Problems   []Problem `json:"problems,omitempty"`
	// ProblemsTotal is set when Problems lists only the first MaxProblems.
	ProblemsTotal int `json:"problems_total,omitempty"`
}

// BatchAnswer is the answer to POST /api/v1/submissions/batch.
type BatchAnswer struct {
	Results []BatchResult  `json:"results"`
	Counts  map[string]int `json:"counts"`
}
