package registry

import (
	"net/http"
	"strings"
)

// The gateway's ETags are the digests of what it serves, so they are
// strong validators that never change: a client that holds the entity an
// ETag names holds these exact bytes.

// etagOf is the ETag for content of digest d.
func etagOf(d string) string { return `"` + d + `"` }

// notModified answers 304 Not Modified, as RFC 9110 requires of a GET or
// HEAD whose If-None-Match lists etag (or is *), and says whether it did.
func notModified(w http.ResponseWriter, r *http.Request, etag string) bool {
	list := strings.Join(r.Header.Values("If-None-Match"), ",")
	if list == "" || !listHasETag(list, etag) {
		return false
	}
	w.WriteHeader(http.StatusNotModified)
	return true
}

// listHasETag compares weakly, as If-None-Match does: W/"x" matches "x".
func listHasETag(list, etag string) bool {
	for _, tag := range strings.Split(list, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == "*" || tag == etag {
			return true
		}
	}
	return false
}

// rangeOf is the Range header to honour: none when If-Range names another
// entity (or a date: the gateway sends no Last-Modified to compare it
// with), so the client gets the whole blob rather than bytes of something
// it does not hold.
func rangeOf(r *http.Request, etag string) string {
	if ifRange := r.Header.Get("If-Range"); ifRange != "" && ifRange != etag {
		return ""
	}
	return r.Header.Get("Range")
}
