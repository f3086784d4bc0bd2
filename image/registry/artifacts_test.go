package registry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"

	"github.com/imgp2p/imgp2p/image"
)

// serveLayout imports the layout fill writes and serves it.
func serveLayout(t *testing.T, fill func(p layout.Path)) (srv *httptest.Server, root string) {
	t.Helper()
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	fill(p)
	dag := mdtest.Mock()
	imp, err := image.ImportLayout(context.Background(), dag, dir, image.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv = httptest.NewServer(New(Options{DAG: dag}))
	t.Cleanup(srv.Close)
	return srv, imp.Root.String()
}

// artifactOf is what signing and SBOM tools write: a manifest over a blob
// that is not a filesystem layer, under config media type config.
func artifactOf(t *testing.T, config types.MediaType, subject *v1.Descriptor) v1.Image {
	t.Helper()
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), config)
	img, err := mutate.Append(img, mutate.Addendum{Layer: static.NewLayer([]byte(`{"sig":1}`), "application/vnd.dev.cosign.simplesigning.v1+json")})
	if err != nil {
		t.Fatal(err)
	}
	if subject != nil {
		img = mutate.Subject(img, *subject).(v1.Image)
	}
	return img
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// latest over an image and the signatures and SBOMs beside it (no
// platform, as `cosign save` and oras write them) is the image: served as
// an index with them, docker found "no matching manifest for linux/amd64",
// and beside a multi-platform index it was an index of indexes, a 404.
func TestLatestLeavesOutArtifactsBesideTheImage(t *testing.T) {
	single := randomImage(t)
	multi := twoPlatformIndex(t)
	cases := []struct {
		name  string
		image partial.Describable
		fill  func(p layout.Path, subject v1.Descriptor)
	}{
		{"image, cosign-style signature, SBOM", single, func(p layout.Path, subject v1.Descriptor) {
			must(t, p.AppendImage(single))
			must(t, p.AppendImage(artifactOf(t, types.OCIConfigJSON, nil)))
			must(t, p.AppendImage(artifactOf(t, "application/vnd.oci.empty.v1+json", &subject)))
		}},
		{"multi-platform index and its signature", multi, func(p layout.Path, subject v1.Descriptor) {
			must(t, p.AppendIndex(multi))
			must(t, p.AppendImage(artifactOf(t, "application/vnd.oci.empty.v1+json", &subject)))
		}},
		{"image and a referrers tag schema index", single, func(p layout.Path, subject v1.Descriptor) {
			must(t, p.AppendImage(single))
			list := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: artifactOf(t, types.OCIConfigJSON, &subject)})
			must(t, p.AppendIndex(list, layout.WithAnnotations(map[string]string{image.AnnotationRefName: "sha256-" + subject.Digest.Hex})))
		}},
	}
	for _, c := range cases {
		subject, err := partial.Descriptor(c.image)
		must(t, err)
		srv, root := serveLayout(t, func(p layout.Path) { c.fill(p, *subject) })
		if status, got := getManifest(t, srv, root, "latest"); status != http.StatusOK || got != subject.Digest.String() {
			t.Errorf("%s: latest is %d %s, want 200 %s", c.name, status, got, subject.Digest)
		}
	}
}
