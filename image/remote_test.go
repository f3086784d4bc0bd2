package image

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/match"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"
)

// newRegistry serves an in-memory registry on loopback and returns its
// host:port. wrap, if given, sits in front of it.
func newRegistry(t *testing.T, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	var h http.Handler = registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// namedLayout is writeLayout's layout with its one entry named ref, as a
// layout writer would leave it after pulling ref.
func namedLayout(t *testing.T, ref string) string {
	t.Helper()
	dir := writeLayout(t)
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	d := topEntry(t, dir)
	d.Annotations = map[string]string{AnnotationRefName: ref}
	if err := p.RemoveDescriptors(match.Digests(d.Digest)); err != nil {
		t.Fatal(err)
	}
	if err := p.AppendDescriptor(d); err != nil {
		t.Fatal(err)
	}
	return dir
}

func topEntry(t *testing.T, dir string) v1.Descriptor {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	return m.Manifests[0]
}

// upload pushes the layout's one entry (an index) to ref with ggcr alone.
func upload(t *testing.T, dir, ref string) {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	child, err := idx.ImageIndex(topEntry(t, dir).Digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(mustRef(t, ref), child); err != nil {
		t.Fatal(err)
	}
}

func TestImportRemoteMatchesLayout(t *testing.T) {
	ctx := context.Background()
	ref := newRegistry(t, nil) + "/multi:v1"
	dir := namedLayout(t, ref)
	upload(t, dir, ref)
	arm, _ := ParsePlatform("linux/arm64")
	for _, p := range []*v1.Platform{nil, arm} {
		want, err := ImportLayout(ctx, mdtest.Mock(), dir, ImportOptions{Platform: p})
		if err != nil {
			t.Fatal(err)
		}
		got, err := ImportRemote(ctx, mdtest.Mock(), ref, ImportOptions{Platform: p}, RemoteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Root != want.Root || got.Size != want.Size {
			t.Errorf("platform %v: registry gave %s (%d bytes), the layout %s (%d bytes)", p, got.Root, got.Size, want.Root, want.Size)
		}
		if len(got.Names) != 1 || got.Names[0] != ref {
			t.Errorf("platform %v: names %v, want [%s]", p, got.Names, ref)
		}
	}
}

func TestImportRemoteOfOneImageMatchesLayout(t *testing.T) {
	ctx := context.Background()
	ref := newRegistry(t, nil) + "/one:v1"
	img, err := random.Image(2<<20, 2)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{AnnotationRefName: ref})); err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(mustRef(t, ref), img); err != nil {
		t.Fatal(err)
	}
	want, err := ImportLayout(ctx, mdtest.Mock(), dir, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ImportRemote(ctx, mdtest.Mock(), ref, ImportOptions{}, RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Root != want.Root {
		t.Errorf("registry gave %s, the layout %s", got.Root, want.Root)
	}
}

func TestImportRemoteByDigestNamesItAsWritten(t *testing.T) {
	ctx := context.Background()
	host := newRegistry(t, nil)
	dir := writeLayout(t)
	upload(t, dir, host+"/multi:v1")
	ref := host + "/multi@" + topEntry(t, dir).Digest.String()
	got, err := ImportRemote(ctx, mdtest.Mock(), ref, ImportOptions{}, RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Names) != 1 || got.Names[0] != ref || len(got.Platforms) != 2 {
		t.Fatalf("names %v platforms %v", got.Names, got.Platforms)
	}
}

func TestWriteRemoteKeepsDigestsAndRoundTrips(t *testing.T) {
	ctx := context.Background()
	host := newRegistry(t, nil)
	ref := host + "/copy:v1"
	dir := namedLayout(t, ref)
	dag := mdtest.Mock()
	imp, err := ImportLayout(ctx, dag, dir, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	root, err := Open(ctx, dag, imp.Root)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := root.Plan(ctx, ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pushed, err := exp.WriteRemote(ctx, ref, RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := topEntry(t, dir).Digest
	served, err := remote.Head(mustRef(t, ref))
	if err != nil || served.Digest != want || pushed.Digest != want {
		t.Fatalf("registry serves %v (%v), WriteRemote said %s; the layout has %s", served, err, pushed.Digest, want)
	}
	back, err := ImportRemote(ctx, mdtest.Mock(), ref, ImportOptions{}, RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if back.Root != imp.Root {
		t.Fatalf("round trip through the registry gave %s, want %s", back.Root, imp.Root)
	}

	// One platform of it is pushed as that image's own manifest.
	arm, _ := ParsePlatform("linux/arm64")
	exp, err = root.Plan(ctx, ExportOptions{Platform: arm})
	if err != nil {
		t.Fatal(err)
	}
	pushed, err = exp.WriteRemote(ctx, host+"/copy:arm64", RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pushed.Digest != exp.manifests[0].Digest {
		t.Fatalf("pushed %s for linux/arm64, want the manifest %s", pushed.Digest, exp.manifests[0].Digest)
	}
	img, err := remote.Image(mustRef(t, host+"/copy:arm64"))
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := img.Digest(); d != pushed.Digest {
		t.Fatalf("registry serves %s under copy:arm64, want %s", d, pushed.Digest)
	}
}

func TestWriteRemoteOfSeveralImagesPushesIndexJSON(t *testing.T) {
	ctx := context.Background()
	dir := writeLayout(t)
	p, _ := layout.FromPath(dir)
	extra, _ := random.Image(1<<10, 1)
	if err := p.AppendImage(extra); err != nil {
		t.Fatal(err)
	}
	dag := mdtest.Mock()
	imp, err := ImportLayout(ctx, dag, dir, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	root, _ := Open(ctx, dag, imp.Root)
	exp, err := root.Plan(ctx, ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ref := newRegistry(t, nil) + "/both:v1"
	pushed, err := exp.WriteRemote(ctx, ref, RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want, _, _ := v1.SHA256(bytes.NewReader(readFileT(t, filepath.Join(dir, "index.json"))))
	idx, err := remote.Index(mustRef(t, ref))
	if err != nil {
		t.Fatal(err)
	}
	m, _ := idx.IndexManifest()
	if got, _ := idx.Digest(); got != want || pushed.Digest != want || len(m.Manifests) != 2 {
		t.Fatalf("registry serves %s with %d entries, want index.json's digest %s", got, len(m.Manifests), want)
	}
}

func TestImportRemoteErrors(t *testing.T) {
	ctx := context.Background()
	dir := writeLayout(t)
	// The registry corrupts the largest layer on its way out.
	var victim v1.Hash
	blobs, _ := filepath.Glob(filepath.Join(dir, "blobs", "sha256", "*"))
	for _, b := range blobs {
		if st, _ := os.Stat(b); st.Size() > 1<<20 {
			victim = v1.Hash{Algorithm: "sha256", Hex: filepath.Base(b)}
		}
	}
	host := newRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/blobs/"+victim.String()) {
				w.Write(bytes.Repeat([]byte("x"), 3<<20))
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	upload(t, dir, host+"/multi:v1")
	for _, c := range []struct{ ref, want string }{
		{host + "/multi:nope", "not found in the registry"},
		{host + "/nothing:v1", "not found in the registry"},
		{host + "/multi:v1", victim.String()},
		{"127.0.0.1:1/multi:v1", "cannot reach registry 127.0.0.1:1"},
		{"Bad//Ref", "invalid registry reference"},
	} {
		_, err := ImportRemote(ctx, mdtest.Mock(), c.ref, ImportOptions{}, RemoteOptions{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("import %s: %v; want an error with %q", c.ref, err, c.want)
		}
	}
}

func readFileT(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
