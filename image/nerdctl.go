package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// nerdctl's IPFS format (containerd/stargz-snapshotter ipfs/converter.go):
// every blob is its own UnixFS file, each descriptor carries
// "urls":["ipfs://<cid>"], and the root is the JSON of the top descriptor,
// stored as a small file. Nothing links the blobs to the root but those
// urls, so a reader follows them and must verify every blob itself.

// urlBlobs finds a nerdctl root's blobs through the urls its descriptors
// carry.
type urlBlobs struct {
	dag ipld.DAGService
	m   map[string]cid.Cid // digest hex → file CID
}

func (u urlBlobs) find(_ context.Context, hex string) (cid.Cid, error) {
	c, ok := u.m[hex]
	if !ok {
		return cid.Undef, fmt.Errorf("blob sha256:%s: %w", hex, os.ErrNotExist)
	}
	return c, nil
}

func (u urlBlobs) files(context.Context) ([]cid.Cid, error) {
	out := make([]cid.Cid, 0, len(u.m))
	for _, c := range u.m {
		out = append(out, c)
	}
	return out, nil
}

// ipfsURL returns the CID a descriptor's ipfs:// url names.
func ipfsURL(d v1.Descriptor) (cid.Cid, bool) {
	for _, u := range d.URLs {
		if rest, ok := strings.CutPrefix(u, "ipfs://"); ok {
			if c, err := cid.Decode(rest); err == nil {
				return c, true
			}
		}
	}
	return cid.Undef, false
}

// openNerdctl reads a root that is a file: a nerdctl descriptor. It walks
// the descriptors' urls once, verifying each manifest and index it reads,
// and presents the image as a layout whose index.json lists that one
// descriptor.
func openNerdctl(ctx context.Context, dag ipld.DAGService, c cid.Cid, nd ipld.Node, notImage func(string) error) (*Root, error) {
	const why = "it is neither an image layout directory nor a nerdctl ipfs:// descriptor"
	size, err := fileSize(nd)
	if err != nil || size > maxMetadataSize {
		return nil, notImage(why)
	}
	raw, err := readNode(ctx, dag, nd, maxMetadataSize)
	if err != nil {
		return nil, err
	}
	var top v1.Descriptor
	if json.Unmarshal(raw, &top) != nil || !(isIndex(top.MediaType) || isManifest(top.MediaType)) {
		return nil, notImage(why)
	}
	if _, ok := ipfsURL(top); !ok {
		return nil, notImage(why)
	}
	blobs := urlBlobs{dag: dag, m: map[string]cid.Cid{}}
	if err := blobs.walk(ctx, top, 0, newMetaBudget()); err != nil {
		return nil, fmt.Errorf("nerdctl root %s: %w", c, err)
	}
	index := &v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{top}}
	rawIndex, err := json.Marshal(index)
	if err != nil {
		return nil, err
	}
	return &Root{CID: c, dag: dag, blobs: blobs, rawIndex: rawIndex, index: index}, nil
}

// walk records the CID of d's blob and, for indexes and manifests, of
// everything they name, charging what it reads to budget.
func (u urlBlobs) walk(ctx context.Context, d v1.Descriptor, depth int, budget *metaBudget) error {
	if err := tooDeep(d.MediaType, depth); err != nil {
		return err
	}
	if err := checkDescriptor(d); err != nil {
		return err
	}
	if len(u.m) >= maxBlobs {
		return fmt.Errorf("image has more than %d blobs", maxBlobs)
	}
	if _, done := u.m[d.Digest.Hex]; done {
		return nil // what it names was walked the first time
	}
	c, ok := ipfsURL(d)
	if !ok {
		return fmt.Errorf("descriptor of %s has no ipfs:// url", d.Digest)
	}
	u.m[d.Digest.Hex] = c
	if !isIndex(d.MediaType) && !isManifest(d.MediaType) {
		return nil
	}
	if d.Size > maxMetadataSize {
		return fmt.Errorf("blob %s: %d bytes is too large for metadata (limit %d)", d.Digest, d.Size, maxMetadataSize)
	}
	if err := budget.spend(d); err != nil {
		return err
	}
	nd, err := u.dag.Get(ctx, c)
	if err != nil {
		return fmt.Errorf("blob %s (%s): %w", d.Digest, c, err)
	}
	raw, err := readNode(ctx, u.dag, nd, maxMetadataSize)
	if err != nil {
		return fmt.Errorf("blob %s: %w", d.Digest, err)
	}
	if got := fmt.Sprintf("%x", sha256.Sum256(raw)); got != d.Digest.Hex || int64(len(raw)) != d.Size {
		return fmt.Errorf("blob %s at %s: content has digest sha256:%s and %d bytes (corrupt or wrong url)", d.Digest, c, got, len(raw))
	}
	var children []v1.Descriptor
	if isIndex(d.MediaType) {
		idx, err := v1.ParseIndexManifest(bytes.NewReader(raw))
		if err != nil {
			return fmt.Errorf("index %s: %w", d.Digest, err)
		}
		children = idx.Manifests
	} else {
		m, err := v1.ParseManifest(bytes.NewReader(raw))
		if err != nil {
			return fmt.Errorf("manifest %s: %w", d.Digest, err)
		}
		children = append([]v1.Descriptor{m.Config}, m.Layers...)
	}
	for _, child := range children {
		if err := u.walk(ctx, child, depth+1, budget); err != nil {
			return err
		}
	}
	return nil
}

// PinSet lists what must be pinned to keep the whole image: the root
// alone for a native root, whose DAG links everything; the root and every
// blob file for a nerdctl root, whose blobs hang off urls, not links.
func (r *Root) PinSet(ctx context.Context) ([]cid.Cid, error) {
	if _, detached := r.blobs.(urlBlobs); !detached {
		return []cid.Cid{r.CID}, nil
	}
	files, err := r.blobs.files(ctx)
	if err != nil {
		return nil, err
	}
	return append([]cid.Cid{r.CID}, files...), nil
}
