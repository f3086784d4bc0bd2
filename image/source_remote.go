package image

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	ipld "github.com/ipfs/go-ipld-format"
)

// ImportRemote imports from a registry the image or image index that ref
// (HOST/REPO:TAG or HOST/REPO@sha256:…) names, streaming each blob into
// the DAG. Manifests are stored as the registry served them, so digests do
// not change. The root's index.json names the image by ref, as written.
func ImportRemote(ctx context.Context, dag ipld.DAGService, ref string, opts ImportOptions, ro RemoteOptions) (Imported, error) {
	r, err := ro.parse(ref)
	if err != nil {
		return Imported{}, err
	}
	ropts, err := ro.remote(ctx, r.Context().Registry)
	if err != nil {
		return Imported{}, err
	}
	puller, err := remote.NewPuller(ropts...)
	if err != nil {
		return Imported{}, err
	}
	got, err := puller.Get(ctx, r)
	if err != nil {
		return Imported{}, registryError(r, err)
	}
	top := v1.Descriptor{
		MediaType:   topMediaType(got.MediaType, got.Manifest),
		Size:        got.Size,
		Digest:      got.Digest,
		Annotations: map[string]string{AnnotationRefName: ref},
	}
	if !isIndex(top.MediaType) && !isManifest(top.MediaType) {
		return Imported{}, fmt.Errorf("%s is a %q, not an image or image index imgp2p can store", ref, top.MediaType)
	}
	if isManifest(top.MediaType) {
		// What ggcr's layout writer records for an image: the manifest's
		// artifactType, else its config's media type (image-spec 1.1).
		top.ArtifactType = got.ArtifactType
	}
	// index.json is written byte for byte as go-containerregistry's layout
	// writer (crane pull --format oci) writes it, so a layout of the same
	// image under the same name gives the same root CID.
	index, err := json.MarshalIndent(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{top}}, "", "   ")
	if err != nil {
		return Imported{}, err
	}
	src := &registrySource{dag: dag, puller: puller, repo: r.Context(), meta: map[v1.Hash][]byte{top.Digest: got.Manifest}}
	return build(ctx, dag, src, index, opts)
}

// topMediaType is the media type of a manifest fetched by tag: the
// registry's Content-Type, or the manifest's own field when the registry
// sends none of the types imgp2p knows.
func topMediaType(header types.MediaType, raw []byte) types.MediaType {
	if isIndex(header) || isManifest(header) {
		return header
	}
	var m struct{ MediaType types.MediaType }
	if json.Unmarshal(raw, &m) == nil && m.MediaType != "" {
		return m.MediaType
	}
	return header
}

// registrySource reads blobs from one registry repository as the importer
// reaches them: manifests from the manifest endpoint, everything else
// streamed from the blob endpoint.
type registrySource struct {
	dag    ipld.DAGService
	puller *remote.Puller
	repo   name.Repository
	// meta holds the bytes of the metadata read so far, starting with the
	// top manifest, so that nothing is requested twice when a platform
	// filter makes the importer start over.
	meta map[v1.Hash][]byte
}

func (s *registrySource) add(ctx context.Context, d v1.Descriptor, keep bool) (addedFile, []byte, error) {
	if raw, ok := s.meta[d.Digest]; ok {
		return s.store(ctx, d, bytes.NewReader(raw), keep)
	}
	at := s.repo.Digest(d.Digest.String())
	if isIndex(d.MediaType) || isManifest(d.MediaType) {
		got, err := s.puller.Get(ctx, at)
		if err != nil {
			return addedFile{}, nil, registryError(at, err)
		}
		return s.store(ctx, d, bytes.NewReader(got.Manifest), keep)
	}
	layer, err := s.puller.Layer(ctx, at)
	if err != nil {
		return addedFile{}, nil, registryError(at, err)
	}
	rc, err := layer.Compressed()
	if err != nil {
		return addedFile{}, nil, registryError(at, err)
	}
	defer rc.Close()
	return s.store(ctx, d, rc, keep)
}

// store adds r's bytes as blob d and checks them against d. It reads at
// most one byte more than d promises, so a registry that streams without
// end cannot fill the repo.
func (s *registrySource) store(ctx context.Context, d v1.Descriptor, r io.Reader, keep bool) (addedFile, []byte, error) {
	r = io.LimitReader(r, d.Size+1)
	var kept bytes.Buffer
	if keep {
		r = io.TeeReader(r, &kept)
	}
	f, err := addFile(ctx, s.dag, r)
	if err != nil {
		return addedFile{}, nil, fmt.Errorf("blob %s: %w", d.Digest, err)
	}
	if err := f.verify(d); err != nil {
		return addedFile{}, nil, err
	}
	if keep {
		s.meta[d.Digest] = kept.Bytes()
	}
	return f, kept.Bytes(), nil
}
