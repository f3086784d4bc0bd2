package image

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// ExportOptions choose what of a root to write.
type ExportOptions struct {
	// Platform keeps only images for this platform; nil keeps all.
	Platform *v1.Platform
}

// Export is a plan for writing part or all of a root: the image manifests
// chosen and every blob they need, in the order they will be written.
type Export struct {
	root      *Root
	filtered  bool
	manifests []v1.Descriptor
	blobs     []v1.Descriptor
}

// Plan reads the root's metadata (index, manifests, configs) and decides
// which blobs an export needs. Nothing but metadata is fetched.
func (r *Root) Plan(ctx context.Context, opts ExportOptions) (*Export, error) {
	budget := newMetaBudget()
	manifests, err := selectManifests(ctx, r.readMeta, r.index, opts.Platform, budget)
	if err != nil {
		return nil, err
	}
	if len(manifests) == 0 {
		all, _ := selectManifests(ctx, r.readMeta, r.index, nil, newMetaBudget())
		if opts.Platform != nil && artifactsOnly(all) {
			return nil, fmt.Errorf("image %s holds no container image, only %d artifact(s) such as signatures or SBOMs: write it as a layout with --format oci", r.CID, len(all))
		}
		if opts.Platform != nil && len(all) > 0 {
			return nil, fmt.Errorf("image %s has no image for platform %s (it has %v); choose one with --platform", r.CID, formatPlatform(opts.Platform), platformList(all))
		}
		return nil, fmt.Errorf("image %s holds no image manifest", r.CID)
	}
	e := &Export{root: r, filtered: opts.Platform != nil, manifests: manifests}
	seen := map[v1.Hash]bool{}
	var walk func(d v1.Descriptor, depth int) error
	walk = func(d v1.Descriptor, depth int) error {
		if err := tooDeep(d.MediaType, depth); err != nil {
			return err
		}
		if err := checkDescriptor(d); err != nil {
			return err
		}
		if seen[d.Digest] {
			return nil
		}
		// Push refuses more; a root built otherwise is refused here,
		// before its blobs are fetched.
		if len(e.blobs) >= maxBlobs {
			return fmt.Errorf("image has more than %d blobs", maxBlobs)
		}
		seen[d.Digest] = true
		e.blobs = append(e.blobs, d)
		if isIndex(d.MediaType) || isManifest(d.MediaType) {
			if err := budget.spend(d); err != nil {
				return err
			}
		}
		switch {
		case isIndex(d.MediaType):
			raw, err := r.readMeta(ctx, d)
			if err != nil {
				return err
			}
			idx, err := v1.ParseIndexManifest(bytes.NewReader(raw))
			if err != nil {
				return fmt.Errorf("index %s: %w", d.Digest, err)
			}
			for _, child := range idx.Manifests {
				if err := walk(child, depth+1); err != nil {
					return err
				}
			}
		case isManifest(d.MediaType):
			raw, err := r.readMeta(ctx, d)
			if err != nil {
				return err
			}
			m, err := v1.ParseManifest(bytes.NewReader(raw))
			if err != nil {
				return fmt.Errorf("manifest %s: %w", d.Digest, err)
			}
			// A docker-archive's writer reads and keeps every config.
			if err := budget.spend(m.Config); err != nil {
				return err
			}
			for _, child := range append([]v1.Descriptor{m.Config}, m.Layers...) {
				if err := walk(child, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	top := manifests
	if !e.filtered {
		// Unfiltered exports keep nested indexes as they are.
		top = r.index.Manifests
	}
	for _, d := range top {
		if err := walk(d, 0); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// ReadingFrom returns the same export reading blob contents from dag.
func (e *Export) ReadingFrom(dag ipld.DAGService) *Export {
	c := *e
	c.root = e.root.ReadingFrom(dag)
	return &c
}

// Blobs lists every blob the export writes.
func (e *Export) Blobs() []v1.Descriptor { return e.blobs }

// BlobCIDs resolves the file CIDs of Blobs, for prefetching and for
// checking what is already local.
func (e *Export) BlobCIDs(ctx context.Context) ([]cid.Cid, error) {
	out := make([]cid.Cid, 0, len(e.blobs))
	for _, d := range e.blobs {
		c, err := e.root.BlobCID(ctx, d.Digest)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Size is the total size of the blobs the export writes.
func (e *Export) Size() int64 {
	var n int64
	for _, d := range e.blobs {
		n += d.Size
	}
	return n
}

// Names lists the ref names the exported images carry.
func (e *Export) Names() []string { return refNames(e.manifests) }

// Platforms lists the exported images' platforms.
func (e *Export) Platforms() []string { return platformList(e.manifests) }

// indexJSON is the exported index.json: the root's own bytes unless a
// platform filter dropped images.
func (e *Export) indexJSON() ([]byte, error) {
	if !e.filtered {
		return e.root.rawIndex, nil
	}
	return json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: e.manifests})
}

// WriteOCIArchive writes the export as a tar of an OCI image layout.
func (e *Export) WriteOCIArchive(ctx context.Context, w io.Writer) error {
	index, err := e.indexJSON()
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	for _, dir := range []string{blobsDir + "/", blobsDir + "/" + algorithmDir + "/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755, ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{layoutFile, []byte(layoutVersion)}, {indexFile, index}} {
		if err := writeTarFile(tw, f.name, int64(len(f.data)), bytes.NewReader(f.data)); err != nil {
			return err
		}
	}
	for _, d := range e.blobs {
		rc, err := e.root.OpenBlob(ctx, d)
		if err != nil {
			return err
		}
		err = writeTarFile(tw, blobsDir+"/"+algorithmDir+"/"+d.Digest.Hex, d.Size, rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return tw.Close()
}

func writeTarFile(tw *tar.Writer, name string, size int64, r io.Reader) error {
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644, ModTime: time.Unix(0, 0)}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if _, err := io.Copy(tw, r); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
