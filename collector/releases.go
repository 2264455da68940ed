package collector

import (
	"path/filepath"
	"strings"
)

// ReleaseContentType is the media type a release file is served as.
func ReleaseContentType(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".parquet":
		return "application/vnd.apache.parquet"
	case ".json":
		return "application/json"
	case ".md":
		return "text/markdown; charset=utf-8"
	case ".dta":
		return "application/x-stata-dta"
	case ".xml":
		return "application/xml"
	case ".html":
		return "text/html; charset=utf-8" // served as an attachment, under default-src 'none'
	}
	return "application/octet-stream"
}
