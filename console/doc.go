// Package console is dotm's web console for supervisors and survey
// managers, served by the collector at /console/: a plain HTML, CSS and
// JavaScript page (no build step, no CDN) that signs in with a user's
// token and shows, per survey and by role, the progress summary
// (GET /api/v1/surveys/{id}/progress), the review queue with each
// submission read as a questionnaire (labels in a chosen language, roster
// members by name, identifiers only for supervisors and only when asked,
// which the API audits), the quality flags, a map of interview locations
// drawn as SVG, and the team's tasks (users, assignments, form versions,
// sampling, weights, releases), each through the API that already exists.
//
// The package is not an API: it only serves files. Everything the page
// does goes through /api/v1 with the user's token, so the API's role and
// scope checks are the console's.
package console
