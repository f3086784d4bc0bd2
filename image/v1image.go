package image

import (
	"context"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// dagImage is one image manifest of a root as a go-containerregistry
// image, so that the library's writers (docker-archive, registry) work on
// the DAG without knowing where its bytes come from. ggcr's interfaces take
// no context; the one the image was opened with bounds every read.
type dagImage struct {
	ctx      context.Context
	root     *Root
	desc     v1.Descriptor
	manifest []byte
	config   []byte
}

var _ partial.CompressedImageCore = (*dagImage)(nil)

// v1Image opens the manifest d names as a v1.Image.
func (r *Root) v1Image(ctx context.Context, d v1.Descriptor) (v1.Image, error) {
	raw, err := r.readMeta(ctx, d)
	if err != nil {
		return nil, err
	}
	img := &dagImage{ctx: ctx, root: r, desc: d, manifest: raw}
	m, err := partial.Manifest(img)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", d.Digest, err)
	}
	if img.config, err = r.readMeta(ctx, m.Config); err != nil {
		return nil, err
	}
	return partial.CompressedToImage(img)
}

func (i *dagImage) RawManifest() ([]byte, error)        { return i.manifest, nil }
func (i *dagImage) RawConfigFile() ([]byte, error)      { return i.config, nil }
func (i *dagImage) MediaType() (types.MediaType, error) { return i.desc.MediaType, nil }
func (i *dagImage) Descriptor() (*v1.Descriptor, error) { d := i.desc; return &d, nil }
func (i *dagImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	m, err := partial.Manifest(i)
	if err != nil {
		return nil, err
	}
	if m.Config.Digest == h {
		return &dagLayer{img: i, desc: m.Config}, nil
	}
	for _, l := range m.Layers {
		if l.Digest == h {
			return &dagLayer{img: i, desc: l}, nil
		}
	}
	return nil, fmt.Errorf("blob %s is not part of manifest %s", h, i.desc.Digest)
}

// dagLayer is a blob of a dagImage, streamed and verified on each open.
type dagLayer struct {
	img  *dagImage
	desc v1.Descriptor
}

func (l *dagLayer) Digest() (v1.Hash, error)            { return l.desc.Digest, nil }
func (l *dagLayer) Size() (int64, error)                { return l.desc.Size, nil }
func (l *dagLayer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }
func (l *dagLayer) Compressed() (io.ReadCloser, error)  { return l.img.root.OpenBlob(l.img.ctx, l.desc) }
