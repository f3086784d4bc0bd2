package image

import (
	"errors"
	"fmt"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// maxMetadataTotal bounds an image's metadata (indexes, manifests and
// configs) in all, as maxMetadataSize bounds each blob. Blobs alike but for
// their last bytes share every 1 MiB chunk but the last, so a DAG or a
// gzip'd archive of a few hundred KB can hold dozens of distinct 3 MiB
// manifests, which a walk reads and keeps: 40 of them took a plan 379 MiB
// of heap, and an index.json can list 25,000. Real images have kilobytes
// of metadata apiece; 64 MiB is sixteen of the largest blobs allowed.
const maxMetadataTotal = 64 << 20

// ErrMetadataOverBudget matches the error for an image whose metadata is
// more than maxMetadataTotal in all: no retry can read it.
var ErrMetadataOverBudget = errors.New("image metadata (indexes, manifests, configs) is over the limit")

// metaBudget charges each distinct metadata blob one walk of an image
// reads (or, for configs, names) against maxMetadataTotal, before it is
// read.
type metaBudget struct {
	mu      sync.Mutex
	spent   int64
	charged map[v1.Hash]bool
}

func newMetaBudget() *metaBudget { return &metaBudget{charged: map[v1.Hash]bool{}} }

// spend charges d, once however often it is read, or says the image's
// metadata exceeds the limit.
func (b *metaBudget) spend(d v1.Descriptor) error {
	if d.Size < 0 {
		return fmt.Errorf("blob %s: negative size %d", d.Digest, d.Size)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.charged[d.Digest] {
		return nil
	}
	b.charged[d.Digest] = true
	if b.spent += d.Size; b.spent > maxMetadataTotal {
		return fmt.Errorf("%w of %d MiB in all, at blob %s", ErrMetadataOverBudget, maxMetadataTotal>>20, d.Digest)
	}
	return nil
}
