package image

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"
)

// twoPorts plays one registry host that answers HTTPS (port 443) and
// plain HTTP (port 80), as registries behind many load balancers do:
// https:// requests go to tlsSrv, http:// ones to plainSrv.
type twoPorts struct {
	tls, plain  *httptest.Server
	tlsDelay    time.Duration
	plainCalled atomic.Int64
}

func (p *twoPorts) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	switch req.URL.Scheme {
	case "https":
		// A distant registry: TCP, TLS and the request take a few round
		// trips, more than ggcr's 300ms head start for HTTPS.
		select {
		case <-time.After(p.tlsDelay): // the latency under test, not synchronisation
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
		out.URL.Host = strings.TrimPrefix(p.tls.URL, "https://")
		return p.tls.Client().Transport.RoundTrip(out)
	default:
		p.plainCalled.Add(1)
		out.URL.Host = strings.TrimPrefix(p.plain.URL, "http://")
		return http.DefaultTransport.RoundTrip(out)
	}
}

// With --insecure (as for a self-signed certificate), or for a LAN
// address ggcr allows plain HTTP to, a registry that answers HTTPS is
// used over HTTPS, as docker does: plain HTTP only when HTTPS fails.
// ggcr races the two and takes the first answer, so a slow HTTPS lost to
// port 80, and credentials and image went in clear text.
func TestRemoteInsecureNeverDowngradesWorkingHTTPS(t *testing.T) {
	quiet := registry.Logger(log.New(io.Discard, "", 0))
	p := &twoPorts{tls: httptest.NewTLSServer(registry.New(quiet)), plain: httptest.NewServer(registry.New(quiet)), tlsDelay: time.Second}
	t.Cleanup(p.tls.Close)
	t.Cleanup(p.plain.Close)
	for _, host := range []string{"registry.test", "192.168.7.7"} {
		ref := host + "/app:v1"
		img, err := random.Image(1<<10, 1)
		if err != nil {
			t.Fatal(err)
		}
		dst := mustRef(t, strings.TrimPrefix(p.tls.URL, "https://")+"/app:v1")
		if err := remote.Write(dst, img, remote.WithTransport(p.tls.Client().Transport)); err != nil {
			t.Fatal(err)
		}
		p.plainCalled.Store(0)
		ro := RemoteOptions{Insecure: host == "registry.test", Transport: p}
		_, err = ImportRemote(context.Background(), mdtest.Mock(), ref, ImportOptions{}, ro)
		if err != nil {
			t.Errorf("%s: %v", ref, err)
		}
		if n := p.plainCalled.Load(); n != 0 {
			t.Errorf("%s: %d requests went over plain HTTP to a registry that answers HTTPS", ref, n)
		}
	}
}
