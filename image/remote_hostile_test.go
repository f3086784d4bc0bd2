package image

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"
)

// hostileBlobs serves writeLayout's image from a registry whose blob
// endpoint is replaced by serve.
func hostileBlobs(t *testing.T, serve http.HandlerFunc) string {
	t.Helper()
	host := newRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
				serve(w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	ref := host + "/multi:v1"
	upload(t, namedLayout(t, ref), ref)
	return ref
}

func importHostile(t *testing.T, ref string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := ImportRemote(ctx, mdtest.Mock(), ref, ImportOptions{}, RemoteOptions{Insecure: true})
	return err
}

// A registry that sends a blob without end is read one byte past what the
// descriptor promises, and the push fails naming the blob.
func TestImportRemoteReadsNoMoreOfABlobThanPromised(t *testing.T) {
	var sent atomic.Int64
	ref := hostileBlobs(t, func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 64<<10)
		for sent.Load() < 1<<30 {
			n, err := w.Write(chunk)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	})
	err := importHostile(t, ref)
	if err == nil || !strings.Contains(err.Error(), "blob sha256:") {
		t.Errorf("push from a registry sending endless blobs: %v, want an error naming the blob", err)
	}
	// writeLayout's largest blob is 3 MiB; socket buffers hold a few more.
	if n := sent.Load(); n > 16<<20 {
		t.Errorf("the registry sent %d MiB before the push stopped reading", n>>20)
	}
}

// A registry redirecting a blob to itself ends the push, not loops it.
func TestImportRemoteRedirectLoopEnds(t *testing.T) {
	ref := hostileBlobs(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path, http.StatusTemporaryRedirect)
	})
	start := time.Now()
	err := importHostile(t, ref)
	if err == nil || !strings.Contains(err.Error(), "redirected more than") {
		t.Errorf("push from a registry whose blobs redirect in a loop: %v, want the redirects named", err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("a redirect loop held the push for %s", took)
	}
}
