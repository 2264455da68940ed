package collector

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// handleHealthz answers 200 while the process is up.
func handleHealthz() gin.HandlerFunc {
	return func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"status": "ok"})
	}
}

// handleReadyz answers 200 when the database answers a ping, 503 otherwise.
func handleReadyz(db Pinger, diskFull func() bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		if diskFull() {
			fail(c, &Error{Code: EUNAVAILABLE, Message: "the server's disk is full", RetryAfter: 30})
			return
		}
		if err := db.Ping(c.Request.Context()); err != nil {
			fail(c, &Error{Code: EUNAVAILABLE, Message: "database unreachable", RetryAfter: 1, Err: err})
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
		Name    string   `json:"name"`
		Role    Role     `json:"role"`
		Surveys []string `json:"surveys"`
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
