package image

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"
	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"
)

// writeListedTimes writes an index listing child n times over into the
// layout, by hand: go-containerregistry's own writer follows every path.
func writeListedTimes(t *testing.T, p layout.Path, child v1.Descriptor, n int) v1.Descriptor {
	t.Helper()
	idx := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
	for range n {
		idx.Manifests = append(idx.Manifests, child)
	}
	raw, err := json.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	h, size, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WriteBlob(h, io.NopCloser(bytes.NewReader(raw))); err != nil {
		t.Fatal(err)
	}
	return v1.Descriptor{MediaType: types.OCIImageIndex, Digest: h, Size: size}
}

// pushAndPlan imports the layout in dir and plans its export, whole.
func pushAndPlan(ctx context.Context, t *testing.T, dir string) *Export {
	t.Helper()
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
	return exp
}

// Three indexes each listing the next one 100 times make a small layout
// with a million paths to its one image. A review found push, pull and
// verify walking every path (minutes, gigabytes, deaf to SIGTERM); the
// image must go in and plan out as the single image it is, at once.
func TestIndexesListingEachOtherManyTimesAreWalkedOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	img, err := random.Image(1<<10, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WriteImage(img); err != nil {
		t.Fatal(err)
	}
	d, err := partial.Descriptor(img)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		*d = writeListedTimes(t, p, *d, 100)
	}
	if err := p.AppendDescriptor(*d); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	exp := pushAndPlan(ctx, t, dir)
	want, _ := img.Digest()
	if len(exp.manifests) != 1 || exp.manifests[0].Digest != want {
		t.Fatalf("planned %d manifests, want the one image %s", len(exp.manifests), want)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("push and plan took %v", took)
	}
}

// ctr image export writes one image under two names as two entries with
// the same digest and tag but different io.containerd.image.name: both
// names must survive, into the docker-archive's tags.
func TestOneImageUnderTwoNamesKeepsBoth(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	img, _ := random.Image(1<<10, 1)
	img, _ = mutate.ConfigFile(img, &v1.ConfigFile{OS: "linux", Architecture: "amd64"})
	for _, n := range []string{"docker.io/library/alpine:3.19", "registry.local/alpine:3.19"} {
		if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{annotationContainerdName: n, AnnotationRefName: "3.19"})); err != nil {
			t.Fatal(err)
		}
	}
	exp := pushAndPlan(ctx, t, dir)
	imgs, err := exp.dockerImages(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 2 {
		t.Errorf("docker-archive has %d tags (%v), want both names", len(imgs), exp.Names())
	}
}

// One manifest listed for two platforms (arm v6 and v7 sharing a build)
// is selectable as either.
func TestOneManifestUnderTwoPlatformsMatchesBoth(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	img, _ := random.Image(1<<10, 1)
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}}},
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm", Variant: "v6"}}},
	)
	if err := p.AppendIndex(idx); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"linux/arm/v6", "linux/arm/v7"} {
		plat, _ := ParsePlatform(want)
		if _, err := ImportPath(ctx, mdtest.Mock(), dir, ImportOptions{Platform: plat}); err != nil {
			t.Errorf("push --platform %s: %v", want, err)
		}
	}
}
