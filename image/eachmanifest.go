package image

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// EachManifest calls visit with the verified bytes of every image manifest
// and index the root holds: those index.json lists and, through each
// index, those it lists, each once. Entries listed but not held (a root
// pushed with --platform keeps its indexes whole) are skipped: there is
// nothing of theirs to read. The walk is bounded as every walk of an
// image is (nesting, entries, metadata in all), since a root's author can
// make reading its manifests cost far more than the blocks it holds. Any
// other failure ends the walk, so a caller never takes a partial walk for
// a whole one.
func (r *Root) EachManifest(ctx context.Context, visit func(d v1.Descriptor, raw []byte)) error {
	type entry struct {
		d     v1.Descriptor
		depth int // indexes above it, below index.json
	}
	seen := map[v1.Hash]bool{}
	budget := newMetaBudget()
	visits := len(r.index.Manifests)
	var queue []entry
	for _, d := range r.index.Manifests {
		queue = append(queue, entry{d, 0})
	}
	for len(queue) > 0 {
		e := queue[0]
		queue = queue[1:]
		if seen[e.d.Digest] || !(isManifest(e.d.MediaType) || isIndex(e.d.MediaType)) {
			continue
		}
		seen[e.d.Digest] = true
		if err := tooDeep(e.d.MediaType, e.depth); err != nil {
			return err
		}
		size, err := r.BlobSize(ctx, e.d.Digest)
		if errors.Is(err, ErrBlobNotInImage) {
			continue
		}
		if err != nil {
			return err
		}
		d := v1.Descriptor{MediaType: e.d.MediaType, Digest: e.d.Digest, Size: size}
		if err := budget.spend(d); err != nil {
			return err
		}
		raw, err := r.readMeta(ctx, d)
		if err != nil {
			return err
		}
		visit(e.d, raw)
		if isIndex(d.MediaType) {
			idx, err := v1.ParseIndexManifest(bytes.NewReader(raw))
			if err != nil {
				continue // served as it is; it lists nothing to walk
			}
			if visits += len(idx.Manifests); visits > maxIndexVisits {
				return fmt.Errorf("image indexes list more than %d entries", maxIndexVisits)
			}
			for _, child := range idx.Manifests {
				queue = append(queue, entry{child, e.depth + 1})
			}
		}
	}
	return nil
}
