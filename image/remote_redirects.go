package image

import (
	"fmt"
	"net/http"
)

// maxRedirects is how many redirects in a row a registry request follows,
// as net/http's default policy allows. go-containerregistry sets a
// redirect policy of its own (no redirect to a private address), which
// replaces that default and sets no count: a registry redirecting a blob
// to itself held a push forever, 20,000 requests a second, and the stall
// watch never fired since every request was answered.
const maxRedirects = 10

// redirectLimit refuses a request that a chain of more than maxRedirects
// redirects led to. Each redirect's request carries the response that
// caused it, whose request carries the one before.
type redirectLimit struct{ next http.RoundTripper }

func (t redirectLimit) RoundTrip(req *http.Request) (*http.Response, error) {
	n := 0
	for r := req.Response; r != nil && r.Request != nil; r = r.Request.Response {
		if n++; n > maxRedirects {
			return nil, fmt.Errorf("registry %s redirected more than %d times in a row, last to %s", req.URL.Host, maxRedirects, req.URL.Redacted())
		}
	}
	return t.next.RoundTrip(req)
}
