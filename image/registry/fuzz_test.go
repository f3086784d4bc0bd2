package registry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"

	"github.com/imgp2p/imgp2p/image"
)

func FuzzParseRange(f *testing.F) {
	for _, h := range []string{"", "bytes=0-9", "bytes=-5", "bytes=90-", "bytes=5-2", "bytes=0-1,3-4", "bytes=-0", "bytes=99999999999999999999-"} {
		f.Add(h, int64(100))
	}
	f.Fuzz(func(t *testing.T, header string, size int64) {
		if size < 0 {
			return
		}
		start, end, partial, ok := parseRange(header, size)
		if !ok {
			return
		}
		if start < 0 || end > size || start > end || (partial && start == end) {
			t.Fatalf("%q on %d bytes gave [%d, %d) partial=%v", header, size, start, end, partial)
		}
	})
}

// FuzzGatewayRouting sends arbitrary requests at a gateway holding one
// image: every answer is a well-formed status, never a panic or a 500.
func FuzzGatewayRouting(f *testing.F) {
	ctx := context.Background()
	img, err := random.Image(1024, 1)
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	p, _ := layout.Write(dir, empty.Index)
	if err := p.AppendImage(img); err != nil {
		f.Fatal(err)
	}
	dag := mdtest.Mock()
	imp, err := image.ImportLayout(ctx, dag, dir, image.ImportOptions{})
	if err != nil {
		f.Fatal(err)
	}
	h := New(Options{DAG: dag})
	root := imp.Root.String()
	digest, _ := img.Digest()
	for _, s := range []struct{ method, path, rng string }{
		{"GET", "/v2/", ""},
		{"GET", "/v2/ipfs/" + root + "/manifests/latest", ""},
		{"HEAD", "/v2/ipfs/" + root + "/manifests/" + digest.String(), ""},
		{"GET", "/v2/ipfs/" + root + "/blobs/" + digest.String(), "bytes=1-2"},
		{"GET", "/v2/ipfs/" + root + "/tags/list?n=1&last=a", ""},
		{"GET", "/v2/ipfs/" + root + "/referrers/" + digest.String() + "?artifactType=x", ""},
		{"PUT", "/v2/ipfs/" + root + "/blobs/uploads/", ""},
		{"GET", "/v2/ipfs/%2e%2e/manifests/latest", ""},
	} {
		f.Add(s.method, s.path, s.rng)
	}
	f.Fuzz(func(t *testing.T, method, path, rng string) {
		req, err := http.NewRequest(method, "http://gateway"+path, nil)
		if err != nil {
			return
		}
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 || rec.Code < 200 {
			t.Fatalf("%s %s (Range %q): status %d: %s", method, path, rng, rec.Code, rec.Body)
		}
	})
}
