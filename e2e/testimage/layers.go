package testimage

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// LayersRef is the ref.name annotation of a WriteRandomLayers layout.
const LayersRef = "imgp2p-test/layers:v1"

// WriteRandomLayers writes an OCI layout holding a linux/goarch image with
// one incompressible layer per entry of mibs (that many MiB each, layer i
// from seed+i), tagged LayersRef: a big image whose blobs a pull fetches
// several at a time.
func WriteRandomLayers(dir string, mibs []int, seed uint64, goarch string) error {
	if len(mibs) == 0 {
		return fmt.Errorf("WriteRandomLayers: no layers")
	}
	first, err := randomLayer(mibs[0], seed)
	if err != nil {
		return fmt.Errorf("random layer 0: %w", err)
	}
	img, err := newImage(first, goarch, []string{"/random.bin"})
	if err != nil {
		return err
	}
	for i, n := range mibs[1:] {
		layer, err := randomLayer(n, seed+uint64(i)+1)
		if err != nil {
			return fmt.Errorf("random layer %d: %w", i+1, err)
		}
		img, err = mutate.Append(img, mutate.Addendum{
			Layer:     layer,
			MediaType: types.OCILayer,
			History:   v1.History{Created: v1.Time{Time: Epoch}, CreatedBy: "imgp2p testimage"},
		})
		if err != nil {
			return fmt.Errorf("appending layer %d: %w", i+1, err)
		}
	}
	return writeImageLayout(dir, img, LayersRef)
}
