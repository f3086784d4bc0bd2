package testimage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ManyRef is the ref.name annotation of a WriteManyLayers layout.
const ManyRef = "imgp2p-test/many:v1"

// WriteManyLayers writes an OCI layout holding a linux/goarch image of n
// tiny uncompressed layers (one empty file each, named by its index),
// tagged ManyRef. With a few thousand, the layout's blobs/sha256 directory
// is more than 256 KiB of links, so an import under the UnixFS 2025
// profile (imgp2p's or Kubo's) shards it as a HAMT. The layout is written
// blob by blob: ggcr's mutate took 23 s over 3000 layers.
func WriteManyLayers(dir string, n int, goarch string) error {
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("creating layout %s: %w", dir, err)
	}
	put := func(mt types.MediaType, b []byte) (v1.Descriptor, error) {
		h, size, err := v1.SHA256(bytes.NewReader(b))
		if err != nil {
			return v1.Descriptor{}, err
		}
		return v1.Descriptor{MediaType: mt, Digest: h, Size: size}, p.WriteBlob(h, io.NopCloser(bytes.NewReader(b)))
	}
	cf := v1.ConfigFile{OS: "linux", Architecture: goarch, Created: v1.Time{Time: Epoch}, RootFS: v1.RootFS{Type: "layers"}}
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1}
	for i := range n {
		var buf bytes.Buffer
		if err := tarFile(&buf, fmt.Sprintf("f%d", i), 0o644, 0, bytes.NewReader(nil)); err != nil {
			return err
		}
		d, err := put(types.OCIUncompressedLayer, buf.Bytes())
		if err != nil {
			return err
		}
		m.Layers = append(m.Layers, d)
		cf.RootFS.DiffIDs = append(cf.RootFS.DiffIDs, d.Digest) // uncompressed: the same
	}
	raw, err := json.Marshal(cf)
	if err != nil {
		return err
	}
	if m.Config, err = put(types.OCIConfigJSON, raw); err != nil {
		return err
	}
	if raw, err = json.Marshal(m); err != nil {
		return err
	}
	d, err := put(types.OCIManifestSchema1, raw)
	if err != nil {
		return err
	}
	d.Annotations = map[string]string{RefNameAnnotation: ManyRef}
	if err := p.AppendDescriptor(d); err != nil {
		return err
	}
	return normalizeModes(dir)
}
