package testimage

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// MultiRef is the ref.name annotation of the multi-platform index.
const MultiRef = "imgp2p-test/multi:v1"

// MultiPlatforms are the platforms of the multi-platform index, in order.
// Both images are the real hello program, cross-compiled, so whichever one
// the host can run prints HelloLine and the two never share a layer.
var MultiPlatforms = []v1.Platform{
	{OS: "linux", Architecture: "amd64"},
	{OS: "linux", Architecture: "arm64"},
}

// MultiIndex is an OCI image index with one hello image per MultiPlatforms
// entry, each descriptor carrying its platform.
func MultiIndex() (v1.ImageIndex, error) {
	var adds []mutate.IndexAddendum
	for _, p := range MultiPlatforms {
		img, err := HelloImage(p.Architecture)
		if err != nil {
			return nil, err
		}
		adds = append(adds, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: p.OS, Architecture: p.Architecture}},
		})
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	return mutate.AppendManifests(idx, adds...), nil
}

// WriteMulti writes an OCI layout whose index.json points, under MultiRef,
// at a nested image index (the shape `docker buildx --output type=oci` and
// skopeo produce), not at the manifests directly.
func WriteMulti(dir string) error {
	idx, err := MultiIndex()
	if err != nil {
		return err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("creating layout %s: %w", dir, err)
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{RefNameAnnotation: MultiRef})); err != nil {
		return fmt.Errorf("writing index to %s: %w", dir, err)
	}
	return normalizeModes(dir)
}
