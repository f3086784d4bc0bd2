package image

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"
)

// nestedIndexes is a layout whose index.json reaches its one image
// through depth image indexes, each listing the next.
func nestedIndexes(depth int) (blobs [][]byte, index []byte) {
	cfg, layer := smallImage()
	m := []byte(manifestNaming(descOf(types.OCIConfigJSON, cfg), descOf(types.OCILayer, layer), `"x":"y"}}`))
	blobs = [][]byte{cfg, layer, m}
	top := descOf(types.OCIManifestSchema1, m)
	for range depth {
		raw, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{top}})
		blobs = append(blobs, raw)
		top = descOf(types.OCIImageIndex, raw)
	}
	index, _ = json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{top}})
	return blobs, index
}

// .github/SECURITY.md limits index nesting to 8 levels below index.json, on push
// and on pull.
func TestIndexNestingLimit(t *testing.T) {
	ctx := context.Background()
	for depth, ok := range map[int]bool{maxNesting: true, maxNesting + 1: false} {
		blobs, index := nestedIndexes(depth)
		_, err := ImportArchive(ctx, mdtest.Mock(), bytes.NewReader(gzipOCIArchive(t, blobs, index)), ImportOptions{})
		if ok != (err == nil) || !ok && !strings.Contains(err.Error(), "nested deeper") {
			t.Errorf("push of an image %d indexes deep: %v", depth, err)
		}
		dag := mdtest.Mock()
		r, err := Open(ctx, dag, hostileRoot(t, dag, blobs, index))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []*v1.Platform{nil, HostPlatform()} {
			_, err := r.Plan(ctx, ExportOptions{Platform: p})
			if ok != (err == nil) || !ok && !strings.Contains(err.Error(), "nested deeper") {
				t.Errorf("plan (platform %v) of an image %d indexes deep: %v", p, depth, err)
			}
		}
	}
}

// .github/SECURITY.md limits an image to 100,000 blobs. Push enforced it; a plan
// did not, so a root whose manifests listed more (descriptors are a
// hundred bytes each: 30 manifests of 350 KB list 102,000) was planned
// and fetched whole.
func TestPlanRefusesMoreThanMaxBlobs(t *testing.T) {
	ctx := context.Background()
	cfg, _ := smallImage()
	const manifests, layers = 30, 3400
	blobs := [][]byte{cfg}
	idx := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
	for i := range manifests {
		m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: descOf(types.OCIConfigJSON, cfg)}
		for j := range layers {
			// Layers the root does not hold: a plan reads none of them.
			m.Layers = append(m.Layers, descOf(types.OCILayer, fmt.Appendf(nil, "layer %d/%d", i, j)))
		}
		raw, _ := json.Marshal(m)
		blobs = append(blobs, raw)
		d := descOf(types.OCIManifestSchema1, raw)
		d.Platform = HostPlatform()
		idx.Manifests = append(idx.Manifests, d)
	}
	index, _ := json.Marshal(idx)
	dag := mdtest.Mock()
	r, err := Open(ctx, dag, hostileRoot(t, dag, blobs, index))
	if err != nil {
		t.Fatal(err)
	}
	exp, err := r.Plan(ctx, ExportOptions{})
	if err == nil || !strings.Contains(err.Error(), "more than 100000 blobs") {
		n := 0
		if exp != nil {
			n = len(exp.Blobs())
		}
		t.Errorf("plan of %d blobs: %v (planned %d)", manifests*(layers+1)+1, err, n)
	}
}
