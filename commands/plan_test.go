package commands

import (
	"context"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/imgp2p/imgp2p/image"
)

// A repo holding an image's metadata but not yet every blob's file node
// (a concurrent pull of the same image is midway) plans online, not fails.
// This raced in 16 concurrent pulls through one daemon.
func TestPlanLocalOfPartlyFetchedImageIsIncomplete(t *testing.T) {
	ctx := context.Background()
	img, err := random.Image(1<<10, 2)
	if err != nil {
		t.Fatal(err)
	}
	repo, imp := repoWith(t, func(p layout.Path) error { return p.AppendImage(img) })
	b := &localBackend{repo: repo}

	exp, st, err := b.planLocal(ctx, imp.Root, image.ExportOptions{})
	if err != nil || exp == nil || !st.Complete() {
		t.Fatalf("whole image: export %v, %+v, %v; want a complete local plan", exp != nil, st, err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	digest, err := layers[1].Digest()
	if err != nil {
		t.Fatal(err)
	}
	r, err := image.Open(ctx, repo.OfflineDAG(), imp.Root)
	if err != nil {
		t.Fatal(err)
	}
	file, err := r.BlobCID(ctx, digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.Blocks.DeleteBlock(ctx, file); err != nil {
		t.Fatal(err)
	}

	// The blob's CID is in the blobs directory, so the plan is made, but
	// it counts the blob as missing: the pull goes online for it.
	exp, st, err = b.planLocal(ctx, imp.Root, image.ExportOptions{})
	if err != nil || (exp != nil && st.Complete()) {
		t.Fatalf("layer file %s missing: export %v, %+v, error %v; want no complete local plan and no error", file, exp != nil, st, err)
	}
}
