package image

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The test vector of stargz-snapshotter's docs/ipfs.md.
const (
	nerdctlVector    = `{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:80d6aec48c0a74635a5f3dc106328c1673afaa21ed6e1270a9a44de66e8ffa55","size":314,"urls":["ipfs://bafkreiea22xmjdakorrvuxz5yeddfdawoox2uipnnyjhbknejxtg5d72ku"]}`
	nerdctlVectorCID = "bafkreie7754qk7fl56ebauawdgfuqqa3kdd7sotvuhsm6wbz3qin6ssw3a"
)

func TestNerdctlTestVector(t *testing.T) {
	var d ocispec.Descriptor
	if err := json.Unmarshal([]byte(nerdctlVector), &d); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(d)
	if string(raw) != nerdctlVector {
		t.Fatalf("marshalled descriptor\n%s\nwant\n%s", raw, nerdctlVector)
	}
	f, err := addFileWith(context.Background(), mdtest.Mock(), bytes.NewReader(raw), kuboFiles)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.node.Cid().String(); got != nerdctlVectorCID {
		t.Fatalf("root CID %s, want %s", got, nerdctlVectorCID)
	}
}

func TestNerdctlRoundTripKeepsLayerBytes(t *testing.T) {
	ctx := context.Background()
	dir := writeLayout(t)
	dag := mdtest.Mock()
	imp, err := ImportLayout(ctx, dag, dir, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := WriteNerdctl(ctx, dag, imp.Root)
	if err != nil {
		t.Fatal(err)
	}
	if n.Root.Type() != 0x55 { // raw: a small descriptor is one raw block
		t.Fatalf("nerdctl root %s is not a raw block", n.Root)
	}
	root, err := Open(ctx, dag, n.Root)
	if err != nil {
		t.Fatal(err)
	}
	native, _ := Open(ctx, dag, imp.Root)
	for _, platform := range []string{"linux/amd64", "linux/arm64"} {
		p, _ := ParsePlatform(platform)
		got, err := root.Plan(ctx, ExportOptions{Platform: p})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := native.Plan(ctx, ExportOptions{Platform: p})
		if len(got.Blobs()) != len(want.Blobs()) {
			t.Fatalf("%s: %d blobs, native has %d", platform, len(got.Blobs()), len(want.Blobs()))
		}
		// Layers and config are the same bytes; only manifests differ.
		for _, d := range want.Blobs()[1:] {
			a := readAll(t, native, d)
			b := readAll(t, root, d)
			if !bytes.Equal(a, b) {
				t.Fatalf("%s: blob %s differs", platform, d.Digest)
			}
		}
		var out bytes.Buffer
		if err := got.WriteDockerArchive(ctx, &out, []string{"example.com/n:v1"}); err != nil {
			t.Fatalf("%s: docker export of the nerdctl root: %v", platform, err)
		}
	}
}

func readAll(t *testing.T, r *Root, d v1.Descriptor) []byte {
	t.Helper()
	rc, err := r.OpenBlob(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
