package image

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// ImportOptions tune an import.
type ImportOptions struct {
	// Platform keeps only the images for this platform; nil keeps all.
	Platform *v1.Platform
}

// Imported describes an image root written to the DAG.
type Imported struct {
	Root      cid.Cid
	Names     []string
	Platforms []string
	// Size is the total size of the image's blobs.
	Size int64
}

// blobSource hands the importer a source's blobs by descriptor.
type blobSource interface {
	// add stores the blob d names and checks it against d. With keep it
	// also returns the bytes, for metadata the importer must parse.
	add(ctx context.Context, d v1.Descriptor, keep bool) (addedFile, []byte, error)
}

// ImportPath imports an OCI layout directory or an image tar archive
// (docker-archive or oci-archive, optionally gzip-compressed).
func ImportPath(ctx context.Context, dag ipld.DAGService, path string, opts ImportOptions) (Imported, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Imported{}, err
	}
	if st.IsDir() {
		return ImportLayout(ctx, dag, path, opts)
	}
	f, err := os.Open(path)
	if err != nil {
		return Imported{}, err
	}
	defer f.Close()
	return ImportArchive(ctx, dag, f, opts)
}

// ImportLayout imports the OCI image layout in dir.
func ImportLayout(ctx context.Context, dag ipld.DAGService, dir string, opts ImportOptions) (Imported, error) {
	index, err := readLayoutIndex(dir)
	if err != nil {
		return Imported{}, err
	}
	return build(ctx, dag, &layoutDir{dag: dag, dir: dir}, index, opts)
}

// build writes the image root for the layout whose index.json is index,
// taking blobs from src.
func build(ctx context.Context, dag ipld.DAGService, src blobSource, index []byte, opts ImportOptions) (Imported, error) {
	idx, err := v1.ParseIndexManifest(bytes.NewReader(index))
	if err != nil {
		return Imported{}, fmt.Errorf("parse index.json: %w", err)
	}
	b := &layoutBuilder{dag: dag, src: src, blobs: map[string]addedFile{}, meta: map[string][]byte{}, walked: map[string]bool{}, budget: newMetaBudget()}
	read := func(ctx context.Context, d v1.Descriptor) ([]byte, error) {
		_, raw, err := b.addBlob(ctx, d, true)
		return raw, err
	}
	manifests, err := selectManifests(ctx, read, idx, opts.Platform, b.budget)
	if err != nil {
		return Imported{}, err
	}
	if len(manifests) == 0 && opts.Platform == nil {
		return Imported{}, fmt.Errorf("index.json lists no image manifest or index (%s): nothing to push", describeEntries(idx.Manifests))
	}
	if opts.Platform != nil {
		if len(manifests) == 0 {
			all, _ := selectManifests(ctx, read, idx, nil, newMetaBudget())
			return Imported{}, fmt.Errorf("no image for platform %s (the source has %v)", formatPlatform(opts.Platform), platformList(all))
		}
		// Only index.json is rewritten; every blob stays as it was.
		idx = &v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: manifests}
		if index, err = json.Marshal(idx); err != nil {
			return Imported{}, err
		}
		// Start over so that only the selected images' blobs are kept.
		b.blobs, b.meta = map[string]addedFile{}, map[string][]byte{}
	}
	for _, d := range idx.Manifests {
		if err := b.walk(ctx, d, 0); err != nil {
			if opts.Platform == nil {
				err = b.explainMissing(ctx, manifests, err)
			}
			return Imported{}, err
		}
	}
	root, err := b.writeRoot(ctx, index)
	if err != nil {
		return Imported{}, err
	}
	return Imported{Root: root, Names: refNames(manifests), Platforms: platformList(manifests), Size: b.size()}, nil
}

// layoutBuilder collects the blobs reachable from an index and writes the
// root directory over them.
type layoutBuilder struct {
	dag   ipld.DAGService
	src   blobSource
	blobs map[string]addedFile
	// meta caches the bytes of metadata blobs, which both platform
	// selection and the walk parse.
	meta map[string][]byte
	// walked holds the blobs the walk added, with whatever they name.
	// (Platform selection adds metadata blobs without walking them.)
	walked map[string]bool
	// budget bounds the metadata kept in meta, and the configs named.
	budget *metaBudget
}

func (b *layoutBuilder) addBlob(ctx context.Context, d v1.Descriptor, keep bool) (addedFile, []byte, error) {
	if err := checkDescriptor(d); err != nil {
		return addedFile{}, nil, err
	}
	if keep && d.Size > maxMetadataSize {
		return addedFile{}, nil, fmt.Errorf("blob %s: %d bytes is too large for metadata (limit %d)", d.Digest, d.Size, maxMetadataSize)
	}
	if f, ok := b.blobs[d.Digest.Hex]; ok {
		if raw, cached := b.meta[d.Digest.Hex]; cached || !keep {
			return f, raw, nil
		}
	}
	if len(b.blobs) >= maxBlobs {
		return addedFile{}, nil, fmt.Errorf("image has more than %d blobs", maxBlobs)
	}
	if keep {
		if err := b.budget.spend(d); err != nil {
			return addedFile{}, nil, err
		}
	}
	f, raw, err := b.src.add(ctx, d, keep)
	if err != nil {
		return addedFile{}, nil, err
	}
	if f.verify(d) == nil {
		// Hashed as it was stored: reading it back need not hash it again.
		markVerified(ctx, f.node.Cid(), d)
	}
	b.blobs[d.Digest.Hex] = f
	if keep {
		b.meta[d.Digest.Hex] = raw
	}
	return f, raw, nil
}

// walk adds d's blob and, for indexes and manifests, everything they name.
func (b *layoutBuilder) walk(ctx context.Context, d v1.Descriptor, depth int) error {
	if err := tooDeep(d.MediaType, depth); err != nil {
		return err
	}
	// A blob reached again (an index may list another many times over)
	// adds nothing new, and nor does what it names.
	if b.walked[d.Digest.Hex] {
		return nil
	}
	meta := isIndex(d.MediaType) || isManifest(d.MediaType)
	_, raw, err := b.addBlob(ctx, d, meta)
	if err != nil {
		return err
	}
	b.walked[d.Digest.Hex] = true
	switch {
	case isIndex(d.MediaType):
		idx, err := v1.ParseIndexManifest(bytes.NewReader(raw))
		if err != nil {
			return fmt.Errorf("index %s: %w", d.Digest, err)
		}
		for _, child := range idx.Manifests {
			if err := b.walk(ctx, child, depth+1); err != nil {
				return err
			}
		}
	case isManifest(d.MediaType):
		m, err := v1.ParseManifest(bytes.NewReader(raw))
		if err != nil {
			return fmt.Errorf("manifest %s: %w", d.Digest, err)
		}
		for i, child := range append([]v1.Descriptor{m.Config}, m.Layers...) {
			if err := checkDescriptor(child); err != nil {
				what := "config"
				if i > 0 {
					what = fmt.Sprintf("layer %d", i-1)
				}
				return fmt.Errorf("manifest %s: %s: %w", d.Digest, what, err)
			}
			// Configs are metadata too, which a pull reads and keeps.
			if i == 0 {
				if err := b.budget.spend(child); err != nil {
					return err
				}
			}
			if err := b.walk(ctx, child, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

func (b *layoutBuilder) size() int64 {
	var n int64
	for _, f := range b.blobs {
		n += f.size
	}
	return n
}

// writeRoot stores the layout directory and returns its CID.
func (b *layoutBuilder) writeRoot(ctx context.Context, index []byte) (cid.Cid, error) {
	hexes := make([]string, 0, len(b.blobs))
	for hex := range b.blobs {
		hexes = append(hexes, hex)
	}
	sort.Strings(hexes)
	sha, err := newDir(b.dag)
	if err != nil {
		return cid.Undef, err
	}
	for _, hex := range hexes {
		if err := sha.AddChild(ctx, hex, b.blobs[hex].node); err != nil {
			return cid.Undef, err
		}
	}
	shaNode, err := b.storeDir(ctx, sha)
	if err != nil {
		return cid.Undef, err
	}
	blobs, err := newDir(b.dag)
	if err != nil {
		return cid.Undef, err
	}
	if err := blobs.AddChild(ctx, algorithmDir, shaNode); err != nil {
		return cid.Undef, err
	}
	blobsNode, err := b.storeDir(ctx, blobs)
	if err != nil {
		return cid.Undef, err
	}
	root, err := newDir(b.dag)
	if err != nil {
		return cid.Undef, err
	}
	for name, content := range map[string][]byte{layoutFile: []byte(layoutVersion), indexFile: index} {
		f, err := addBytes(ctx, b.dag, content)
		if err != nil {
			return cid.Undef, err
		}
		if err := root.AddChild(ctx, name, f.node); err != nil {
			return cid.Undef, err
		}
	}
	if err := root.AddChild(ctx, blobsDir, blobsNode); err != nil {
		return cid.Undef, err
	}
	rootNode, err := b.storeDir(ctx, root)
	if err != nil {
		return cid.Undef, err
	}
	return rootNode.Cid(), nil
}

func newDir(dag ipld.DAGService) (uio.Directory, error) {
	return uio.NewDirectory(dag,
		uio.WithCidBuilder(Profile.CidBuilder()),
		uio.WithMaxHAMTFanout(Profile.HAMTShardWidth),
		uio.WithSizeEstimationMode(Profile.HAMTSizeEstimation))
}

func (b *layoutBuilder) storeDir(ctx context.Context, d uio.Directory) (ipld.Node, error) {
	nd, err := d.GetNode()
	if err != nil {
		return nil, err
	}
	return nd, b.dag.Add(ctx, nd)
}

// refNames lists the names the selected images carry, in index order.
func refNames(descs []v1.Descriptor) []string {
	var out []string
	seen := map[string]bool{}
	for _, d := range descs {
		for _, n := range descriptorNames(d) {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out
}

// descriptorNames returns the name a descriptor's annotations give its
// image: containerd's full name when present, else the OCI ref name.
func descriptorNames(d v1.Descriptor) []string {
	if n := d.Annotations[annotationContainerdName]; n != "" {
		return []string{n}
	}
	if n := d.Annotations[AnnotationRefName]; n != "" {
		return []string{n}
	}
	return nil
}

// describeEntries says what an index lists, for an error.
func describeEntries(descs []v1.Descriptor) string {
	if len(descs) == 0 {
		return "no entries"
	}
	types := make([]string, len(descs))
	for i, d := range descs {
		types[i] = string(d.MediaType)
		if types[i] == "" {
			types[i] = "no media type"
		}
	}
	return fmt.Sprintf("%d entries: %s", len(descs), strings.Join(types, ", "))
}
