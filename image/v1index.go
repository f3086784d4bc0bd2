package image

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// dagIndex is an image index of a root as a go-containerregistry index,
// so that remote.WriteIndex pushes it with its bytes, and so its digest,
// unchanged. Like dagImage, the context it was opened with bounds every
// read.
//
// remote.WriteIndex uploads several blobs at once, but a root's blob
// directory is not safe for concurrent lookups (a large one is a HAMT
// that caches what it loads), so every blob is opened under mu; reading
// the opened blobs still runs in parallel.
type dagIndex struct {
	ctx  context.Context
	root *Root
	desc v1.Descriptor
	raw  []byte
	mu   *sync.Mutex
}

var _ v1.ImageIndex = (*dagIndex)(nil)

func (x *dagIndex) MediaType() (types.MediaType, error) { return x.desc.MediaType, nil }
func (x *dagIndex) Digest() (v1.Hash, error)            { return x.desc.Digest, nil }
func (x *dagIndex) Size() (int64, error)                { return x.desc.Size, nil }
func (x *dagIndex) RawManifest() ([]byte, error)        { return x.raw, nil }
func (x *dagIndex) IndexManifest() (*v1.IndexManifest, error) {
	return v1.ParseIndexManifest(bytes.NewReader(x.raw))
}

// child finds the descriptor of h in the index: a child is opened with
// what its parent says of it.
func (x *dagIndex) child(h v1.Hash) (v1.Descriptor, error) {
	m, err := x.IndexManifest()
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("index %s: %w", x.desc.Digest, err)
	}
	for _, d := range m.Manifests {
		if d.Digest == h {
			return d, nil
		}
	}
	return v1.Descriptor{}, fmt.Errorf("%s is not part of index %s", h, x.desc.Digest)
}

func (x *dagIndex) Image(h v1.Hash) (v1.Image, error) {
	d, err := x.child(h)
	if err != nil {
		return nil, err
	}
	return x.root.lockedImage(x.ctx, d, x.mu)
}

func (x *dagIndex) ImageIndex(h v1.Hash) (v1.ImageIndex, error) {
	d, err := x.child(h)
	if err != nil {
		return nil, err
	}
	x.mu.Lock()
	raw, err := x.root.readMeta(x.ctx, d)
	x.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return &dagIndex{ctx: x.ctx, root: x.root, desc: d, raw: raw, mu: x.mu}, nil
}

// lockedImage opens the manifest d names as a v1.Image whose blobs are
// opened under mu.
func (r *Root) lockedImage(ctx context.Context, d v1.Descriptor, mu *sync.Mutex) (v1.Image, error) {
	mu.Lock()
	img, err := r.v1Image(ctx, d)
	mu.Unlock()
	if err != nil {
		return nil, err
	}
	return &lockedImage{Image: img, mu: mu}, nil
}

type lockedImage struct {
	v1.Image
	mu *sync.Mutex
}

func (i *lockedImage) Layers() ([]v1.Layer, error) {
	ls, err := i.Image.Layers()
	if err != nil {
		return nil, err
	}
	out := make([]v1.Layer, len(ls))
	for n, l := range ls {
		out[n] = &lockedLayer{Layer: l, mu: i.mu}
	}
	return out, nil
}

func (i *lockedImage) LayerByDigest(h v1.Hash) (v1.Layer, error) {
	l, err := i.Image.LayerByDigest(h)
	if err != nil {
		return nil, err
	}
	return &lockedLayer{Layer: l, mu: i.mu}, nil
}

type lockedLayer struct {
	v1.Layer
	mu *sync.Mutex
}

func (l *lockedLayer) Compressed() (io.ReadCloser, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.Layer.Compressed()
}
