package image

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// kuboFiles is how `ipfs add --cid-version=1` cuts files by default, which
// nerdctl's converter relies on: 256 KiB chunks, 174 links per node.
var kuboFiles = fileLayout{chunkSize: 256 << 10, maxLinks: 174}

// Nerdctl is an image written in nerdctl's format.
type Nerdctl struct {
	Root cid.Cid
	// Files are the blob files the root's urls name. Nothing links them
	// to the root, so pinning the root alone would not keep them.
	Files []cid.Cid
}

// WriteNerdctl writes the image under a native root in nerdctl's format,
// as its converter does: each blob a UnixFS file with Kubo's default
// parameters, Docker media types turned into OCI ones, "urls" set to the
// blob's ipfs:// CID on every descriptor, manifests and indexes
// re-serialized with json.Marshal of the image-spec structs (so their
// digests change), and the root the marshalled top descriptor.
func WriteNerdctl(ctx context.Context, dag ipld.DAGService, native cid.Cid) (Nerdctl, error) {
	r, err := Open(ctx, dag, native)
	if err != nil {
		return Nerdctl{}, err
	}
	w := &nerdctlWriter{root: r, dag: dag, done: map[digest.Digest]ocispec.Descriptor{}}
	var top ocispec.Descriptor
	var entries []ocispec.Descriptor
	if err := json.Unmarshal(r.rawIndex, &struct {
		Manifests *[]ocispec.Descriptor `json:"manifests"`
	}{&entries}); err != nil {
		return Nerdctl{}, err
	}
	if len(entries) == 1 {
		top, err = w.convert(ctx, entries[0], 0)
	} else {
		// Several images: nerdctl pushes one target, so gather them.
		top, err = w.writeIndex(ctx, ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, Manifests: entries}, 0)
	}
	if err != nil {
		return Nerdctl{}, err
	}
	// The root names the image only: no platform, no annotations.
	top = ocispec.Descriptor{MediaType: top.MediaType, Digest: top.Digest, Size: top.Size, URLs: top.URLs}
	raw, err := json.Marshal(top)
	if err != nil {
		return Nerdctl{}, err
	}
	f, err := addFileWith(ctx, dag, bytes.NewReader(raw), kuboFiles)
	if err != nil {
		return Nerdctl{}, err
	}
	return Nerdctl{Root: f.node.Cid(), Files: w.files}, nil
}

type nerdctlWriter struct {
	root  *Root
	dag   ipld.DAGService
	done  map[digest.Digest]ocispec.Descriptor
	files []cid.Cid
}

// ociMediaType is containerd's Docker-to-OCI media type conversion.
func ociMediaType(mt string) string {
	switch types.MediaType(mt) {
	case types.DockerManifestSchema2:
		return string(types.OCIManifestSchema1)
	case types.DockerManifestList:
		return string(types.OCIImageIndex)
	case types.DockerConfigJSON:
		return string(types.OCIConfigJSON)
	case types.DockerLayer:
		return string(types.OCILayer)
	case types.DockerUncompressedLayer:
		return string(types.OCIUncompressedLayer)
	case types.DockerForeignLayer:
		return string(types.OCIRestrictedLayer)
	}
	return mt
}

func v1Desc(d ocispec.Descriptor) (v1.Descriptor, error) {
	h, err := v1.NewHash(d.Digest.String())
	if err != nil {
		return v1.Descriptor{}, err
	}
	return v1.Descriptor{MediaType: types.MediaType(d.MediaType), Digest: h, Size: d.Size}, nil
}

// convert writes the blob d names (and, for indexes and manifests, what
// they name) and returns d as nerdctl's format describes it.
func (w *nerdctlWriter) convert(ctx context.Context, d ocispec.Descriptor, depth int) (ocispec.Descriptor, error) {
	if err := tooDeep(types.MediaType(d.MediaType), depth); err != nil {
		return d, err
	}
	if done, ok := w.done[d.Digest]; ok {
		return withPlacement(done, d), nil
	}
	vd, err := v1Desc(d)
	if err != nil {
		return d, err
	}
	var out ocispec.Descriptor
	switch {
	case isIndex(vd.MediaType):
		raw, err := w.root.readMeta(ctx, vd)
		if err != nil {
			return d, err
		}
		var idx ocispec.Index
		if err := json.Unmarshal(raw, &idx); err != nil {
			return d, fmt.Errorf("index %s: %w", d.Digest, err)
		}
		out, err = w.writeIndex(ctx, idx, depth)
		if err != nil {
			return d, err
		}
	case isManifest(vd.MediaType):
		raw, err := w.root.readMeta(ctx, vd)
		if err != nil {
			return d, err
		}
		var m ocispec.Manifest
		if err := json.Unmarshal(raw, &m); err != nil {
			return d, fmt.Errorf("manifest %s: %w", d.Digest, err)
		}
		if m.Config, err = w.convert(ctx, m.Config, depth+1); err != nil {
			return d, err
		}
		for i := range m.Layers {
			if m.Layers[i], err = w.convert(ctx, m.Layers[i], depth+1); err != nil {
				return d, err
			}
		}
		m.MediaType = ocispec.MediaTypeImageManifest
		if out, err = w.writeJSON(ctx, m, m.MediaType); err != nil {
			return d, err
		}
	default:
		rc, err := w.root.OpenBlob(ctx, vd)
		if err != nil {
			return d, err
		}
		f, err := addFileWith(ctx, w.dag, rc, kuboFiles)
		rc.Close()
		if err != nil {
			return d, fmt.Errorf("blob %s: %w", d.Digest, err)
		}
		w.files = append(w.files, f.node.Cid())
		out = ocispec.Descriptor{MediaType: ociMediaType(d.MediaType), Digest: d.Digest, Size: d.Size, URLs: []string{"ipfs://" + f.node.Cid().String()}}
	}
	w.done[d.Digest] = out
	return withPlacement(out, d), nil
}

func (w *nerdctlWriter) writeIndex(ctx context.Context, idx ocispec.Index, depth int) (ocispec.Descriptor, error) {
	for i := range idx.Manifests {
		var err error
		if idx.Manifests[i], err = w.convert(ctx, idx.Manifests[i], depth+1); err != nil {
			return ocispec.Descriptor{}, err
		}
	}
	idx.MediaType = ocispec.MediaTypeImageIndex
	return w.writeJSON(ctx, idx, idx.MediaType)
}

// writeJSON stores v as Go's json.Marshal writes it, as nerdctl does.
func (w *nerdctlWriter) writeJSON(ctx context.Context, v any, mediaType string) (ocispec.Descriptor, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	f, err := addFileWith(ctx, w.dag, bytes.NewReader(raw), kuboFiles)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	w.files = append(w.files, f.node.Cid())
	return ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(raw), Size: int64(len(raw)), URLs: []string{"ipfs://" + f.node.Cid().String()}}, nil
}

// withPlacement keeps what the referring descriptor said about where the
// blob sits (platform, annotations, artifact type) on the converted one.
func withPlacement(converted, original ocispec.Descriptor) ocispec.Descriptor {
	converted.Platform = original.Platform
	converted.Annotations = original.Annotations
	converted.ArtifactType = original.ArtifactType
	return converted
}
