package testimage

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// readTree maps every file under dir (slash-separated relative path) to its bytes.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	tree := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		b, err := os.ReadFile(path)
		tree[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

func sameTree(t *testing.T, a, b string) {
	t.Helper()
	ta, tb := readTree(t, a), readTree(t, b)
	if len(ta) != len(tb) {
		t.Errorf("%s has %d files, %s has %d", a, len(ta), b, len(tb))
	}
	for name, body := range ta {
		if !bytes.Equal(body, tb[name]) {
			t.Errorf("%s differs between %s and %s", name, a, b)
		}
	}
}

// validLayout runs ggcr's validator over everything the layout's index reaches.
func validLayout(t *testing.T, dir string) {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(idx); err != nil {
		t.Errorf("layout %s: %v", dir, err)
	}
}

func TestHelloReproducible(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, d := range []string{a, b} {
		if err := WriteHello(d, runtime.GOARCH); err != nil {
			t.Fatal(err)
		}
	}
	sameTree(t, a, b)
	validLayout(t, a)
	d, err := Digests(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Layers) != 1 {
		t.Errorf("hello has %d layers, want 1", len(d.Layers))
	}
}

func TestMultiReproducible(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, d := range []string{a, b} {
		if err := WriteMulti(d); err != nil {
			t.Fatal(err)
		}
	}
	sameTree(t, a, b)
	validLayout(t, a)
	// index.json → nested index → one manifest per platform.
	idx, _ := layout.ImageIndexFromPath(a)
	top, _ := idx.IndexManifest()
	if len(top.Manifests) != 1 || !top.Manifests[0].MediaType.IsIndex() {
		t.Fatalf("index.json should hold one nested index, got %+v", top.Manifests)
	}
	inner, err := idx.ImageIndex(top.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	im, _ := inner.IndexManifest()
	if len(im.Manifests) != len(MultiPlatforms) {
		t.Fatalf("nested index has %d manifests, want %d", len(im.Manifests), len(MultiPlatforms))
	}
	for i, m := range im.Manifests {
		if m.Platform == nil || m.Platform.Architecture != MultiPlatforms[i].Architecture {
			t.Errorf("manifest %d: platform %+v, want %+v", i, m.Platform, MultiPlatforms[i])
		}
	}
}

func TestRandomReproducible(t *testing.T) {
	a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
	for _, d := range []string{a, b} {
		if err := WriteRandom(d, 3, 42, runtime.GOARCH); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteRandom(c, 3, 43, runtime.GOARCH); err != nil {
		t.Fatal(err)
	}
	sameTree(t, a, b)
	validLayout(t, a)
	da, _ := Digests(a)
	dc, _ := Digests(c)
	if da.Layers[0] == dc.Layers[0] {
		t.Error("different seeds gave the same layer")
	}
	fi, err := os.Stat(BlobPath(a, da.Layers[0]))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() < 3<<20 {
		t.Errorf("3 MiB random layer is only %d bytes: it compressed", fi.Size())
	}
}

func TestCorruptBlob(t *testing.T) {
	dir := t.TempDir()
	if err := WriteHello(dir, runtime.GOARCH); err != nil {
		t.Fatal(err)
	}
	d, _ := Digests(dir)
	if err := CorruptBlob(dir, d.Layers[0]); err != nil {
		t.Fatal(err)
	}
	idx, _ := layout.ImageIndexFromPath(dir)
	if err := validate.Index(idx); err == nil {
		t.Error("validator accepted a layout with a corrupt layer")
	}
}

// The committed demo layout must stay a valid hello image.
func TestCommittedHello(t *testing.T) {
	dir := filepath.Join("..", "testdata", "hello")
	validLayout(t, dir)
	idx, _ := layout.ImageIndexFromPath(dir)
	im, _ := idx.IndexManifest()
	if got := im.Manifests[0].Annotations[RefNameAnnotation]; got != HelloRef {
		t.Errorf("ref.name = %q, want %q", got, HelloRef)
	}
}
