package image

import (
	"fmt"
	"net/http"
	"sync"
)

// httpsFirst keeps a registry that answers HTTPS on HTTPS. Where ggcr may
// use plain HTTP (--insecure, loopback, RFC 1918 and .local hosts) it
// pings both schemes and takes the first answer, giving HTTPS a head start
// of only 300ms: a distant registry that listens on 443 and 80 was then
// used over plain HTTP, credentials and image in clear text. Docker tries
// HTTPS first and falls back to plain HTTP only when HTTPS fails; this
// does the same. A plain-HTTP request to a host waits for the outcome of
// the first HTTPS request to it, and is refused if the host answered as a
// registry does.
type httpsFirst struct {
	next http.RoundTripper

	mu    sync.Mutex
	hosts map[string]*httpsOutcome
}

type httpsOutcome struct {
	settled chan struct{} // closed once the first HTTPS request ended
	ok      bool          // the host answered HTTPS as a registry; set before settled closes
}

func (t *httpsFirst) RoundTrip(req *http.Request) (*http.Response, error) {
	host := req.URL.Host
	switch req.URL.Scheme {
	case "https":
		t.mu.Lock()
		o, seen := t.hosts[host]
		if !seen {
			o = &httpsOutcome{settled: make(chan struct{})}
			t.hosts[host] = o
		}
		t.mu.Unlock()
		resp, err := t.next.RoundTrip(req)
		if !seen {
			// What ggcr's ping takes for a registry: 200, or 401 with a challenge.
			o.ok = err == nil && (resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized)
			close(o.settled)
		}
		return resp, err
	case "http":
		t.mu.Lock()
		o := t.hosts[host]
		t.mu.Unlock()
		if o != nil {
			select {
			case <-o.settled:
			case <-req.Context().Done():
				return nil, req.Context().Err()
			}
			if o.ok {
				return nil, fmt.Errorf("plain HTTP to %s refused: it answers HTTPS", host)
			}
		}
	}
	return t.next.RoundTrip(req)
}
