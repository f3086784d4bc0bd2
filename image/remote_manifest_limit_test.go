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

// A registry decides how long a manifest it sends is, and one fetched by
// tag has no descriptor to bound it. Before, go-containerregistry's own
// limit let 100 MiB of an endless manifest into memory before failing,
// 25 times the 4 MiB any manifest may have.
func TestImportRemoteStopsReadingAManifestPastTheLimit(t *testing.T) {
	var sent atomic.Int64
	host := newRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/manifests/") {
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
			chunk := []byte(`{"manifests":[` + strings.Repeat(" ", 64<<10))
			for sent.Load() < 200<<20 {
				n, err := w.Write(chunk)
				sent.Add(int64(n))
				if err != nil {
					return
				}
			}
		})
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := ImportRemote(ctx, mdtest.Mock(), host+"/endless:v1", ImportOptions{}, RemoteOptions{Insecure: true})
	if err == nil || !strings.Contains(err.Error(), "manifest larger than 4 MiB") {
		t.Errorf("push of an endless manifest: %v, want it refused past 4 MiB", err)
	}
	// What is in flight when the reader stops (socket buffers) is sent too.
	if n := sent.Load(); n > 2*maxMetadataSize+(8<<20) {
		t.Errorf("the registry sent %d MiB of a manifest before the push stopped reading", n>>20)
	}
}
