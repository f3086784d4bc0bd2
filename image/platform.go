package image

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ParsePlatform reads os/arch[/variant], as docker's --platform does.
func ParsePlatform(s string) (*v1.Platform, error) {
	p, err := v1.ParsePlatform(s)
	if err != nil || p.OS == "" || p.Architecture == "" {
		return nil, fmt.Errorf("invalid platform %q: want os/arch[/variant], e.g. linux/amd64", s)
	}
	// An architecture's default variant is what images leave unsaid:
	// most arm64 images name no variant, some say v8, and docker and
	// containerd take linux/arm64/v8 for either. With no variant asked
	// for, any matches.
	if defaultVariant[p.Architecture] == p.Variant {
		p.Variant = ""
	}
	return p, nil
}

// defaultVariant is containerd's (platforms.Normalize) for the
// architectures whose variant it drops.
var defaultVariant = map[string]string{"arm64": "v8", "amd64": "v1"}

// HostPlatform is the platform a local container engine runs: engines on
// any OS run Linux images, so only the architecture comes from the host.
func HostPlatform() *v1.Platform {
	return &v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
}

func formatPlatform(p *v1.Platform) string {
	if p == nil {
		return "unknown"
	}
	parts := []string{p.OS, p.Architecture}
	if p.Variant != "" {
		parts = append(parts, p.Variant)
	}
	s := strings.Join(parts, "/")
	// Shown as --platform takes it: a request for an OS version must say
	// which one, or "no linux/amd64 (it has linux/amd64)" reads as a bug.
	if p.OSVersion != "" {
		s += ":" + p.OSVersion
	}
	return s
}

// metaReader returns the verified bytes of a small metadata blob (index,
// manifest or config).
type metaReader func(ctx context.Context, d v1.Descriptor) ([]byte, error)

// maxIndexVisits bounds the index entries a walk visits. Three indexes
// that each listed the next one 100 times made a 700 KB layout take
// minutes and gigabytes, before an entry repeating an earlier one exactly
// was skipped; this bounds what entries that differ only in annotations
// can still multiply. An image of that many manifests would exceed
// maxBlobs anyway.
const maxIndexVisits = maxBlobs

// entryKey is what makes two index entries the same entry: everything a
// walk takes from one (digest, annotations such as names, platform).
func entryKey(d v1.Descriptor) string {
	key, _ := json.Marshal(struct {
		Digest      v1.Hash
		Annotations map[string]string
		Platform    *v1.Platform
	}{d.Digest, d.Annotations, d.Platform})
	return string(key)
}

// selectManifests flattens idx to the image manifests it names, keeping
// those for want (all when want is nil). Annotations of an enclosing index
// descriptor (such as a ref name) carry over to its children. An entry
// repeating an earlier one exactly, annotations and platform included, is
// taken once. Every index, manifest and config read is charged to budget.
func selectManifests(ctx context.Context, read metaReader, idx *v1.IndexManifest, want *v1.Platform, budget *metaBudget) ([]v1.Descriptor, error) {
	var out []v1.Descriptor
	seen := map[string]bool{}
	visits := 0
	raws := map[v1.Hash][]byte{}
	readOnce := func(ctx context.Context, d v1.Descriptor) ([]byte, error) {
		if raw, ok := raws[d.Digest]; ok {
			return raw, nil
		}
		if err := budget.spend(d); err != nil {
			return nil, err
		}
		raw, err := read(ctx, d)
		if err == nil {
			raws[d.Digest] = raw
		}
		return raw, err
	}
	var walk func(idx *v1.IndexManifest, inherited map[string]string, depth int) error
	walk = func(idx *v1.IndexManifest, inherited map[string]string, depth int) error {
		if depth > maxNesting {
			return fmt.Errorf("image indexes nested deeper than %d", maxNesting)
		}
		if visits += len(idx.Manifests); visits > maxIndexVisits {
			return fmt.Errorf("image indexes list more than %d entries", maxIndexVisits)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		for _, d := range idx.Manifests {
			if err := checkDescriptor(d); err != nil {
				return err
			}
			d.Annotations = mergeAnnotations(inherited, d.Annotations)
			switch {
			case isIndex(d.MediaType):
				key := entryKey(d)
				if seen[key] {
					continue // lists nothing new
				}
				seen[key] = true
				raw, err := readOnce(ctx, d)
				if err != nil {
					return err
				}
				child, err := v1.ParseIndexManifest(bytes.NewReader(raw))
				if err != nil {
					return fmt.Errorf("index %s: %w", d.Digest, err)
				}
				if err := walk(child, d.Annotations, depth+1); err != nil {
					return err
				}
			case isManifest(d.MediaType):
				key := entryKey(d)
				if seen[key] {
					continue
				}
				seen[key] = true
				// An image that names no platform suits any; an artifact
				// (a signature, an SBOM) suits none: a filter is asked for
				// an image to load or run, and docker load refuses an
				// archive holding an artifact as an image.
				image := true
				if d.Platform == nil {
					p, isImage, err := configPlatform(ctx, readOnce, d)
					if err != nil {
						return err
					}
					d.Platform, image = p, isImage
				}
				switch {
				case want == nil,
					d.Platform == nil && image,
					d.Platform != nil && d.Platform.Satisfies(*want):
					out = append(out, d)
				}
			}
		}
		return nil
	}
	if err := walk(idx, nil, 0); err != nil {
		return nil, err
	}
	return out, nil
}

// configPlatform reads a manifest's config to learn its platform; nil when
// the config does not say. image is false for an artifact: a manifest
// whose config is not an image config or whose layers are not filesystem
// layers.
func configPlatform(ctx context.Context, read metaReader, d v1.Descriptor) (p *v1.Platform, image bool, err error) {
	raw, err := read(ctx, d)
	if err != nil {
		return nil, false, err
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, false, fmt.Errorf("manifest %s: %w", d.Digest, err)
	}
	if err := checkDescriptor(m.Config); err != nil {
		return nil, false, fmt.Errorf("manifest %s: config: %w", d.Digest, err)
	}
	if image = IsContainerImage(m); !image || m.Config.Size > maxMetadataSize {
		return nil, image, nil
	}
	raw, err = read(ctx, m.Config)
	if err != nil {
		return nil, false, err
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(raw))
	if err != nil || cf.OS == "" || cf.Architecture == "" {
		return nil, true, nil
	}
	return cf.Platform(), true, nil
}

// IsContainerImage tells an image a container engine can load from an
// artifact stored as an image manifest (cosign's signatures use an image
// config media type, so the layers must be checked too).
func IsContainerImage(m *v1.Manifest) bool {
	if m.Config.MediaType != "" && !m.Config.MediaType.IsConfig() {
		return false
	}
	for _, l := range m.Layers {
		// Prefixes, not a list: encrypted (+encrypted) and future
		// compressions of a layer are layers too.
		mt := string(l.MediaType)
		if !strings.HasPrefix(mt, "application/vnd.oci.image.layer.") && !strings.HasPrefix(mt, "application/vnd.docker.image.rootfs.") {
			return false
		}
	}
	return true
}

// artifactsOnly says whether a selection with no platform filter holds
// artifacts alone: an image without a platform would pass any filter, so a
// filter that kept nothing of entries that all lack one met artifacts only.
func artifactsOnly(all []v1.Descriptor) bool {
	for _, d := range all {
		if d.Platform != nil {
			return false
		}
	}
	return len(all) > 0
}

func mergeAnnotations(outer, inner map[string]string) map[string]string {
	if len(outer) == 0 {
		return inner
	}
	merged := make(map[string]string, len(outer)+len(inner))
	for k, v := range outer {
		merged[k] = v
	}
	for k, v := range inner {
		merged[k] = v
	}
	return merged
}

// platformList names the distinct platforms of descs, for messages and ls.
func platformList(descs []v1.Descriptor) []string {
	var out []string
	seen := map[string]bool{}
	for _, d := range descs {
		s := formatPlatform(d.Platform)
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
