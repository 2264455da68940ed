package collector

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/dotm-survey/dotm"
)

// handleHealthz answers 200 while the process is up.
// rootPage is what a browser opened on the server's address shows: where
// the web client, the API description and the console are.
const rootPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>dotm</title></head>
<body>
<h1>dotm</h1>
<p>A household migration survey server.</p>
<ul>
<li><a href="/collect/">Interviews</a>: the offline web client for enumerators</li>
<li><a href="/api/v1/openapi.json">API description</a> (OpenAPI 3) of <code>/api/v1</code></li>
<li>Console for supervisors and survey managers: not yet available; use the API or the <code>dotm</code> command</li>
</ul>
</body></html>
`

// handleRoot answers GET / with a small page of links.
func handleRoot() gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(rootPage))
	}
}

func handleHealthz() gin.HandlerFunc {
	return func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"status": "ok"})
	}
}

// handleReadyz answers 200 when the database answers a ping, 503 otherwise.
// After a write failed for a full disk it is not ready until a probe write
// succeeds again (space was freed) or, with a store that cannot probe,
// for diskFullWait.
func handleReadyz(db Pinger, diskFull func(context.Context) bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		if diskFull(c.Request.Context()) {
			fail(c, &dotm.Error{Code: dotm.EUNAVAILABLE, Message: "the server's disk is full", RetryAfter: 30})
			return
		}
		if err := db.Ping(c.Request.Context()); err != nil {
			fail(c, &dotm.Error{Code: dotm.EUNAVAILABLE, Message: "database unreachable", RetryAfter: 1, Err: err})
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": "ready"})
	}
}

func handleVersion(version string) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"version": version})
	}
}

// handleMe returns the signed-in user's name, role and surveys.
func handleMe() gin.HandlerFunc {
	type response struct {
		Name    string    `json:"name"`
		Role    dotm.Role `json:"role"`
		Surveys []string  `json:"surveys"`
	}
	return func(c *gin.Context) {
		u := currentUser(c)
		surveys := u.Surveys
		if surveys == nil {
			surveys = []string{}
		}
		c.JSON(http.StatusOK, response{Name: u.Name, Role: u.Role, Surveys: surveys})
	}
}
