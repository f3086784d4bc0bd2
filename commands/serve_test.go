package commands

import (
	"context"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/imgp2p/imgp2p/image"
)

// withheldDAG never returns the withheld blocks: a Get of one waits for
// its context to end, as an online node waits for blocks no peer has, or
// with failFast fails at once, as an offline node does.
type withheldDAG struct {
	ipld.DAGService
	mu       sync.Mutex
	withheld map[cid.Cid]bool
	failFast bool
}

func (d *withheldDAG) Get(ctx context.Context, c cid.Cid) (ipld.Node, error) {
	d.mu.Lock()
	withheld, failFast := d.withheld[c], d.failFast
	d.mu.Unlock()
	switch {
	case withheld && failFast:
		return nil, ipld.ErrNotFound{Cid: c}
	case withheld:
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return d.DAGService.Get(ctx, c)
}

func (d *withheldDAG) set(withheld map[cid.Cid]bool, failFast bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.withheld, d.failFast = withheld, failFast
}

// The gateway served a two-platform image from a peer that holds only one
// platform: recording the image, which reads every platform's manifest,
// must neither hold up the response nor hold up shutdown, and a failed
// record is tried again the next time the image is served.
func TestServedRecorderWorksBesideTheResponse(t *testing.T) {
	ctx := context.Background()
	amd, _ := random.Image(1<<10, 1)
	arm, _ := random.Image(1<<10, 1)
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}})
	repo, imp := repoWith(t, func(p layout.Path) error { return p.AppendIndex(idx) })
	dag := &withheldDAG{DAGService: repo.OfflineDAG(), withheld: map[cid.Cid]bool{}}
	root, err := image.Open(ctx, dag, imp.Root)
	if err != nil {
		t.Fatal(err)
	}
	armDigest, _ := arm.Digest()
	armFile, err := root.BlobCID(ctx, armDigest)
	if err != nil {
		t.Fatal(err)
	}
	dag.set(map[cid.Cid]bool{armFile: true}, false)
	recorded := func() bool {
		_, ok, err := repo.Images.Get(ctx, imp.Root)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}

	rec := newServedRecorder(&localBackend{repo: repo})
	start := time.Now()
	rec.served(ctx, root)
	if took := time.Since(start); took > time.Second {
		t.Fatalf("served took %v: the response waited for the record", took)
	}
	start = time.Now()
	rec.stop()
	if took := time.Since(start); took > 10*time.Second || recorded() {
		t.Fatalf("stop took %v, recorded %v: want a prompt stop and no record", took, recorded())
	}

	// Fails now: the next time the image is served it is tried again.
	dag.set(map[cid.Cid]bool{armFile: true}, true)
	rec = newServedRecorder(&localBackend{repo: repo})
	defer rec.stop()
	rec.served(ctx, root)
	deadline := time.Now().Add(10 * time.Second)
	for rec.recording(root.CID) {
		if time.Now().After(deadline) {
			t.Fatal("a record that cannot succeed is still under way after 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if recorded() {
		t.Fatal("recorded an image one of whose manifests could not be read")
	}
	dag.set(nil, false)
	rec.served(ctx, root)
	for !recorded() {
		if time.Now().After(deadline) {
			t.Fatal("the image was not recorded once every manifest could be read")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
