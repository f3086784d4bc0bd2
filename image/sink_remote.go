package image

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// WriteRemote pushes the export to a registry under ref (HOST/REPO:TAG or
// HOST/REPO@sha256:…) and returns the descriptor of what ref now names.
// Manifests and indexes go up byte for byte, so the registry serves the
// same digests the root holds.
//
// A tag names one thing: the export's image or index when it has one,
// else an index of all of them — the root's index.json itself, or for a
// platform-filtered export, the index of the images kept.
func (e *Export) WriteRemote(ctx context.Context, ref string, ro RemoteOptions) (v1.Descriptor, error) {
	r, err := ro.parse(ref)
	if err != nil {
		return v1.Descriptor{}, err
	}
	top, raw, err := e.pushTarget()
	if err != nil {
		return v1.Descriptor{}, err
	}
	// A registry stores a manifest put under a digest it does not have
	// only if it fails to check (ggcr's registry does not), and then
	// serves other bytes than the digest names; one that checks refuses
	// it only after every blob went up. So refuse it here, before either.
	if d, ok := r.(name.Digest); ok && d.DigestStr() != top.Digest.String() {
		return v1.Descriptor{}, fmt.Errorf("%s names digest %s, but what goes up is %s: write a tag, or @%s",
			ref, d.DigestStr(), top.Digest, top.Digest)
	}
	opts, err := ro.remote(ctx, r.Context().Registry)
	if err != nil {
		return v1.Descriptor{}, err
	}
	mu := &sync.Mutex{}
	if isManifest(top.MediaType) {
		img, err := e.root.lockedImage(ctx, top, mu)
		if err != nil {
			return v1.Descriptor{}, err
		}
		err = remote.Write(r, img, opts...)
		if err != nil {
			return v1.Descriptor{}, registryError(r, err)
		}
		return top, nil
	}
	if raw == nil {
		if raw, err = e.root.readMeta(ctx, top); err != nil {
			return v1.Descriptor{}, err
		}
	}
	idx := &dagIndex{ctx: ctx, root: e.root, desc: top, raw: raw, mu: mu}
	if err := remote.WriteIndex(r, idx, opts...); err != nil {
		return v1.Descriptor{}, registryError(r, err)
	}
	return top, nil
}

// pushTarget chooses what the tag names. Raw is set only for an index
// made from index.json, which is no blob of the root.
func (e *Export) pushTarget() (v1.Descriptor, []byte, error) {
	top := e.root.index.Manifests
	if e.filtered {
		top = e.manifests
	}
	// A docker-archive saved with two tags of one image lists it twice.
	distinct := map[v1.Hash]bool{}
	for _, d := range top {
		distinct[d.Digest] = true
	}
	if len(distinct) == 1 {
		d := top[0]
		if !isIndex(d.MediaType) && !isManifest(d.MediaType) {
			return v1.Descriptor{}, nil, fmt.Errorf("image %s holds a %q, which is no image or index a registry tag can name", e.root.CID, d.MediaType)
		}
		return v1.Descriptor{MediaType: d.MediaType, Size: d.Size, Digest: d.Digest}, nil, nil
	}
	raw, err := e.indexJSON()
	if err != nil {
		return v1.Descriptor{}, nil, err
	}
	h, size, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return v1.Descriptor{}, nil, err
	}
	return v1.Descriptor{MediaType: types.OCIImageIndex, Size: size, Digest: h}, raw, nil
}
