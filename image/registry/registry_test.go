package registry

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"

	"github.com/imgp2p/imgp2p/image"
)

// serve imports a two-platform index tagged v1 and serves it.
func serve(t *testing.T) (srv *httptest.Server, root string, idx v1.ImageIndex) {
	t.Helper()
	ctx := context.Background()
	amd, _ := random.Image(2<<20, 2)
	arm, _ := random.Image(1<<10, 1)
	idx = mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}})
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{image.AnnotationRefName: "example.com/app:v1"})); err != nil {
		t.Fatal(err)
	}
	dag := mdtest.Mock()
	imp, err := image.ImportLayout(ctx, dag, dir, image.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv = httptest.NewServer(New(Options{DAG: dag}))
	t.Cleanup(srv.Close)
	return srv, imp.Root.String(), idx
}

func TestClientPullsSameDigestsByTagAndLatest(t *testing.T) {
	srv, root, idx := serve(t)
	want, _ := idx.Digest()
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, tag := range []string{"latest", "v1"} {
		ref, err := name.ParseReference(host+"/ipfs/"+root+":"+tag, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		got, err := remote.Index(ref)
		if err != nil {
			t.Fatalf("%s: %v", tag, err)
		}
		if d, _ := got.Digest(); d != want {
			t.Fatalf("%s: index digest %s, want %s", tag, d, want)
		}
		im, _ := got.IndexManifest()
		img, err := got.Image(im.Manifests[0].Digest)
		if err != nil {
			t.Fatal(err)
		}
		layers, _ := img.Layers()
		for _, l := range layers {
			rc, err := l.Compressed()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, rc); err != nil {
				t.Fatalf("layer: %v", err)
			}
			rc.Close()
		}
	}
}

func TestErrorsAreOCIErrorBodies(t *testing.T) {
	srv, root, _ := serve(t)
	unknown := "sha256:" + strings.Repeat("0", 64)
	cases := []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/v2/ipfs/" + root + "/manifests/nope", 404, codeManifestUnknown},
		{"GET", "/v2/ipfs/" + root + "/manifests/" + unknown, 404, codeManifestUnknown},
		{"GET", "/v2/ipfs/" + root + "/blobs/" + unknown, 404, codeBlobUnknown},
		{"GET", "/v2/ipfs/" + root + "/blobs/sha256:xyz", 400, codeDigestInvalid},
		{"GET", "/v2/ipfs/not-a-cid/manifests/latest", 400, codeNameInvalid},
		{"GET", "/v2/library/alpine/manifests/latest", 404, codeNameUnknown},
		{"GET", "/v2/ipfs/bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku/manifests/latest", 404, codeNameUnknown},
		{"PUT", "/v2/ipfs/" + root + "/manifests/latest", 405, codeUnsupported},
		{"DELETE", "/v2/ipfs/" + root + "/blobs/" + unknown, 405, codeUnsupported},
		{"POST", "/v2/ipfs/" + root + "/blobs/uploads/", 405, codeUnsupported},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Errors []struct{ Code string } }
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != c.status || err != nil || len(body.Errors) != 1 || body.Errors[0].Code != c.code {
			t.Errorf("%s %s: %d %+v (%v), want %d %s", c.method, c.path, resp.StatusCode, body, err, c.status, c.code)
		}
	}
}

func TestParseRange(t *testing.T) {
	const size = 100
	cases := []struct {
		header      string
		start, end  int64
		partial, ok bool
	}{
		{"", 0, 100, false, true},
		{"bytes=0-9", 0, 10, true, true},
		{"bytes=90-", 90, 100, true, true},
		{"bytes=-5", 95, 100, true, true},
		{"bytes=50-500", 50, 100, true, true},
		{"bytes=100-", 0, 0, false, false},
		{"bytes=9-3", 0, 0, false, false},
		{"bytes=0-1,5-6", 0, 100, false, true},
		{"bytes=x-y", 0, 0, false, false},
	}
	for _, c := range cases {
		s, e, p, ok := parseRange(c.header, size)
		if s != c.start || e != c.end || p != c.partial || ok != c.ok {
			t.Errorf("%q: %d %d %v %v, want %d %d %v %v", c.header, s, e, p, ok, c.start, c.end, c.partial, c.ok)
		}
	}
}

// serveRefs imports a layout holding one small image per ref name (the
// same image again where a name repeats an earlier one's index) and
// serves it.
func serveRefs(t *testing.T, entries ...refEntry) (srv *httptest.Server, root string) {
	t.Helper()
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		ann := layout.WithAnnotations(map[string]string{image.AnnotationRefName: e.ref})
		if e.index != nil {
			err = p.AppendIndex(e.index, ann)
		} else {
			err = p.AppendImage(e.image, ann)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	dag := mdtest.Mock()
	imp, err := image.ImportLayout(context.Background(), dag, dir, image.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv = httptest.NewServer(New(Options{DAG: dag}))
	t.Cleanup(srv.Close)
	return srv, imp.Root.String()
}

type refEntry struct {
	ref   string
	image v1.Image
	index v1.ImageIndex
}

func randomImage(t *testing.T) v1.Image {
	t.Helper()
	img, err := random.Image(1<<10, 1)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func getManifest(t *testing.T, srv *httptest.Server, root, ref string) (int, string) {
	t.Helper()
	resp, err := http.Get(srv.URL + "/v2/ipfs/" + root + "/manifests/" + ref)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Docker-Content-Digest")
}

// Tags come from ref names in every form tools write them, and every tag
// listed can be pulled: a repository named without a tag is "latest", and
// a digest reference or a name no client could ask for lists nothing.
func TestTagsListOnlyPullableTags(t *testing.T) {
	plain, tagged, short, bare, pinned, odd := randomImage(t), randomImage(t), randomImage(t), randomImage(t), randomImage(t), randomImage(t)
	pinnedDigest, _ := pinned.Digest()
	srv, root := serveRefs(t,
		refEntry{ref: "127.0.0.1:15060/app", image: plain},
		refEntry{ref: "example.com/app:v2", image: tagged},
		refEntry{ref: "app:v3", image: short},
		refEntry{ref: "v4", image: bare},
		refEntry{ref: "example.com/app@" + pinnedDigest.String(), image: pinned},
		refEntry{ref: "not a tag!", image: odd},
	)
	resp, err := http.Get(srv.URL + "/v2/ipfs/" + root + "/tags/list")
	if err != nil {
		t.Fatal(err)
	}
	var list struct{ Tags []string }
	err = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(list.Tags, ","), "latest,v2,v3,v4"; got != want {
		t.Fatalf("tags %s, want %s", got, want)
	}
	for tag, img := range map[string]v1.Image{"latest": plain, "v2": tagged, "v3": short, "v4": bare} {
		want, _ := img.Digest()
		if status, got := getManifest(t, srv, root, tag); status != http.StatusOK || got != want.String() {
			t.Errorf("manifests/%s: %d %s, want 200 %s", tag, status, got, want)
		}
	}
}

func twoPlatformIndex(t *testing.T) v1.ImageIndex {
	t.Helper()
	return mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: randomImage(t), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: randomImage(t), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}})
}

// "latest" on a root listing several entries: one image under two tags is
// served as that image; several different images are an index of them,
// unless some are multi-platform, where an index of indexes would leave
// docker finding no platform ("no matching manifest"): a clear error then.
func TestLatestOverSeveralEntries(t *testing.T) {
	idx := twoPlatformIndex(t)
	want, _ := idx.Digest()
	srv, root := serveRefs(t, refEntry{ref: "example.com/app:v1", index: idx}, refEntry{ref: "example.com/app:v2", index: idx})
	if status, got := getManifest(t, srv, root, "latest"); status != http.StatusOK || got != want.String() {
		t.Fatalf("one index under two tags: latest is %d %s, want 200 %s", status, got, want)
	}

	srv, root = serveRefs(t, refEntry{ref: "example.com/app:v1", index: idx}, refEntry{ref: "example.com/app:v2", index: twoPlatformIndex(t)})
	resp, err := http.Get(srv.URL + "/v2/ipfs/" + root + "/manifests/latest")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), codeManifestUnknown) || !strings.Contains(string(body), "v1, v2") {
		t.Fatalf("two indexes: latest is %d %s, want 404 naming the tags", resp.StatusCode, body)
	}
	if status, got := getManifest(t, srv, root, "v1"); status != http.StatusOK || got != want.String() {
		t.Fatalf("two indexes: v1 is %d %s, want 200 %s", status, got, want)
	}
	// skopeo sync pulls every listed tag: latest must not be listed.
	tagsResp, err := http.Get(srv.URL + "/v2/ipfs/" + root + "/tags/list")
	if err != nil {
		t.Fatal(err)
	}
	var list struct{ Tags []string }
	json.NewDecoder(tagsResp.Body).Decode(&list)
	tagsResp.Body.Close()
	if got := strings.Join(list.Tags, ","); got != "v1,v2" {
		t.Fatalf("two indexes: tags %s, want v1,v2", got)
	}

	srv, root = serveRefs(t, refEntry{ref: "v1", image: randomImage(t)}, refEntry{ref: "v2", image: randomImage(t)})
	if status, _ := getManifest(t, srv, root, "latest"); status != http.StatusOK {
		t.Fatalf("two single-platform images: latest is %d, want their index", status)
	}
}

// Asking for a layer as a manifest is a 404, whatever the layer's size: a
// blob too large to be a manifest is not one.
func TestLayerAskedForAsManifestIs404(t *testing.T) {
	img, err := random.Image(5<<20, 1)
	if err != nil {
		t.Fatal(err)
	}
	srv, root := serveRefs(t, refEntry{ref: "v1", image: img})
	layers, _ := img.Layers()
	layer, _ := layers[0].Digest()
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		req, _ := http.NewRequest(method, srv.URL+"/v2/ipfs/"+root+"/manifests/"+layer.String(), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s manifests/<5 MiB layer>: %d, want 404", method, resp.StatusCode)
		}
	}
}
