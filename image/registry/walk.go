package registry

import (
	"context"
	"encoding/json"
	"errors"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgp2p/imgp2p/image"
)

// walkManifests calls visit with the bytes of every image manifest and
// index in the root: those index.json lists and, through each index, those
// it lists, each once. Entries listed but not held (a root pushed with
// --platform keeps its index whole) are skipped: there is nothing of
// theirs to serve. Any other failure to read one ends the walk, so a
// caller never takes a partial walk for a whole one.
func walkManifests(ctx context.Context, root *image.Root, visit func(d v1.Descriptor, raw []byte)) error {
	seen := map[v1.Hash]bool{}
	queue := append([]v1.Descriptor{}, root.Index().Manifests...)
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		if seen[d.Digest] || !(d.MediaType.IsImage() || d.MediaType.IsIndex()) {
			continue
		}
		seen[d.Digest] = true
		raw, err := root.ReadManifest(ctx, d.Digest)
		if errors.Is(err, image.ErrBlobNotInImage) {
			continue
		}
		if err != nil {
			return err
		}
		visit(d, raw)
		if d.MediaType.IsIndex() {
			var idx v1.IndexManifest
			if json.Unmarshal(raw, &idx) == nil {
				queue = append(queue, idx.Manifests...)
			}
		}
	}
	return nil
}
