package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"regexp"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgp2p/imgp2p/image"
)

// Signatures, SBOMs and attestations sit in index.json beside the image
// they describe, with no platform: `cosign save` and oras layouts look like
// that. Served with the image as one index, they left docker finding "no
// matching manifest for linux/amd64" (it skips entries without a platform,
// so the image too), and beside a multi-platform index they made latest an
// index of indexes, which is not served at all. A tag that names an image
// and artifacts names the image.

// referrersTag is the spec's referrers tag schema: an index of the
// referrers of sha256:<hex>, kept by registries without the referrers API.
var referrersTag = regexp.MustCompile(`^sha256-[0-9a-f]{64}$`)

// withoutArtifacts drops the artifacts from several entries a tag names,
// unless nothing else would be left.
func withoutArtifacts(ctx context.Context, root *image.Root, descs []v1.Descriptor) ([]v1.Descriptor, error) {
	if len(distinctDigests(descs)) < 2 {
		return descs, nil
	}
	var images []v1.Descriptor
	for _, d := range descs {
		artifact, err := isArtifact(ctx, root, d)
		if err != nil {
			return nil, err
		}
		if !artifact {
			images = append(images, d)
		}
	}
	if len(images) == 0 {
		return descs, nil
	}
	return images, nil
}

// isArtifact says whether an index.json entry is something other than an
// image to run: a referrers list, anything with a subject or an
// artifactType, or a manifest whose config or layers are not an image's.
// An entry it cannot judge (not held, not JSON) counts as an image, so
// serving it fails as it did before.
func isArtifact(ctx context.Context, root *image.Root, d v1.Descriptor) (bool, error) {
	if referrersTag.MatchString(refTag(d)) {
		return true, nil
	}
	if !d.MediaType.IsImage() && !d.MediaType.IsIndex() {
		return false, nil
	}
	raw, err := root.ReadManifest(ctx, d.Digest)
	if errors.Is(err, image.ErrBlobNotInImage) || errors.Is(err, image.ErrTooLargeForMetadata) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var probe struct {
		ArtifactType string         `json:"artifactType"`
		Subject      *v1.Descriptor `json:"subject"`
	}
	if json.Unmarshal(raw, &probe) != nil {
		return false, nil
	}
	if probe.ArtifactType != "" || probe.Subject != nil {
		return true, nil
	}
	if d.MediaType.IsIndex() {
		return false, nil
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	return err == nil && !image.IsContainerImage(m), nil
}
