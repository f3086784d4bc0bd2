package image

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/ipfs/boxo/ipld/merkledag"
	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"
	"github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// chainFile stores a one-byte file whose root sits depth nodes above its
// only leaf, each node one link to the next with honest sizes: anyone can
// build one, a few dozen bytes a level.
func chainFile(t *testing.T, dag ipld.DAGService, depth int) (ipld.Node, v1.Descriptor) {
	t.Helper()
	ctx := context.Background()
	content := []byte("x")
	var nd ipld.Node = merkledag.NewRawNode(content)
	if err := dag.Add(ctx, nd); err != nil {
		t.Fatal(err)
	}
	for range depth {
		fsn := unixfs.NewFSNode(unixfs.TFile)
		fsn.AddBlockSize(uint64(len(content)))
		data, err := fsn.GetBytes()
		if err != nil {
			t.Fatal(err)
		}
		p := merkledag.NodeWithData(data)
		p.SetCidBuilder(Profile.CidBuilder())
		if err := p.AddNodeLink("", nd); err != nil {
			t.Fatal(err)
		}
		if err := dag.Add(ctx, p); err != nil {
			t.Fatal(err)
		}
		nd = p
	}
	d := v1.Descriptor{Digest: v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(content))}, Size: int64(len(content))}
	return nd, d
}

// A file DAG nested deeper than any importer builds is refused, whole or
// ranged, rather than read one stack frame per level: 200,000 levels (6 MB
// of blocks) overflowed a 64 MiB stack, a fatal error no recover catches,
// and the default 1 GiB stack a few million levels. The gateway reads
// blobs that way, so one such blob ended the daemon.
func TestReadsRefuseAFileNestedTooDeep(t *testing.T) {
	defer debug.SetMaxStack(debug.SetMaxStack(64 << 20))
	ctx := context.Background()
	dag := mdtest.Mock()
	top, d := chainFile(t, dag, 200_000)
	r := &Root{dag: dag, blobs: dirBlobs{links: map[string]cid.Cid{d.Digest.Hex: top.Cid()}}}
	wantDeep := func(what string, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), "nested deeper than") {
			t.Errorf("%s of a file 200,000 levels deep: %v, want it refused as too deep", what, err)
		}
	}
	wantDeep("WriteBlob", r.WriteBlob(ctx, d, io.Discard))
	wantDeep("WriteBlobRange", r.WriteBlobRange(ctx, d.Digest, 0, 1, io.Discard))

	// As deep as a real file gets still reads.
	top, d = chainFile(t, dag, maxFileDepth)
	r = &Root{dag: dag, blobs: dirBlobs{links: map[string]cid.Cid{d.Digest.Hex: top.Cid()}}}
	if err := r.WriteBlob(ctx, d, io.Discard); err != nil {
		t.Errorf("WriteBlob of a file %d levels deep: %v", maxFileDepth, err)
	}
}
