package image

import (
	"context"
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// missingBlob reports a blob the source's index leads to but the source
// does not hold.
type missingBlob struct {
	digest v1.Hash
	from   string
}

func (e missingBlob) Error() string {
	return fmt.Sprintf("blob %s is missing from %s", e.digest, e.from)
}

// explainMissing says what to do when a push of every platform failed with
// err because some platforms' blobs are absent. `ctr images export`,
// `nerdctl save` and `docker save` with the containerd image store write
// the whole multi-platform index but only the content of the platforms
// pulled, so the most common images (every official one is multi-platform)
// arrive that way. Each image of manifests is walked on its own to learn
// which are whole.
func (b *layoutBuilder) explainMissing(ctx context.Context, manifests []v1.Descriptor, err error) error {
	var missing missingBlob
	if !errors.As(err, &missing) {
		return err
	}
	// Blobs already added are not added again; only the record of what was
	// walked must go, as an image walked before the failure may be partial.
	b.walked = map[string]bool{}
	var whole, partial []v1.Descriptor
	for _, d := range manifests {
		werr := b.walk(ctx, d, 0)
		switch {
		case werr == nil:
			whole = append(whole, d)
		case errors.As(werr, &missing):
			partial = append(partial, d)
		default:
			return err
		}
	}
	var pick *v1.Platform
	for _, d := range whole {
		if d.Platform != nil {
			pick = d.Platform
			break
		}
	}
	if pick == nil || len(partial) == 0 {
		return err
	}
	return fmt.Errorf("%w: it holds the images for %v but not for %v, which its index lists too "+
		"(ctr images export and nerdctl save keep only the platforms pulled): "+
		"push with --platform %s, or export with --all-platforms",
		err, platformList(whole), platformList(partial), formatPlatform(pick))
}
