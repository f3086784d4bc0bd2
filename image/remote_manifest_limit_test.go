package image

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
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

// A repository may have a path component named "manifests" (a team's
// "ci/manifests/app"): its blobs' URLs then hold "/manifests/" too, and a
// layer is no manifest to cut off at 4 MiB.
func TestImportRemoteOfARepositoryNamedManifestsReadsLayersWhole(t *testing.T) {
	ctx := context.Background()
	ref := newRegistry(t, nil) + "/ci/manifests/app:v1"
	img, err := random.Image(6<<20, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(mustRef(t, ref), img); err != nil {
		t.Fatal(err)
	}
	if _, err := ImportRemote(ctx, mdtest.Mock(), ref, ImportOptions{}, RemoteOptions{}); err != nil {
		t.Fatalf("push of a 6 MiB layer from %s: %v", ref, err)
	}
}

func TestIsManifestPath(t *testing.T) {
	for path, want := range map[string]bool{
		"/v2/app/manifests/v1":                  true,
		"/v2/ci/manifests/app/manifests/v1":     true,
		"/v2/manifests/manifests/sha256:abc":    true,
		"/v2/ci/manifests/app/blobs/sha256:abc": false,
		"/v2/ci/manifests/app/blobs/uploads/":   false,
		"/v2/ci/manifests/app/tags/list":        false,
		"/v2/app/blobs/sha256:abc":              false,
	} {
		if got := isManifestPath(path); got != want {
			t.Errorf("isManifestPath(%q) = %v, want %v", path, got, want)
		}
	}
}
