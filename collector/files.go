package collector

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// serveFiles answers requests for prefix (and prefix without its slash)
// with h before routing, as webclient.Middleware does for the web client:
// the files are not API routes and take no token.
func serveFiles(prefix string, h http.Handler) gin.HandlerFunc {
	bare := strings.TrimSuffix(prefix, "/")
	return func(c *gin.Context) {
		p := c.Request.URL.Path
		if p != bare && !strings.HasPrefix(p, prefix) {
			c.Next()
			return
		}
		h.ServeHTTP(c.Writer, c.Request)
		c.Abort()
	}
}
