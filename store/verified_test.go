package store

import (
	"context"
	"testing"

	"github.com/ipfs/go-cid"
)

// A file recorded as matching a digest stays recorded across a reopen,
// under either CID version, and only for that digest.
func TestVerifiedBlobsPersist(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	// A file of several chunks: a dag-pb node, which CIDv0 can name too.
	file := cid.NewCidV1(cid.DagProtobuf, randomBlock(t, 100).Cid().Hash())
	const digest = "sha256:aaaa"
	if r.Verified.Has(ctx, file, digest) {
		t.Fatal("a new repo holds a verified file")
	}
	if err := r.Verified.Add(ctx, file, digest); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if r, err = Open(ctx, dir); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	v0 := cid.NewCidV0(file.Hash())
	if !r.Verified.Has(ctx, file, digest) || !r.Verified.Has(ctx, v0, digest) {
		t.Error("the record did not survive a reopen, or not under both CID versions")
	}
	if r.Verified.Has(ctx, file, "sha256:bbbb") {
		t.Error("a file recorded for one digest passes for another")
	}
}
