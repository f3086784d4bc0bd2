package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// blobFiles lists the blob digests present in the layout at dir.
func blobFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, "sha256:"+e.Name())
	}
	slices.Sort(names)
	return names
}

// sameLayout fails unless got holds the same index.json bytes and exactly
// the same blob files, byte for byte, as want.
func sameLayout(t *testing.T, got, want string) {
	t.Helper()
	if !bytes.Equal(readFile(t, filepath.Join(got, "index.json")), readFile(t, filepath.Join(want, "index.json"))) {
		t.Errorf("index.json differs:\ngot  %s\nwant %s", readFile(t, filepath.Join(got, "index.json")), readFile(t, filepath.Join(want, "index.json")))
	}
	gb, wb := blobFiles(t, got), blobFiles(t, want)
	if !slices.Equal(gb, wb) {
		t.Fatalf("blobs differ:\ngot  %v\nwant %v", gb, wb)
	}
	for _, b := range wb {
		h, _ := v1.NewHash(b)
		rel := filepath.Join("blobs", h.Algorithm, h.Hex)
		if !bytes.Equal(readFile(t, filepath.Join(got, rel)), readFile(t, filepath.Join(want, rel))) {
			t.Errorf("blob %s differs", b)
		}
	}
}

// reachable is what a layout's index.json leads to.
type reachable struct {
	blobs  []string            // every digest reached: indexes, manifests, configs, layers
	images map[string]v1.Image // image manifest digest → image
}

// walkLayout follows index.json through nested indexes to every image.
func walkLayout(t *testing.T, dir string) reachable {
	t.Helper()
	root, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := reachable{images: map[string]v1.Image{}}
	seen := map[string]bool{}
	add := func(h v1.Hash) {
		if !seen[h.String()] {
			seen[h.String()] = true
			r.blobs = append(r.blobs, h.String())
		}
	}
	var walk func(idx v1.ImageIndex)
	walk = func(idx v1.ImageIndex) {
		im, err := idx.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range im.Manifests {
			add(d.Digest)
			switch {
			case d.MediaType.IsIndex():
				child, err := idx.ImageIndex(d.Digest)
				if err != nil {
					t.Fatal(err)
				}
				walk(child)
			case d.MediaType.IsImage():
				img, err := idx.Image(d.Digest)
				if err != nil {
					t.Fatal(err)
				}
				m, err := img.Manifest()
				if err != nil {
					t.Fatal(err)
				}
				add(m.Config.Digest)
				for _, l := range m.Layers {
					add(l.Digest)
				}
				r.images[d.Digest.String()] = img
			}
		}
	}
	walk(root)
	slices.Sort(r.blobs)
	return r
}

// configArch is the architecture recorded in img's config.
func configArch(t *testing.T, img v1.Image) string {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	return cf.OS + "/" + cf.Architecture
}
