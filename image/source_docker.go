package image

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
)

const dockerManifestFile = "manifest.json"

// dockerArchiveImage is one entry of a docker-archive's manifest.json.
type dockerArchiveImage struct {
	Config       string
	RepoTags     []string
	Layers       []string
	LayerSources map[string]json.RawMessage `json:",omitempty"`
}

// dockerIndex turns a docker-archive's manifest.json into an OCI index over
// OCI manifests that point at the archive's config and layer files exactly
// as they are: nothing is recompressed, so the image ID (the config digest)
// and the layer digests stay what docker saved. Each RepoTag becomes a
// descriptor carrying it as the image's ref name.
func (a *archive) dockerIndex(ctx context.Context) ([]byte, error) {
	raw, err := a.readPath(ctx, dockerManifestFile)
	if err != nil {
		return nil, err
	}
	var images []dockerArchiveImage
	if err := json.Unmarshal(raw, &images); err != nil {
		return nil, fmt.Errorf("docker-archive manifest.json: %w", err)
	}
	if len(images) == 0 {
		return nil, fmt.Errorf("docker-archive manifest.json lists no image")
	}
	// Each image, layer and tag named costs a config read, a descriptor
	// or an index entry, far more than its few bytes of manifest.json:
	// an image may have no more of them than blobs.
	listed := 0
	for _, img := range images {
		if listed += 1 + len(img.Layers) + len(img.RepoTags); listed > maxBlobs {
			return nil, fmt.Errorf("docker-archive manifest.json lists more than %d images, layers and tags in all", maxBlobs)
		}
	}
	configs := dockerConfigs{budget: newMetaBudget(), parsed: map[v1.Hash]*v1.ConfigFile{}}
	idx := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
	for _, img := range images {
		desc, err := a.dockerManifest(ctx, img, configs)
		if err != nil {
			return nil, err
		}
		if len(img.RepoTags) == 0 {
			idx.Manifests = append(idx.Manifests, desc)
		}
		for _, tag := range img.RepoTags {
			named := desc
			named.Annotations = map[string]string{AnnotationRefName: tag}
			idx.Manifests = append(idx.Manifests, named)
		}
	}
	return json.Marshal(idx)
}

// dockerConfigs are the configs a docker-archive's images name, each read
// once however many images share it (under whatever names), and all
// charged to one budget.
type dockerConfigs struct {
	budget *metaBudget
	parsed map[v1.Hash]*v1.ConfigFile
}

func (a *archive) dockerConfig(ctx context.Context, name string, configs dockerConfigs) (*v1.ConfigFile, error) {
	f, ok := a.byPath[name]
	if !ok {
		return nil, fmt.Errorf("docker-archive config: archive has no %s", name)
	}
	if cf, ok := configs.parsed[f.digest]; ok {
		return cf, nil
	}
	if err := configs.budget.spend(v1.Descriptor{Digest: f.digest, Size: f.size}); err != nil {
		return nil, err
	}
	raw, err := a.readPath(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("docker-archive config: %w", err)
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("docker-archive config %s: %w", name, err)
	}
	configs.parsed[f.digest] = cf
	return cf, nil
}

func (a *archive) dockerManifest(ctx context.Context, img dockerArchiveImage, configs dockerConfigs) (v1.Descriptor, error) {
	if len(img.LayerSources) > 0 {
		return v1.Descriptor{}, fmt.Errorf("docker-archive image %s has foreign layers, which imgp2p does not carry", img.Config)
	}
	cfgName, err := entryName(img.Config)
	if err != nil {
		return v1.Descriptor{}, err
	}
	cf, err := a.dockerConfig(ctx, cfgName, configs)
	if err != nil {
		return v1.Descriptor{}, err
	}
	cfg := a.byPath[cfgName]
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        v1.Descriptor{MediaType: types.OCIConfigJSON, Digest: cfg.digest, Size: cfg.size},
	}
	for _, l := range img.Layers {
		name, err := entryName(l)
		if err != nil {
			return v1.Descriptor{}, err
		}
		f, ok := a.byPath[name]
		if !ok {
			return v1.Descriptor{}, fmt.Errorf("docker-archive layer %s is missing from the archive", name)
		}
		mt, err := a.layerMediaType(ctx, f)
		if err != nil {
			return v1.Descriptor{}, fmt.Errorf("docker-archive layer %s: %w", name, err)
		}
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: mt, Digest: f.digest, Size: f.size})
	}
	mraw, err := json.Marshal(m)
	if err != nil {
		return v1.Descriptor{}, err
	}
	mf, err := addBytes(ctx, a.dag, mraw)
	if err != nil {
		return v1.Descriptor{}, err
	}
	a.byDigest[mf.digest] = mf
	d := v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: mf.digest, Size: mf.size}
	// A config naming no platform (docker save always names one; other
	// tools may not) must not claim the empty one "/", which no pull
	// would match: without one, the image suits any platform.
	if cf.OS != "" && cf.Architecture != "" {
		d.Platform = &v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}
	}
	return d, nil
}

// layerMediaType tells a layer's compression from its first bytes, since a
// docker-archive does not record it.
func (a *archive) layerMediaType(ctx context.Context, f addedFile) (types.MediaType, error) {
	r, err := uio.NewDagReader(ctx, f.node, a.dag)
	if err != nil {
		return "", err
	}
	head := make([]byte, 4)
	n, err := io.ReadFull(r, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return "", err
	}
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return types.OCILayer, nil
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return types.OCILayerZStd, nil
	default:
		return types.OCIUncompressedLayer, nil
	}
}
