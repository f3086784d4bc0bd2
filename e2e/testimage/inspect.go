package testimage

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// FirstImage is the image of the first index.json entry of the layout at
// dir, which must be an image manifest (as WriteHello and WriteRandom make).
func FirstImage(dir string) (v1.Image, error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("reading layout %s: %w", dir, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	if len(im.Manifests) == 0 {
		return nil, fmt.Errorf("layout %s: index.json lists nothing", dir)
	}
	return idx.Image(im.Manifests[0].Digest)
}

// ImageDigests is what tests compare against after a round trip: the
// manifest digest, the config digest (docker's image ID) and layer digests
// of FirstImage(dir).
type ImageDigests struct {
	Manifest v1.Hash
	Config   v1.Hash
	Layers   []v1.Hash
}

// Digests reads ImageDigests of FirstImage(dir).
func Digests(dir string) (ImageDigests, error) {
	img, err := FirstImage(dir)
	if err != nil {
		return ImageDigests{}, err
	}
	var d ImageDigests
	if d.Manifest, err = img.Digest(); err != nil {
		return d, err
	}
	m, err := img.Manifest()
	if err != nil {
		return d, err
	}
	d.Config = m.Config.Digest
	for _, l := range m.Layers {
		d.Layers = append(d.Layers, l.Digest)
	}
	return d, nil
}
